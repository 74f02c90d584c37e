"""Thresholds, full increments and caps of the three families (RULES.md §1.2-§1.3)."""

from __future__ import annotations

from billing.rules import (
    BillingWarning,
    ClaimLine,
    Complexity,
    Family,
    FamilyChoice,
    MedicalDecisionMaking,
    NotBillableReason,
    decide,
)
from tests.billing.rules.builders import (
    BASE_PLAN,
    COMPLEXITY,
    FEES,
    REVISION,
    month_of,
    own,
    practice,
    staff,
)

COMPLEX_PLANS = (BASE_PLAN, REVISION)


def test_99490_needs_twenty_minutes() -> None:
    # given
    nineteen = month_of(staff(10, 19))

    # when
    decision = decide(nineteen, FEES)

    # then
    assert decision.lines == ()
    assert not decision.billable
    assert decision.reason is NotBillableReason.NB_TIME_BELOW_THRESHOLD
    assert decision.counted_minutes == 19
    assert decision.date_of_service is None
    assert decision.place_of_service is None
    assert decision.diagnoses == ()
    assert decision.explanation[-1] == (
        "Not billable: 19 minutes counted; 1 more minute would reach 99490 (20 minutes) "
        "(R-CODE-2, AMB-21)."
    )


def test_twenty_minutes_report_99490_once() -> None:
    # given
    twenty = month_of(staff(10, 20))

    # when
    decision = decide(twenty, FEES)

    # then
    assert decision.lines == (ClaimLine("99490", 1),)
    assert decision.billable
    assert decision.family is Family.STAFF
    assert decision.reason is None
    assert decision.warnings == frozenset()
    assert decision.unpaid_minutes == 0
    assert "20 more minutes would reach another 99439 (40 minutes)." in decision.explanation


def test_99439_needs_forty_minutes() -> None:
    # given
    thirty_nine = month_of(staff(5, 20), staff(20, 19))
    forty = month_of(staff(5, 20), staff(20, 20))

    # when
    below = decide(thirty_nine, FEES)
    reached = decide(forty, FEES)

    # then
    assert below.lines == (ClaimLine("99490", 1),)
    assert reached.lines == (ClaimLine("99490", 1), ClaimLine("99439", 1))


def test_thirty_minutes_do_not_round_up_to_99439() -> None:
    # given
    thirty = month_of(staff(5, 30))

    # when
    decision = decide(thirty, FEES)

    # then
    assert decision.lines == (ClaimLine("99490", 1),)


def test_99439_is_capped_at_two_units_and_the_rest_is_unpaid() -> None:
    # given
    one_hundred_twenty_five = month_of(staff(4, 60), staff(18, 65))

    # when
    decision = decide(one_hundred_twenty_five, FEES)

    # then
    assert decision.lines == (ClaimLine("99490", 1), ClaimLine("99439", 2))
    assert decision.counted_minutes == 125
    assert decision.unpaid_minutes == 65
    assert (
        "65 counted minutes beyond 60 are unpaid: 99439 is capped at 2 units (RULES.md §1.3)."
        in decision.explanation
    )


def test_sixty_staff_minutes_fill_the_cap_with_nothing_unpaid() -> None:
    # given
    sixty = month_of(staff(5, 20), staff(12, 20), staff(26, 20))

    # when
    decision = decide(sixty, FEES)

    # then
    assert decision.lines == (ClaimLine("99490", 1), ClaimLine("99439", 2))
    assert decision.unpaid_minutes == 0
    assert not any("unpaid" in s or "would reach" in s for s in decision.explanation)


def test_99437_needs_sixty_own_minutes() -> None:
    # given
    pinned = practice(family_choice=FamilyChoice.PHYSICIAN)
    fifty_nine = month_of(own(6, 30), own(20, 29), practice=pinned)
    sixty = month_of(own(6, 30), own(20, 30), practice=pinned)

    # when
    below = decide(fifty_nine, FEES)
    reached = decide(sixty, FEES)

    # then
    assert below.lines == (ClaimLine("99491", 1),)
    assert reached.lines == (ClaimLine("99491", 1), ClaimLine("99437", 1))
    assert reached.practitioner_minutes == 60


