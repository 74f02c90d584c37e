"""§13 step 7: which minutes count, merging, flooring, month edges and time zones."""

from __future__ import annotations

import datetime as dt

from billing.rules import (
    BillingWarning,
    ClaimLine,
    FacilityStay,
    FamilyChoice,
    NotBillableReason,
    Role,
    StayKind,
    TimeEntry,
    decide,
)
from tests.billing.rules.builders import FEES, month_of, own, patient, practice, staff


def entry(start: str, end: str, *, by: str = "rn-1") -> TimeEntry:
    """Return a clinical-staff entry from ISO timestamps."""
    return TimeEntry(
        by, Role.CLINICAL_STAFF, dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end)
    )


def test_two_staff_on_the_same_call_count_once() -> None:
    # given
    same_call = month_of(staff(10, 20, clock="10:00"), staff(10, 20, clock="10:00", by="ma-1"))

    # when
    decision = decide(same_call, FEES)

    # then
    assert decision.counted_minutes == 20


def test_back_to_back_entries_add_up() -> None:
    # given
    back_to_back = month_of(staff(10, 20, clock="10:00"), staff(10, 20, clock="10:20", by="ma-1"))

    # when
    decision = decide(back_to_back, FEES)

    # then
    assert decision.counted_minutes == 40
    assert decision.lines == (ClaimLine("99490", 1), ClaimLine("99439", 1))


def test_partly_overlapping_and_contained_entries_are_merged() -> None:
    # given
    overlapping = month_of(
        staff(10, 20, clock="10:00"),
        staff(10, 20, clock="10:10", by="ma-1"),
        staff(10, 5, clock="10:12", by="lpn-1"),
    )

    # when
    decision = decide(overlapping, FEES)

    # then
    assert decision.counted_minutes == 30


def test_seconds_are_summed_before_the_month_total_is_floored() -> None:
    # given
    exact = month_of(*(staff(day, 6 + 40 / 60) for day in (3, 4, 5)))
    short = month_of(*(staff(day, 6 + 39 / 60) for day in (3, 4, 5)))

    # when
    twenty = decide(exact, FEES)
    nineteen = decide(short, FEES)

    # then
    assert twenty.counted_minutes == 20
    assert twenty.date_of_service == dt.date(2025, 3, 5)
    assert nineteen.counted_minutes == 19
    assert nineteen.reason is NotBillableReason.NB_TIME_BELOW_THRESHOLD


def test_time_tagged_to_another_billed_service_does_not_count() -> None:
    # given
    tagged = month_of(staff(3, 15, part_of="99495"), staff(12, 25))

    # when
    decision = decide(tagged, FEES)

    # then
    assert decision.counted_minutes == 25
    assert "Not counted: 15 min tagged to another billed service or visit (R-TIME-3/4)." in (
        decision.explanation
    )


def test_non_clinical_and_colleague_time_does_not_count() -> None:
    # given
    others = month_of(
        staff(6, 25, by="front-1", role=Role.NON_CLINICAL),
        staff(7, 25, by="dr-b", role=Role.PRACTITIONER),
    )

    # when
    decision = decide(others, FEES)

    # then
    assert decision.counted_minutes == 0
    assert decision.explanation[2] == (
        "Not counted: 25 min by non-clinical staff (R-WHO-4); 25 min by a practitioner other "
        "than the billing practitioner (POL-OTHER-PRACTITIONER)."
    )


def test_a_colleague_marked_as_clinical_staff_counts() -> None:
    # given
    care_manager = month_of(staff(10, 25, by="np-care"))

    # when
    decision = decide(care_manager, FEES)

    # then
    assert decision.counted_minutes == 25
    assert decision.practitioner_minutes == 0


def test_counted_minutes_are_the_whole_pool_when_the_physician_family_is_billed() -> None:
    # given
    mixed = month_of(
        own(6, 30), staff(3, 5), practice=practice(family_choice=FamilyChoice.PHYSICIAN)
    )

    # when
    decision = decide(mixed, FEES)

    # then
    assert decision.lines == (ClaimLine("99491", 1),)
    assert decision.counted_minutes == 35
    assert decision.practitioner_minutes == 30


