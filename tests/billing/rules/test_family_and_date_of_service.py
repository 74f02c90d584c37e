"""POL-FAMILY, POL-DOS, R-POS-1 and R-DX-1."""

from __future__ import annotations

import datetime as dt

from billing.rules import (
    ClaimLine,
    Condition,
    DateOfServicePolicy,
    Family,
    FamilyChoice,
    decide,
)
from tests.billing.rules.builders import (
    FEES,
    month_of,
    own,
    patient,
    practice,
    staff,
)


class FlatPrices:
    """Every code pays the same: the two families tie whenever each bills one unit."""

    def national_non_facility_cents(self, code: str, on: dt.date) -> int:
        """Return one dollar for any code on any date."""
        del code, on
        return 100


def test_thirty_own_minutes_bill_99491_because_it_pays_more() -> None:
    # given
    thirty = month_of(own(6, 30))

    # when
    decision = decide(thirty, FEES)

    # then
    assert decision.lines == (ClaimLine("99491", 1),)
    assert (
        "99491 x1 ($82.16) pays more than 99490 x1 ($60.49) at CY2025 national non-facility "
        "rates (POL-FAMILY, AMB-5)." in decision.explanation
    )


def test_sixty_own_minutes_bill_the_staff_family_which_pays_more() -> None:
    # given
    sixty = month_of(own(6, 30), own(20, 30))

    # when
    decision = decide(sixty, FEES)

    # then
    assert decision.lines == (ClaimLine("99490", 1), ClaimLine("99439", 2))
    assert decision.family is Family.STAFF


def test_ninety_own_minutes_bill_the_physician_family() -> None:
    # given
    ninety = month_of(own(6, 30), own(13, 30), own(20, 30))

    # when
    decision = decide(ninety, FEES)

    # then
    assert decision.lines == (ClaimLine("99491", 1), ClaimLine("99437", 2))


def test_a_tie_goes_to_the_staff_family() -> None:
    # given
    thirty = month_of(own(6, 30))

    # when
    decision = decide(thirty, FlatPrices())

    # then
    assert decision.lines == (ClaimLine("99490", 1),)
    assert (
        "99490 x1 ($1.00) ties with (staff family wins) 99491 x1 ($1.00) at CY2025 national "
        "non-facility rates (POL-FAMILY, AMB-5)." in decision.explanation
    )


def test_pinned_staff_family_wins_where_it_is_reached() -> None:
    # given
    thirty = month_of(own(6, 30), practice=practice(family_choice=FamilyChoice.STAFF))

    # when
    decision = decide(thirty, FEES)

    # then
    assert decision.lines == (ClaimLine("99490", 1),)
    assert "The practice pins the staff family where it is reached (POL-FAMILY)." in (
        decision.explanation
    )


def test_pinned_physician_family_falls_back_to_staff_below_thirty_own_minutes() -> None:
    # given
    short = month_of(
        own(6, 25), staff(12, 10), practice=practice(family_choice=FamilyChoice.PHYSICIAN)
    )

    # when
    decision = decide(short, FEES)

    # then
    assert decision.lines == (ClaimLine("99490", 1),)
    assert decision.counted_minutes == 35
    assert decision.practitioner_minutes == 25


def test_staff_minutes_never_count_toward_99491() -> None:
    # given
    mixed = month_of(
        staff(3, 40), own(6, 20), practice=practice(family_choice=FamilyChoice.PHYSICIAN)
    )

    # when
    decision = decide(mixed, FEES)

    # then
    assert decision.lines == (ClaimLine("99490", 1), ClaimLine("99439", 2))
    assert decision.practitioner_minutes == 20


def test_physician_date_of_service_counts_only_own_minutes() -> None:
    # given
    pinned = month_of(
        staff(3, 25),
        own(10, 10),
        own(20, 20),
        practice=practice(family_choice=FamilyChoice.PHYSICIAN),
    )

    # when
    decision = decide(pinned, FEES)

    # then
    assert decision.lines == (ClaimLine("99491", 1),)
    assert decision.date_of_service == dt.date(2025, 3, 20)


