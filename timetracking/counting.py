"""Which entries' time counts toward CCM minutes, as SQL: the one definition every query uses.

Selectors (month minutes, the worklist) and the patient-month summary's service read these
fragments over ``timetracking_timeentry e`` (and ``patients_patient p`` where the billing
practitioner matters). Voided entries are filtered out before. Time that belongs to another
billed service (``part_of``, R-TIME-3/4) never counts, nor non-clinical time (R-WHO-4), nor the
time of a practitioner who is not the patient's billing practitioner (POL-OTHER-PRACTITIONER,
AMB-15). Consent dates, visits and facility stays are billing's to apply.
"""

from __future__ import annotations

# Clinical staff's time that counts, whoever the patient's billing practitioner is.
COUNTED_STAFF_ENTRY = "e.part_of = '' AND e.staff_role = 'clinical_staff'"
# A practitioner's time that counts if the practitioner is the patient's billing practitioner.
PRACTITIONER_ENTRY = "e.part_of = '' AND e.staff_role = 'practitioner'"
COUNTED_ENTRY = (
    f"(({COUNTED_STAFF_ENTRY}) OR ({PRACTITIONER_ENTRY} "
    "AND e.member_id = p.billing_practitioner_id))"
)
# Whole minutes of a multirange: its pieces never overlap, so their lengths add up (R-TIME-5:
# overlapping intervals of different people were merged by RANGE_AGG); floored at the end.
MULTIRANGE_MINUTES = (
    "COALESCE((SELECT FLOOR(SUM(EXTRACT(EPOCH FROM UPPER(piece) - LOWER(piece))) / 60)::int "
    "FROM UNNEST({}) AS piece), 0)"
)


def merged_minutes(condition: str) -> str:
    """SQL aggregate: the merged minutes of the group's entries that meet ``condition``."""
    return MULTIRANGE_MINUTES.format(f"RANGE_AGG(e.period) FILTER (WHERE {condition})")