def test_minutes_during_a_facility_stay_are_excluded_with_a_warning() -> None:
    # given
    stay = FacilityStay(StayKind.INPATIENT, dt.date(2025, 3, 10), dt.date(2025, 3, 14))
    month = month_of(staff(5, 10), staff(12, 20), staff(20, 12), facility_stays=(stay,))

    # when
    decision = decide(month, FEES)

    # then
    assert decision.counted_minutes == 22
    assert decision.warnings == {BillingWarning.W_FACILITY_DAYS_EXCLUDED}


def test_the_day_after_a_stay_counts_again() -> None:
    # given
    stay = FacilityStay(StayKind.SNF_PART_A, dt.date(2025, 3, 1), dt.date(2025, 3, 10))
    month = month_of(
        staff(10, 30, clock="23:00"), staff(11, 25, clock="00:00"), facility_stays=(stay,)
    )

    # when
    decision = decide(month, FEES)

    # then
    assert decision.counted_minutes == 25
    assert decision.date_of_service == dt.date(2025, 3, 11)
    assert decision.warnings == {BillingWarning.W_FACILITY_DAYS_EXCLUDED}


def test_a_stay_with_no_entries_in_it_gives_no_warning() -> None:
    # given
    stay = FacilityStay(StayKind.INPATIENT, dt.date(2025, 3, 20), dt.date(2025, 3, 22))
    month = month_of(staff(5, 25), staff(21, 0), facility_stays=(stay,))

    # when
    decision = decide(month, FEES)

    # then
    assert decision.warnings == frozenset()


def test_minutes_after_the_date_of_death_do_not_count() -> None:
    # given
    died = month_of(
        staff(5, 15), staff(12, 15), patient=patient(date_of_death=dt.date(2025, 3, 10))
    )

    # when
    decision = decide(died, FEES)

    # then
    assert decision.counted_minutes == 15
    assert "Not counted: 15 min after the date of death." in decision.explanation


def test_entries_outside_the_month_do_not_count() -> None:
    # given
    other_months = month_of(staff(20, 15, month=2), staff(8, 30, month=4), staff(10, 15))

    # when
    decision = decide(other_months, FEES)

    # then
    assert decision.counted_minutes == 15


def test_entries_crossing_the_month_edges_count_only_inside_the_month() -> None:
    # given
    edges = month_of(
        entry("2025-02-28T23:50:00-05:00", "2025-03-01T00:10:00-05:00"),
        entry("2025-03-31T23:50:00-04:00", "2025-04-01T00:30:00-04:00"),
    )

    # when
    decision = decide(edges, FEES)

    # then
    assert decision.counted_minutes == 20
    assert decision.date_of_service == dt.date(2025, 3, 31)


def test_months_are_taken_in_the_practice_time_zone() -> None:
    # given
    los_angeles = month_of(
        entry("2025-03-01T07:30:00+00:00", "2025-03-01T08:10:00+00:00"),
        entry("2025-04-01T06:30:00+00:00", "2025-04-01T06:45:00+00:00"),
        practice=practice(timezone="America/Los_Angeles"),
    )

    # when
    decision = decide(los_angeles, FEES)

    # then
    assert decision.counted_minutes == 25
    assert decision.date_of_service == dt.date(2025, 3, 31)
    assert decision.explanation[0] == (
        "CY2025 rules; service month 2025-03 in America/Los_Angeles (POL-TZ)."
    )


def test_the_repeated_hour_when_clocks_fall_back_counts_twice() -> None:
    # given
    november = month_of(
        entry("2025-11-02T01:30:00-04:00", "2025-11-02T01:50:00-04:00"),
        entry("2025-11-02T01:30:00-05:00", "2025-11-02T01:50:00-05:00", by="rn-2"),
        service_month=dt.date(2025, 11, 1),
    )

    # when
    decision = decide(november, FEES)

    # then
    assert decision.counted_minutes == 40
    assert decision.lines == (ClaimLine("99490", 1), ClaimLine("99439", 1))


def test_the_skipped_hour_when_clocks_spring_forward_is_not_counted() -> None:
    # given
    spring = month_of(entry("2025-03-09T01:50:00-05:00", "2025-03-09T03:10:00-04:00"))

    # when
    decision = decide(spring, FEES)

    # then
    assert decision.counted_minutes == 20
    assert decision.date_of_service == dt.date(2025, 3, 9)
