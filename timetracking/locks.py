"""Transaction-scoped advisory locks of time tracking.

Entry writes take three: one per member (a person's writes are serialised, so an overlap is
always found by the query that can name the other entry, and concurrent writers never
deadlock), a shared one per service month that ``month_lock`` takes exclusively (an entry
cannot slip into a month while it closes, and the close sees every entry committed before it),
and, last, one per patient-month whose summary they recompute (two people's entries for one
patient are summed one after the other, each seeing the other's once committed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date

from django.db import connection

from ccm.errors import InvalidState
from ccm.models import Membership, Practice
from timetracking.selectors import locked_months

_MONTH_LOCK_NAMESPACE = "ccm.timetracking.month"
_MEMBER_LOCK_NAMESPACE = "ccm.timetracking.member"
_PATIENT_MONTH_LOCK_NAMESPACE = "ccm.timetracking.patient_month"


def advisory_key(namespace: str, *parts: object) -> int:
    digest = hashlib.blake2b(":".join([namespace, *map(str, parts)]).encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def lock_member(member: Membership) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [advisory_key(_MEMBER_LOCK_NAMESPACE, member.pk)]
        )


def hold_open_months(*, practice: Practice, service_months: Iterable[date]) -> None:
    """Keep the months from closing until commit, and refuse if one is closed already."""
    months = sorted(set(service_months))
    keys = [advisory_key(_MONTH_LOCK_NAMESPACE, practice.pk, month) for month in months]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock_shared(k) FROM UNNEST(%s::bigint[]) AS k", [keys]
        )
    closed = locked_months(practice=practice, service_months=months)
    if closed:
        month = min(closed)
        raise InvalidState(
            f"{month:%B %Y} is closed for billing: a manager must reopen it before its time "
            "entries change.",
            field="start",
            code="month_locked",
        )


def lock_month_exclusively(practice: Practice, service_month: date) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)",
            [advisory_key(_MONTH_LOCK_NAMESPACE, practice.pk, service_month)],
        )


def lock_patient_months(
    practice: Practice, patient_id: int, service_months: Iterable[date]
) -> None:
    """Until commit, be the only transaction recomputing these months of the patient's time."""
    keys = [
        advisory_key(_PATIENT_MONTH_LOCK_NAMESPACE, practice.pk, patient_id, month)
        for month in sorted(set(service_months))
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(k) FROM UNNEST(%s::bigint[]) AS k", [keys])
