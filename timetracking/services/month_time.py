"""The worklist's per-patient-month summary (``PatientMonthTime``), recomputed from the entries.

Every service that changes an entry calls ``patient_month_time_refresh`` for the months it
touched, in its own transaction, after the change: the summary is never behind a committed
entry. It is recomputed, not adjusted: merged intervals (R-TIME-5) cannot be added to or
subtracted from.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from django.db import connection, transaction

from ccm.models import Practice
from timetracking.counting import COUNTED_STAFF_ENTRY, PRACTITIONER_ENTRY, merged_minutes
from timetracking.locks import lock_month_exclusively, patient_month_lock_keys
from timetracking.models import CONTACT_ACTIVITIES, TimeEntry

# One row per (patient, month) key: the month's live entries of the patient, summed up.
_SUMMARY_SQL = f"""
    SELECT %(practice)s, gen_random_uuid(), keys.patient_id, keys.service_month,
           {merged_minutes(COUNTED_STAFF_ENTRY)},
           COALESCE(BOOL_OR({PRACTITIONER_ENTRY}), FALSE),
           MAX(UPPER(e.period)) FILTER (WHERE e.activity = ANY(%(contact)s::text[]))
    FROM UNNEST(%(patients)s::bigint[], %(months)s::date[]) AS keys(patient_id, service_month)
    LEFT JOIN timetracking_timeentry e
        ON e.practice_id = %(practice)s AND e.patient_id = keys.patient_id
       AND e.service_month = keys.service_month AND e.voided_at IS NULL
    GROUP BY keys.patient_id, keys.service_month
"""  # noqa: S608  (only constants are formatted in; values are parameters)
_UPSERT_SQL = f"""
    INSERT INTO timetracking_patientmonthtime
        (practice_id, public_id, patient_id, service_month, staff_minutes,
         has_practitioner_time, last_contact_at)
    {_SUMMARY_SQL}
    ON CONFLICT (practice_id, patient_id, service_month) DO UPDATE SET
        staff_minutes = EXCLUDED.staff_minutes,
        has_practitioner_time = EXCLUDED.has_practitioner_time,
        last_contact_at = EXCLUDED.last_contact_at
"""


_PATIENT_MONTH_LOCK_SQL = "SELECT pg_advisory_xact_lock(k) FROM UNNEST(%(locks)s::bigint[]) AS k"


def _upsert_params(
    practice: Practice, patient_ids: list[int], service_months: list[date]
) -> dict[str, Any]:
    return {
        "practice": practice.pk,
        "patients": patient_ids,
        "months": service_months,
        "contact": sorted(CONTACT_ACTIVITIES),
    }


def _upsert(practice: Practice, patient_ids: list[int], service_months: list[date]) -> None:
    """Recompute the summary of each (``patient_ids[i]``, ``service_months[i]``)."""
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT_SQL, _upsert_params(practice, patient_ids, service_months))


def patient_month_time_refresh(
    *, practice: Practice, patient_id: int, service_months: Collection[date]
) -> None:
    """Recompute the patient's summary of ``service_months`` from their live entries.

    Call it after the entries changed, in the same transaction. The patient-month lock makes
    a concurrent change of the same patient-month wait for this commit, and its recompute (a
    later statement, so a later snapshot under READ COMMITTED) then sees this change. Lock
    and recompute go in one round trip, as two statements.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("patient_month_time_refresh() runs in the entry change's transaction")
    months = sorted(set(service_months))
    with connection.cursor() as cursor:
        cursor.execute(
            f"{_PATIENT_MONTH_LOCK_SQL};\n{_UPSERT_SQL}",
            {
                **_upsert_params(practice, [patient_id] * len(months), months),
                "locks": patient_month_lock_keys(practice, patient_id, months),
            },
        )


@transaction.atomic
def month_time_rebuild(*, practice: Practice, service_month: date) -> int:
    """Recompute the summary of every patient with entries in the month; returns how many.

    For entries written in bulk (the benchmark's seed). It holds the month exclusively, as
    the month close does, so no entry of the month changes meanwhile.
    """
    lock_month_exclusively(practice, service_month)
    patient_ids = list(
        TimeEntry.objects.for_practice(practice)
        .filter(service_month=service_month)
        .order_by("patient_id")
        .values_list("patient_id", flat=True)
        .distinct()
    )
    _upsert(practice, patient_ids, [service_month] * len(patient_ids))
    return len(patient_ids)
