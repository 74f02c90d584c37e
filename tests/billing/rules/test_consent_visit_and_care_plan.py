"""§13 steps 4-6: consent, the initiating visit and the care plan in effect."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from billing.rules import (
    BillingWarning,
    CarePlanCopyPolicy,
    CarePlanVersion,
    ClaimLine,
    Consent,
    ConsentMethod,
    NotBillableReason,
    Visit,
    decide,
)
from tests.billing.rules.builders import (
    BASE_PLAN,
    FEES,
    NEW_YORK,
    REVISION,
    month_of,
    practice,
    staff,
)


def consent(
    obtained: dt.date | dt.datetime, revoked: dt.date | None = None, to: str = "dr-a"
) -> Consent:
    """Return a verbal consent."""
    return Consent(to, obtained, revoked, ConsentMethod.VERBAL)


def plan_on(day: dt.date) -> CarePlanVersion:
    """Return plan version 1 signed and copied on ``day``."""
    return replace(BASE_PLAN, signed_on=day, patient_copy_on=day)


def visit(day: dt.date, code: str = "99214", *, by: str = "dr-a", discussed: bool = True) -> Visit:
    """Return a face-to-face visit."""
    return Visit(day, code, by, ccm_discussed=discussed)


# --- consent
def test_no_consent_on_file_blocks() -> None:
    # given
    no_consent = month_of(staff(10, 45), consents=())

    # when
    decision = decide(no_consent, FEES)

    # then
    assert decision.reason is NotBillableReason.NB_CONSENT_MISSING
    assert decision.counted_minutes == 0
    assert decision.explanation[-1] == (
        "Not billable: no consent to dr-a is documented on or before 2025-03-31 (R-CONS-1/2)."
    )


def test_consent_to_another_practitioner_does_not_count() -> None:
    # given
    other = month_of(staff(10, 45), consents=(consent(dt.date(2025, 2, 3), to="dr-b"),))

    # when
    decision = decide(other, FEES)

    # then
    assert decision.reason is NotBillableReason.NB_CONSENT_MISSING


def test_consent_obtained_after_the_month_does_not_count() -> None:
    # given
    later = month_of(staff(10, 45), consents=(consent(dt.date(2025, 4, 1)),))

    # when
    decision = decide(later, FEES)

    # then
    assert decision.reason is NotBillableReason.NB_CONSENT_MISSING


def test_revocation_before_the_month_blocks() -> None:
    # given
    revoked = month_of(
        staff(10, 45), consents=(consent(dt.date(2025, 2, 3), revoked=dt.date(2025, 2, 28)),)
    )

    # when
    decision = decide(revoked, FEES)

    # then
    assert decision.reason is NotBillableReason.NB_CONSENT_REVOKED
    assert "revoked before 2025-03-01" in decision.explanation[-1]


def test_revocation_during_the_month_leaves_the_month_billable() -> None:
    # given
    revoked = month_of(
        staff(5, 25), consents=(consent(dt.date(2025, 2, 3), revoked=dt.date(2025, 3, 1)),)
    )

    # when
    decision = decide(revoked, FEES)

    # then
    assert decision.lines == (ClaimLine("99490", 1),)


def test_a_new_consent_after_a_revocation_counts_from_its_own_date() -> None:
    # given
    renewed = month_of(
        staff(5, 15),
        staff(14, 20),
        consents=(
            consent(dt.date(2025, 2, 3), revoked=dt.date(2025, 2, 20)),
            consent(dt.date(2025, 3, 12)),
        ),
    )

    # when
    decision = decide(renewed, FEES)

    # then
    assert decision.counted_minutes == 20
    assert decision.date_of_service == dt.date(2025, 3, 14)


def test_minutes_on_a_date_only_consent_day_count() -> None:
    # given
    same_day = month_of(
        staff(12, 20, clock="08:00"),
        consents=(consent(dt.date(2025, 3, 12)),),
        care_plans=(plan_on(dt.date(2025, 3, 12)),),
    )

    # when
    decision = decide(same_day, FEES)

    # then
    assert decision.lines == (ClaimLine("99490", 1),)


def test_minutes_before_a_consent_timestamp_do_not_count() -> None:
    # given
    moment = dt.datetime(2025, 3, 12, 14, 0, tzinfo=NEW_YORK)
    timestamped = month_of(
        staff(12, 30, clock="09:00"),
        staff(12, 15, clock="15:00"),
        staff(13, 10, clock="10:00"),
        consents=(consent(moment),),
        care_plans=(plan_on(dt.date(2025, 3, 12)),),
    )

    # when
    decision = decide(timestamped, FEES)

    # then
    assert decision.counted_minutes == 25
    assert decision.date_of_service == dt.date(2025, 3, 13)
    assert "Not counted: 30 min before the consent moment (POL-CONSENT)." in decision.explanation


def test_a_utc_consent_timestamp_is_dated_in_the_practice_time_zone() -> None:
    # given
    late_on_the_31st = dt.datetime(2025, 4, 1, 3, 0, tzinfo=dt.UTC)  # 23:00 on 31 March in New York
    last_evening = month_of(
        staff(31, 20, clock="23:10"),
        consents=(consent(late_on_the_31st),),
        care_plans=(plan_on(dt.date(2025, 3, 31)),),
    )

    # when
    decision = decide(last_evening, FEES)

    # then
    assert decision.lines == (ClaimLine("99490", 1),)
    assert decision.date_of_service == dt.date(2025, 3, 31)


# --- initiating visit
def new_patient(*visits: Visit, day: dt.date = dt.date(2025, 3, 5)) -> dict[str, object]:
    """Return the changes for a patient whose CCM began on ``day`` with these visits."""
    return {"visits": visits, "consents": (consent(day),), "care_plans": (plan_on(day),)}


def test_a_visit_within_the_year_before_commencement_means_no_initiating_visit_is_needed() -> None:
    # given
    boundary = month_of(staff(10, 25), visits=(visit(dt.date(2024, 2, 4), discussed=False),))

    # when
    decision = decide(boundary, FEES)

    # then
    assert decision.lines == (ClaimLine("99490", 1),)
    assert decision.warnings == {BillingWarning.W_NO_VISIT_12M}


def test_a_visit_366_days_before_commencement_is_too_old() -> None:
    # given
    too_old = month_of(staff(10, 25), visits=(visit(dt.date(2024, 2, 3)),))

    # when
    decision = decide(too_old, FEES)

    # then
    assert decision.reason is NotBillableReason.NB_INITIATING_VISIT
    assert decision.explanation[-1] == (
        "Not billable: dr-a had no qualifying visit in the 365 days before CCM began on "
        "2025-02-03, and no qualifying visit with CCM discussed from then to 2025-03-31 "
        "(R-INIT-1/2/3)."
    )


def test_a_new_patient_counts_minutes_from_the_initiating_visits_day() -> None:
    # given
    started = month_of(
        staff(4, 10),
        staff(10, 20, clock="08:00"),
        **new_patient(visit(dt.date(2025, 3, 10), "99203"), day=dt.date(2025, 3, 3)),
    )

    # when
    decision = decide(started, FEES)

    # then
    assert decision.counted_minutes == 20
    assert "Initiating visit 99203 on 2025-03-10; earlier minutes do not count (POL-INIT)." in (
        decision.explanation
    )
    assert "Not counted: 10 min before the initiating visit's day (POL-INIT)." in (
        decision.explanation
    )


def test_a_visit_without_ccm_discussed_cannot_initiate() -> None:
    # given
    silent = month_of(staff(10, 30), **new_patient(visit(dt.date(2025, 3, 5), discussed=False)))

    # when
    decision = decide(silent, FEES)

    # then
    assert decision.reason is NotBillableReason.NB_INITIATING_VISIT


def test_a_99211_nurse_visit_cannot_initiate() -> None:
    # given
    nurse_visit = month_of(staff(10, 30), **new_patient(visit(dt.date(2025, 3, 5), "99211")))

    # when
    decision = decide(nurse_visit, FEES)

    # then
    assert decision.reason is NotBillableReason.NB_INITIATING_VISIT


def test_a_colleagues_visit_cannot_initiate() -> None:
    # given
    colleague = month_of(staff(10, 30), **new_patient(visit(dt.date(2025, 3, 5), by="dr-b")))

    # when
    decision = decide(colleague, FEES)

    # then
    assert decision.reason is NotBillableReason.NB_INITIATING_VISIT


def test_a_visit_after_the_month_cannot_initiate_it() -> None:
    # given
    next_month = month_of(staff(10, 30), **new_patient(visit(dt.date(2025, 4, 2))))

    # when
    decision = decide(next_month, FEES)

    # then
    assert decision.reason is NotBillableReason.NB_INITIATING_VISIT


def test_a_tcm_visit_initiates_and_is_flagged_for_review() -> None:
    # given
    tcm = month_of(staff(7, 22), **new_patient(visit(dt.date(2025, 3, 5), "99496")))

    # when
    decision = decide(tcm, FEES)

    # then
    assert decision.lines == (ClaimLine("99490", 1),)
    assert "Review: the initiating visit is the TCM visit 99496 (R-INIT-2 [U])." in (
        decision.explanation
    )


def test_a_continuing_patient_not_seen_for_a_year_bills_with_a_warning() -> None:
    # given
    continuing = month_of(
        staff(10, 25),
        visits=(visit(dt.date(2024, 1, 20)),),
        consents=(consent(dt.date(2024, 2, 1)),),
    )

    # when
    decision = decide(continuing, FEES)

    # then
    assert decision.lines == (ClaimLine("99490", 1),)
    assert decision.warnings == {BillingWarning.W_NO_VISIT_12M}


def test_a_visit_365_days_before_the_months_end_avoids_the_warning() -> None:
    # given
    recent = month_of(
        staff(10, 25),
        visits=(visit(dt.date(2024, 1, 20)), visit(dt.date(2024, 3, 31), "99213")),
        consents=(consent(dt.date(2024, 2, 1)),),
    )

    # when
    decision = decide(recent, FEES)

    # then
    assert decision.warnings == frozenset()


# --- care plan
def test_no_care_plan_blocks() -> None:
    # given
    no_plan = month_of(staff(5, 30), care_plans=())

    # when
    decision = decide(no_plan, FEES)

    # then
    assert decision.reason is NotBillableReason.NB_CARE_PLAN_MISSING


def test_a_plan_signed_by_someone_else_or_after_the_month_is_not_in_effect() -> None:
    # given
    plans = (
        replace(BASE_PLAN, signed_by="dr-b"),
        replace(BASE_PLAN, version=2, signed_on=dt.date(2025, 4, 2)),
    )

    # when
    decision = decide(month_of(staff(5, 30), care_plans=plans), FEES)

    # then
    assert decision.reason is NotBillableReason.NB_CARE_PLAN_MISSING


def test_the_highest_version_signed_by_the_month_end_is_in_effect() -> None:
    # given
    uncopied = replace(REVISION, signed_on=dt.date(2025, 3, 15), patient_copy_on=None)
    plans = (uncopied, BASE_PLAN)

    # when
    decision = decide(month_of(staff(5, 30), care_plans=plans), FEES)

    # then
    assert decision.reason is NotBillableReason.NB_CARE_PLAN_COPY_MISSING
    assert decision.explanation[-1] == (
        "Not billable: no patient copy of care plan version 2 is documented on or before "
        "2025-03-31 (R-PLAN-4, POL-COPY)."
    )


def test_a_patient_copy_dated_after_the_month_is_missing() -> None:
    # given
    late_copy = (replace(BASE_PLAN, patient_copy_on=dt.date(2025, 4, 2)),)

    # when
    decision = decide(month_of(staff(5, 30), care_plans=late_copy), FEES)

    # then
    assert decision.reason is NotBillableReason.NB_CARE_PLAN_COPY_MISSING


def test_a_missing_copy_only_warns_when_the_practice_says_so() -> None:
    # given
    no_copy = (replace(BASE_PLAN, patient_copy_on=None),)
    warn = practice(care_plan_copy=CarePlanCopyPolicy.WARN)

    # when
    decision = decide(month_of(staff(5, 30), care_plans=no_copy, practice=warn), FEES)

    # then
    assert decision.lines == (ClaimLine("99490", 1),)
    assert decision.warnings == {BillingWarning.W_CARE_PLAN_COPY_MISSING}


def test_missing_plan_elements_warn_but_never_block() -> None:
    # given
    thin = (replace(BASE_PLAN, missing_elements=("measurable treatment goals",)),)

    # when
    decision = decide(month_of(staff(5, 30), care_plans=thin), FEES)

    # then
    assert decision.lines == (ClaimLine("99490", 1),)
    assert decision.warnings == {BillingWarning.W_CARE_PLAN_INCOMPLETE}
    assert "Warning: care plan version 1 lacks measurable treatment goals (R-PLAN-2)." in (
        decision.explanation
    )
