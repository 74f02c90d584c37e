"""§13 steps 2 and 3: eligibility, coverage, and services that exclude CCM in the month."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from billing.rules import (
    BillingWarning,
    ClaimLine,
    Condition,
    Consent,
    ConsentMethod,
    MonthDecision,
    NotBillableReason,
    OtherService,
    Visit,
    decide,
)
from tests.billing.rules.builders import BASE_PLAN, FEES, month_of, patient, staff

MARCH_10 = dt.date(2025, 3, 10)


def billed(*services: OtherService, **changes: Any) -> MonthDecision:
    """Return the decision for 30 staff minutes with these other services billed."""
    return decide(month_of(staff(10, 30), other_services=services, **changes), FEES)


def test_one_chronic_condition_is_not_eligible() -> None:
    # given
    one = month_of(staff(5, 40), conditions=(Condition("I50.22", chronic=True, active=True),))

    # when
    decision = decide(one, FEES)

    # then
    assert decision.reason is NotBillableReason.NB_ELIG_CONDITIONS
    assert decision.counted_minutes == 0
    assert decision.explanation[-1] == (
        "Not billable: 1 active attested chronic condition (I50.22); CCM needs at least 2 "
        "(R-ELIG-1/2)."
    )


def test_no_conditions_at_all_is_not_eligible() -> None:
    # given
    none = month_of(staff(5, 40), conditions=())

    # when
    decision = decide(none, FEES)

    # then
    assert decision.reason is NotBillableReason.NB_ELIG_CONDITIONS
    assert "0 active attested chronic conditions (none)" in decision.explanation[-1]


def test_inactive_acute_and_repeated_conditions_do_not_add_up_to_two() -> None:
    # given
    conditions = (
        Condition("E11.9", chronic=True, active=True),
        Condition("E11.9", chronic=True, active=True),
        Condition("I10", chronic=True, active=False),
        Condition("J06.9", chronic=False, active=True),
    )

    # when
    decision = decide(month_of(staff(5, 40), conditions=conditions), FEES)

    # then
    assert decision.reason is NotBillableReason.NB_ELIG_CONDITIONS


def test_a_patient_without_part_b_is_not_eligible() -> None:
    # given
    not_part_b = month_of(staff(5, 40), patient=patient(medicare_part_b=False))

    # when
    decision = decide(not_part_b, FEES)

    # then
    assert decision.reason is NotBillableReason.NB_NOT_ELIGIBLE_COVERAGE
    assert "Part B" in decision.explanation[-1]


def test_a_patient_in_an_excluding_model_is_not_eligible() -> None:
    # given
    in_model = month_of(staff(5, 40), patient=patient(blocked_by_model=True))

    # when
    decision = decide(in_model, FEES)

    # then
    assert decision.reason is NotBillableReason.NB_NOT_ELIGIBLE_COVERAGE
    assert "CMS model" in decision.explanation[-1]


def test_conditions_are_checked_before_coverage() -> None:
    # given
    both = month_of(
        staff(5, 40),
        conditions=(Condition("I50.22", chronic=True, active=True),),
        patient=patient(medicare_part_b=False),
    )

    # when
    decision = decide(both, FEES)

    # then
    assert decision.reason is NotBillableReason.NB_ELIG_CONDITIONS


@pytest.mark.parametrize(
    ("code", "by"),
    [("G0181", "dr-a"), ("G0181", "dr-h"), ("G0182", "dr-h"), ("90951", "dr-n"), ("90970", "dr-n")],
)
def test_home_health_hospice_and_esrd_by_anyone_block(code: str, by: str) -> None:
    # given
    service = OtherService(code, by, MARCH_10)

    # when
    decision = billed(service)

    # then
    assert decision.reason is NotBillableReason.NB_CONFLICT_HH_HOSPICE_ESRD
    assert decision.explanation[-1].startswith(f"Not billable: {code} billed this month")


def test_codes_next_to_the_esrd_range_do_not_block() -> None:
    # given
    services = (OtherService("90950", "dr-n", MARCH_10), OtherService("90971", "dr-n", MARCH_10))

    # when
    decision = billed(*services)

    # then
    assert decision.lines == (ClaimLine("99490", 1),)


def test_only_services_dated_in_the_service_month_conflict() -> None:
    # given
    services = (
        OtherService("G0181", "dr-a", dt.date(2025, 2, 28)),
        OtherService("99426", "dr-a", dt.date(2025, 4, 1)),
    )

    # when
    decision = billed(*services)

    # then
    assert decision.lines == (ClaimLine("99490", 1),)


def test_a_patient_enrolled_elsewhere_is_not_billable() -> None:
    # given
    elsewhere = patient(enrolled_elsewhere=True)

    # when
    decision = billed(patient=elsewhere)

    # then
    assert decision.reason is NotBillableReason.NB_OTHER_CCM_PRACTITIONER
    assert decision.explanation[-1] == (
        "Not billable: enrolled elsewhere this month; only one practitioner is paid for CCM "
        "(R-WHO-2)."
    )


def test_ccm_billed_by_another_practitioner_blocks() -> None:
    # given
    service = OtherService("99491", "dr-z", MARCH_10)

    # when
    decision = billed(service)

    # then
    assert decision.reason is NotBillableReason.NB_OTHER_CCM_PRACTITIONER
    assert "CCM is billed by dr-z" in decision.explanation[-1]


def test_the_billing_practitioners_own_ccm_claim_does_not_block_a_rerun() -> None:
    # given
    service = OtherService("99490", "dr-a", MARCH_10)

    # when
    decision = billed(service)

    # then
    assert decision.lines == (ClaimLine("99490", 1),)


def test_pcm_by_the_same_practitioner_blocks() -> None:
    # given
    service = OtherService("99426", "dr-a", MARCH_10)

    # when
    decision = billed(service)

    # then
    assert decision.reason is NotBillableReason.NB_CONFLICT_PCM_SAME_PRACTITIONER


def test_pcm_by_another_practitioner_is_allowed() -> None:
    # given
    service = OtherService("99424", "dr-c", MARCH_10)

    # when
    decision = billed(service)

    # then
    assert decision.lines == (ClaimLine("99490", 1),)
    assert decision.warnings == frozenset()


def test_apcm_by_the_same_practitioner_blocks() -> None:
    # given
    service = OtherService("G0557", "dr-a", MARCH_10)

    # when
    decision = billed(service)

    # then
    assert decision.reason is NotBillableReason.NB_CONFLICT_APCM_SAME_PRACTITIONER


def test_apcm_by_another_practitioner_bills_with_a_warning() -> None:
    # given
    service = OtherService("G0556", "dr-c", MARCH_10)

    # when
    decision = billed(service)

    # then
    assert decision.lines == (ClaimLine("99490", 1),)
    assert decision.warnings == {BillingWarning.W_APCM_OTHER_PRACTITIONER}


def test_a_warning_found_before_a_later_blocker_is_kept() -> None:
    # given
    service = OtherService("G0558", "dr-c", MARCH_10)

    # when
    decision = billed(service, consents=())

    # then
    assert decision.reason is NotBillableReason.NB_CONSENT_MISSING
    assert decision.warnings == {BillingWarning.W_APCM_OTHER_PRACTITIONER}


@pytest.mark.parametrize("code", ["99495", "99496", "99457", "99458", "99484", "98975", "G0506"])
def test_tcm_rpm_rtm_bhi_and_g0506_are_billed_alongside(code: str) -> None:
    # given
    service = OtherService(code, "dr-a", MARCH_10)

    # when
    decision = billed(service)

    # then
    assert decision.lines == (ClaimLine("99490", 1),)
    assert not any(s.startswith("Review:") for s in decision.explanation)


def test_care_plan_oversight_by_the_same_practitioner_asks_for_review() -> None:
    # given
    services = (OtherService("99339", "dr-a", MARCH_10), OtherService("99358", "dr-a", MARCH_10))

    # when
    decision = billed(*services)

    # then
    assert decision.lines == (ClaimLine("99490", 1),)
    assert (
        "Review: dr-a also bills 99339, 99358 this month; CCM minutes must not overlap its "
        "countable time (R-CONC)." in decision.explanation
    )


def test_the_conflict_step_comes_before_consent() -> None:
    # given
    service = OtherService("G0182", "dr-h", MARCH_10)

    # when
    decision = billed(service, consents=(), care_plans=())

    # then
    assert decision.reason is NotBillableReason.NB_CONFLICT_HH_HOSPICE_ESRD


def test_the_baseline_helpers_describe_scenario_b() -> None:
    # given
    month = month_of()

    # when
    consents, visits, plans = month.consents, month.visits, month.care_plans

    # then
    assert consents == (Consent("dr-a", dt.date(2025, 2, 3), None, ConsentMethod.VERBAL),)
    assert visits == (Visit(dt.date(2025, 1, 15), "99214", "dr-a", ccm_discussed=True),)
    assert plans == (BASE_PLAN,)
