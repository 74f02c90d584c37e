"""``close_month`` and ``export_month_facts``."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billing.models import BillingMonthState
from billing.scenario import parse_scenario
from billing.selectors import billing_month_for
from ccm.audit import AuditEvent
from ccm.models import AuditLog, Membership, Practice
from ccm.tenancy import practice_context
from patients.models import Patient
from tests.billing.builders import FEBRUARY, enrolled_patient, log_minutes
from tests.billing.conftest import billing_state


@pytest.fixture
def billed(practice: Practice, physician: Membership, coordinator: Membership) -> Patient:
    patient = enrolled_patient(practice, physician, coordinator)
    log_minutes(practice, coordinator, patient, minutes=45)
    return patient


def _run(*args: str, **options: Any) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_close_month_closes_and_a_second_run_changes_nothing(
    practice: Practice, billed: Patient
) -> None:
    # given
    # when
    first = _run("close_month", practice="maple", month="2025-02")
    after_first = billing_state(practice)
    second = _run("close_month", practice="maple", month="2025-02")
    # then
    assert first == (
        "Closed February 2025 for Maple Family Medicine (close 1): 1 claims, $106.42; "
        "0 patients not billable.\n"
    )
    assert second == "February 2025 is already closed (close 1): nothing changed.\n"
    assert billing_state(practice) == after_first
    with practice_context(practice.pk):
        month = billing_month_for(practice=practice, service_month=FEBRUARY)
    assert month is not None
    assert (month.state, month.closed_by) == (BillingMonthState.CLOSED, None)


@pytest.mark.django_db
def test_close_month_refuses_a_month_that_has_not_ended(practice: Practice) -> None:
    # given
    before = billing_state(practice)
    # when / then
    with pytest.raises(CommandError, match=r"^March 2025 has not ended yet in America/New_York\.$"):
        _run("close_month", practice="maple", month="2025-03")
    assert billing_state(practice) == before


@pytest.mark.django_db
def test_close_month_names_an_unknown_practice(db: None) -> None:
    # given / when / then
    with pytest.raises(CommandError, match=r"^No practice with slug 'nowhere'\.$"):
        _run("close_month", practice="nowhere", month="2025-02")


@pytest.mark.django_db
def test_export_prints_one_patient_s_scenario_with_its_decision_and_audits_it(
    practice: Practice, billed: Patient
) -> None:
    # given
    # when
    printed = _run("export_month_facts", practice="maple", month="2025-02", patient=[billed.mrn])
    # then
    scenario = parse_scenario(json.loads(printed))
    assert (scenario.id, scenario.facts.service_month) == (f"maple-2025-02-{billed.mrn}", FEBRUARY)
    assert scenario.expected is not None
    assert [(line.code, line.units) for line in scenario.expected.lines] == [
        ("99490", 1),
        ("99439", 1),
    ]
    with practice_context(practice.pk):
        audit = AuditLog.objects.for_practice(practice).get(event=AuditEvent.BILLING_FACTS_EXPORTED)
    assert (audit.actor, audit.patient_public_id) == (None, billed.public_id)


@pytest.mark.django_db
def test_export_writes_one_file_per_patient_in_scope(
    practice: Practice,
    physician: Membership,
    coordinator: Membership,
    billed: Patient,
    tmp_path: Path,
) -> None:
    # given a second patient, enrolled, without time
    other = enrolled_patient(practice, physician, coordinator)
    # when
    printed = _run("export_month_facts", practice="maple", month="2025-02", output=str(tmp_path))
    # then
    assert printed == f"Wrote 2 scenario files to {tmp_path}\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [f"2025-02-{billed.mrn}.json", f"2025-02-{other.mrn}.json"]
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"month": "2025-02"},
            r"^Give --output DIR, or one --patient MRN to print its scenario\.$",
        ),
        ({"month": "2025-02", "patient": ["NOPE"]}, r"^No patient with MRN NOPE in maple\.$"),
        ({"month": "Feb"}, r"^'Feb' is not a month like 2025-03$"),
    ],
)
def test_export_refuses_what_it_cannot_do(
    practice: Practice, options: dict[str, object], message: str
) -> None:
    # given / when / then
    with pytest.raises(CommandError, match=message):
        _run("export_month_facts", practice="maple", **options)
