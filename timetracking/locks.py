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
from timetracking.selectors import month_locks_in_force

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


# The member's lock and the months' shared locks; ``hold_open_months`` sends them with the
# locks in force as a third statement, in one round trip (the simple query protocol runs them
# in order, in the caller's transaction). The last is a statement of its own on purpose: under
# READ COMMITTED it takes its snapshot only once the locks are held, so it sees a close that
# committed while we waited.
_HOLD_LOCKS_SQL = (
    "SELECT pg_advisory_xact_lock(k) FROM UNNEST(%s::bigint[]) AS k; "
    "SELECT pg_advisory_xact_lock_shared(k) FROM UNNEST(%s::bigint[]) AS k; "
)


def hold_open_months(
    *, practice: Practice, service_months: Iterable[date], member: Membership | None = None
) -> None:
    """Keep the months from closing until commit, and refuse if one is closed already.

    With ``member``, take that person's lock first (``lock_member``), in the same round trip.
    """
    months = sorted(set(service_months))
    member_keys = [] if member is None else [advisory_key(_MEMBER_LOCK_NAMESPACE, member.pk)]
    month_keys = [advisory_key(_MONTH_LOCK_NAMESPACE, practice.pk, month) for month in months]
    in_force = month_locks_in_force(practice=practice, service_months=months)
    closed_sql, closed_params = in_force.values_list("service_month").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(_HOLD_LOCKS_SQL + closed_sql, [member_keys, month_keys, *closed_params])
        closed = {row[0] for row in cursor.fetchall()}
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


def patient_month_lock_keys(
    practice: Practice, patient_id: int, service_months: Iterable[date]
) -> list[int]:
    """The locks (in order) that make a transaction the only one recomputing these months
    of the patient's time until it commits (``patient_month_time_refresh`` takes them)."""
    return [
        advisory_key(_PATIENT_MONTH_LOCK_NAMESPACE, practice.pk, patient_id, month)
        for month in sorted(set(service_months))
    ]
