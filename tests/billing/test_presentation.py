"""Plain words for people: what would fix each reason, names in sentences, the chart's bars."""

from __future__ import annotations

import datetime as dt

import pytest

from billing.facts import UNASSIGNED, Person
from billing.presentation import bar_chart, fix_for, format_cents, humanize, reason_label
from billing.rules import (
    Condition,
    MonthDecision,
    NotBillableReason,
    PatientMonthFacts,
    PatientStatus,
    PracticePolicy,
)

DOCTOR = Person(id="m-3f2a1b4c-0000-4000-8000-000000000001", name="Dr. Ada Lee", npi="1234567893")
PEOPLE = {DOCTOR.id: DOCTOR}


def _facts(*, biller: str = DOCTOR.id, chronic: int = 2) -> PatientMonthFacts:
    return PatientMonthFacts(
        service_month=dt.date(2025, 2, 1),
        practice=PracticePolicy(timezone="America/New_York", place_of_service="11"),
        billing_practitioner=biller,
        patient=PatientStatus(medicare_part_b=True),
        conditions=tuple(
            Condition(code, chronic=True, active=True) for code in ("E11.9", "I10")[:chronic]
        ),
    )


def _blocked(reason: NotBillableReason, counted: int = 0) -> MonthDecision:
    return MonthDecision(
        lines=(),
        date_of_service=None,
        place_of_service=None,
        reason=reason,
        warnings=frozenset(),
        counted_minutes=counted,
        unpaid_minutes=0,
        diagnoses=(),
        explanation=(),
    )


_NB = NotBillableReason


@pytest.mark.parametrize(
    ("reason", "facts", "counted", "fix"),
    [
        (
            _NB.NB_TIME_BELOW_THRESHOLD,
            _facts(),
            19,
            "1 more minute of care management (19 of 20 counted)",
        ),
        (
            _NB.NB_TIME_BELOW_THRESHOLD,
            _facts(),
            12,
            "8 more minutes of care management (12 of 20 counted)",
        ),
        (
            _NB.NB_ELIG_CONDITIONS,
            _facts(chronic=1),
            0,
            "Attest 1 more active chronic condition on the problem list",
        ),
        (
            _NB.NB_ELIG_CONDITIONS,
            _facts(chronic=0),
            0,
            "Attest 2 more active chronic conditions on the problem list",
        ),
        (
            _NB.NB_CONSENT_MISSING,
            _facts(),
            0,
            "Consent missing: record the patient's consent to Dr. Ada Lee",
        ),
        (
            _NB.NB_CONSENT_MISSING,
            _facts(biller=UNASSIGNED),
            0,
            "Consent missing: choose a billing practitioner and record the consent",
        ),
        (
            _NB.NB_CONSENT_REVOKED,
            _facts(),
            0,
            "Consent revoked: record a new consent to Dr. Ada Lee if the patient agrees",
        ),
        (
            _NB.NB_INITIATING_VISIT,
            _facts(),
            0,
            "Initiating visit missing: Dr. Ada Lee sees the patient (E/M, AWV or IPPE) and "
            "discusses CCM",
        ),
        (
            _NB.NB_CARE_PLAN_MISSING,
            _facts(),
            0,
            "Care plan missing: Dr. Ada Lee signs the care plan",
        ),
        (
            _NB.NB_CARE_PLAN_COPY_MISSING,
            _facts(),
            0,
            "Care-plan copy missing: record the date the patient received a copy",
        ),
        (
            _NB.NB_NOT_ELIGIBLE_COVERAGE,
            _facts(),
            0,
            "Nothing to fix this month: check the patient's Medicare coverage",
        ),
        (
            _NB.NB_CONFLICT_HH_HOSPICE_ESRD,
            _facts(),
            0,
            "Nothing to fix: that service excludes CCM for the whole month",
        ),
        (
            _NB.NB_OTHER_CCM_PRACTITIONER,
            _facts(),
            0,
            "Confirm which practice furnishes CCM; only one is paid a month",
        ),
        (
            _NB.NB_CONFLICT_PCM_SAME_PRACTITIONER,
            _facts(),
            0,
            "Bill PCM or CCM, not both: void the PCM service if Dr. Ada Lee did not bill it",
        ),
        (
            _NB.NB_CONFLICT_APCM_SAME_PRACTITIONER,
            _facts(),
            0,
            "Bill APCM or CCM, not both: void the APCM service if Dr. Ada Lee did not bill it",
        ),
    ],
)
def test_each_reason_says_what_would_fix_it(
    reason: NotBillableReason, facts: PatientMonthFacts, counted: int, fix: str
) -> None:
    # given
    decision = _blocked(reason, counted)
    # when
    said = fix_for(facts=facts, decision=decision, people=PEOPLE)
    # then
    assert said == fix


def test_every_reason_has_plain_words() -> None:
    # given / when
    labels = {reason: reason_label(reason) for reason in NotBillableReason}
    # then
    assert all(label != reason for reason, label in labels.items())
    assert reason_label("NB_SOMETHING_NEW") == "NB_SOMETHING_NEW"


def test_sentences_name_people_instead_of_their_ids() -> None:
    # given
    sentences = [
        f"Not billable: no consent to {DOCTOR.id} is documented on or before 2025-02-28.",
        "Not billable: no consent to unassigned is documented.",
        "Billed 99490 x1 (staff family, R-CODE-1/2).",
    ]
    # when
    named = humanize(sentences, PEOPLE)
    # then
    assert named == [
        "Not billable: no consent to Dr. Ada Lee is documented on or before 2025-02-28.",
        "Not billable: no consent to no billing practitioner is documented.",
        "Billed 99490 x1 (staff family, R-CODE-1/2).",
    ]


@pytest.mark.parametrize(
    ("cents", "text"), [(None, "—"), (0, "$0.00"), (6049, "$60.49"), (123456789, "$1,234,567.89")]
)
def test_money_reads_as_dollars(cents: int | None, text: str) -> None:
    # given / when / then
    assert format_cents(cents) == text


def test_chart_scales_bars_to_the_largest_month_and_keeps_the_newest_on_the_right() -> None:
    # given two closed months and the open current one
    points = [("Jan 25", 5000, True), ("Feb 25", 10000, True), ("Mar 25", 0, False)]
    # when
    chart = bar_chart(points, title="Billed")
    # then
    assert [(bar.label, bar.height, bar.value_label) for bar in chart.bars] == [
        ("Jan 25", 88, "$50"),
        ("Feb 25", 176, "$100"),
        ("Mar 25", 0, "open"),
    ]
    assert [bar.x for bar in chart.bars] == [385, 502, 619]  # slots 4 to 6 of 6, 117 wide
    assert {bar.width for bar in chart.bars} == {64}
    assert all(bar.y + bar.height == chart.baseline for bar in chart.bars)