def test_99437_is_capped_at_two_units() -> None:
    # given
    one_hundred_fifty = month_of(
        *(own(day, 30) for day in (3, 10, 17, 24, 28)),
        practice=practice(family_choice=FamilyChoice.PHYSICIAN),
    )

    # when
    decision = decide(one_hundred_fifty, FEES)

    # then
    assert decision.lines == (ClaimLine("99491", 1), ClaimLine("99437", 2))
    assert decision.family is Family.PHYSICIAN
    assert decision.unpaid_minutes == 60
    assert decision.date_of_service is not None
    assert decision.date_of_service.day == 17


def test_99489_needs_ninety_minutes() -> None:
    # given
    eighty_nine = month_of(
        staff(5, 30), staff(12, 30), staff(26, 29), complexity=COMPLEXITY, care_plans=COMPLEX_PLANS
    )
    ninety = month_of(
        staff(5, 30), staff(12, 30), staff(26, 30), complexity=COMPLEXITY, care_plans=COMPLEX_PLANS
    )

    # when
    below = decide(eighty_nine, FEES)
    reached = decide(ninety, FEES)

    # then
    assert below.lines == (ClaimLine("99487", 1),)
    assert reached.lines == (ClaimLine("99487", 1), ClaimLine("99489", 1))
    assert reached.family is Family.COMPLEX


def test_99489_stops_at_its_mue_of_ten_units() -> None:
    # given
    four_hundred = month_of(
        *(staff(day, 80) for day in (3, 4, 5, 6, 7)),
        complexity=COMPLEXITY,
        care_plans=COMPLEX_PLANS,
    )

    # when
    decision = decide(four_hundred, FEES)

    # then
    assert decision.lines == (ClaimLine("99487", 1), ClaimLine("99489", 10))
    assert decision.unpaid_minutes == 40


def test_complex_is_reported_at_sixty_even_where_staff_codes_pay_more() -> None:
    # given
    sixty = month_of(staff(5, 30), staff(19, 30), complexity=COMPLEXITY, care_plans=COMPLEX_PLANS)

    # when
    decision = decide(sixty, FEES)

    # then
    assert decision.lines == (ClaimLine("99487", 1),)
    assert decision.warnings == frozenset()


def test_complex_under_sixty_falls_back_to_the_staff_family_with_a_warning() -> None:
    # given
    fifty_nine = month_of(
        staff(5, 30), staff(19, 29), complexity=COMPLEXITY, care_plans=COMPLEX_PLANS
    )

    # when
    decision = decide(fifty_nine, FEES)

    # then
    assert decision.lines == (ClaimLine("99490", 1), ClaimLine("99439", 1))
    assert decision.warnings == {BillingWarning.W_COMPLEX_UNDER_60}


def test_complex_under_twenty_minutes_is_only_below_threshold() -> None:
    # given
    fifteen = month_of(staff(5, 15), complexity=COMPLEXITY, care_plans=COMPLEX_PLANS)

    # when
    decision = decide(fifteen, FEES)

    # then
    assert decision.reason is NotBillableReason.NB_TIME_BELOW_THRESHOLD
    assert decision.warnings == frozenset()
    assert decision.explanation[-1].endswith("Complex CCM (99487) would need 60.")


def test_below_threshold_also_says_how_far_own_minutes_are_from_99491() -> None:
    # given
    short = month_of(own(6, 12))

    # when
    decision = decide(short, FEES)

    # then
    assert decision.practitioner_minutes == 12
    assert decision.explanation[-1].endswith(
        "The billing practitioner's own 12 minutes are 18 short of 99491."
    )


def test_complex_needs_the_mdm_of_the_billing_practitioner() -> None:
    # given
    by_colleague = month_of(
        staff(5, 35),
        staff(19, 35),
        complexity=Complexity(MedicalDecisionMaking.HIGH, "dr-b"),
        care_plans=COMPLEX_PLANS,
    )

    # when
    decision = decide(by_colleague, FEES)

    # then
    assert decision.lines == (ClaimLine("99490", 1), ClaimLine("99439", 2))
    assert decision.warnings == frozenset()


def test_complex_needs_a_plan_revision_in_the_month_unless_the_practice_waives_it() -> None:
    # given
    no_revision = month_of(staff(5, 35), staff(19, 35), complexity=COMPLEXITY)
    waived = month_of(
        staff(5, 35),
        staff(19, 35),
        complexity=COMPLEXITY,
        practice=practice(complex_requires_plan_revision=False),
    )

    # when
    required = decide(no_revision, FEES)
    not_required = decide(waived, FEES)

    # then
    assert required.lines == (ClaimLine("99490", 1), ClaimLine("99439", 2))
    assert not_required.lines == (ClaimLine("99487", 1),)