def test_date_of_service_is_the_day_the_highest_billed_unit_was_reached() -> None:
    # given
    fifty_nine = month_of(staff(5, 20), staff(12, 20), staff(26, 19))

    # when
    decision = decide(fifty_nine, FEES)

    # then
    assert decision.date_of_service == dt.date(2025, 3, 12)
    assert decision.explanation[-1] == (
        "Date of service 2025-03-12: the day the 40-minute threshold of the last billed unit was "
        "reached (POL-DOS)."
    )


def test_a_threshold_reached_at_local_midnight_belongs_to_the_day_that_ended() -> None:
    # given
    across_midnight = month_of(staff(10, 10, clock="10:00"), staff(10, 15, clock="23:50"))

    # when
    decision = decide(across_midnight, FEES)

    # then
    assert decision.date_of_service == dt.date(2025, 3, 10)


def test_month_end_date_of_service_is_the_last_day() -> None:
    # given
    month_end = month_of(
        staff(10, 20), practice=practice(date_of_service=DateOfServicePolicy.MONTH_END)
    )

    # when
    decision = decide(month_end, FEES)

    # then
    assert decision.date_of_service == dt.date(2025, 3, 31)
    assert decision.explanation[-1] == (
        "Date of service 2025-03-31: the month's last day (POL-DOS month_end) (POL-DOS)."
    )


def test_month_end_date_of_service_is_capped_at_the_date_of_death() -> None:
    # given
    died = month_of(
        staff(5, 25),
        practice=practice(date_of_service=DateOfServicePolicy.MONTH_END),
        patient=patient(date_of_death=dt.date(2025, 3, 18)),
    )

    # when
    decision = decide(died, FEES)

    # then
    assert decision.date_of_service == dt.date(2025, 3, 18)
    assert decision.explanation[-1].endswith(", capped at the date of death (POL-DOS).")


def test_threshold_date_of_service_is_never_after_the_date_of_death() -> None:
    # given
    died = month_of(
        staff(5, 10),
        staff(18, 15, clock="23:55"),
        patient=patient(date_of_death=dt.date(2025, 3, 18)),
    )

    # when
    decision = decide(died, FEES)

    # then
    assert decision.counted_minutes == 25
    assert decision.date_of_service == dt.date(2025, 3, 18)


def test_a_death_after_the_threshold_day_leaves_the_date_of_service_alone() -> None:
    # given
    died_later = month_of(
        staff(3, 10), staff(10, 12), patient=patient(date_of_death=dt.date(2025, 3, 18))
    )

    # when
    decision = decide(died_later, FEES)

    # then
    assert decision.date_of_service == dt.date(2025, 3, 10)


def test_place_of_service_is_the_practice_billing_location() -> None:
    # given
    outpatient = month_of(staff(10, 25), practice=practice(place_of_service="22"))

    # when
    decision = decide(outpatient, FEES)

    # then
    assert decision.place_of_service == "22"


def test_diagnoses_list_each_active_chronic_code_once_and_at_most_twelve() -> None:
    # given
    codes = [f"C{number:02d}.9" for number in range(14)]
    conditions = (
        Condition("Z00.00", chronic=False, active=True),
        Condition("I10", chronic=True, active=False),
        *(Condition(code, chronic=True, active=True) for code in codes),
        Condition(codes[0], chronic=True, active=True),
    )
    many = month_of(staff(10, 25), conditions=conditions)

    # when
    decision = decide(many, FEES)

    # then
    assert decision.diagnoses == tuple(codes[:12])


def test_the_baseline_lists_its_three_diagnoses_in_order() -> None:
    # given
    baseline = month_of(staff(10, 25))

    # when
    decision = decide(baseline, FEES)

    # then
    assert decision.diagnoses == ("E11.9", "I10", "N18.30")
