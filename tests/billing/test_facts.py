"""Facts from the database: what the engine gets, who is in scope, and the JSON path."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from billing.facts import month_facts
from billing.fees import default_fee_schedule
from billing.models import Claim, NotBillable
from billing.rules import (
    CarePlanVersion,
    Condition,
    Consent,
    ConsentMethod,
    PatientMonthFacts,
    PatientStatus,
    PracticePolicy,
    Role,
    TimeEntry,
    Visit,
    decide,
    format_lines,
)
from billing.scenario import facts_to_json, parse_facts, parse_scenario_text
from billing.services.months import billing_month_close
from ccm.models import Membership, Practice
from ccm.tenancy import practice_context
from tests.billing.builders import (
    FEBRUARY,
    SETUP_DAY,
    UTC,
    demo_like_month,
    enrolled_patient,
    local,
    log_minutes,
)

MISSING_ELEMENTS = (
    "expected outcome and prognosis",
    "cognitive and functional assessment",
    "medication management",
    "environmental evaluation",
    "caregiver assessment",
    "community/social services ordered",
    "interaction and coordination with outside resources, practitioners and providers",
    "requirements for periodic review",
)


def _facts(practice: Practice) -> dict[str, PatientMonthFacts]:
    with practice_context(practice.pk):
        found = month_facts(practice=practice, service_month=FEBRUARY)
    return {month.mrn: month.facts for month in found.patients}


@pytest.mark.django_db
def test_month_facts_are_exactly_what_the_engine_takes(
    practice: Practice, physician: Membership, coordinator: Membership
) -> None:
    # given a patient set up on 20 January and 25 minutes on 10 February
    patient = enrolled_patient(practice, physician, coordinator)
    log_minutes(practice, coordinator, patient, minutes=25)
    # when
    facts = _facts(practice)
    # then
    doctor = f"m-{physician.public_id}"
    assert facts == {
        patient.mrn: PatientMonthFacts(
            service_month=FEBRUARY,
            practice=PracticePolicy(timezone="America/New_York", place_of_service="11"),
            billing_practitioner=doctor,
            patient=PatientStatus(medicare_part_b=True),
            conditions=(
                Condition(code="E11.9", chronic=True, active=True),
                Condition(code="I10", chronic=True, active=True),
            ),
            visits=(Visit(date=SETUP_DAY, code="99214", by=doctor, ccm_discussed=True),),
            consents=(
                Consent(
                    practitioner=doctor,
                    obtained=SETUP_DAY,
                    revoked=None,
                    method=ConsentMethod.VERBAL,
                ),
            ),
            care_plans=(
                CarePlanVersion(
                    version=1,
                    signed_by=doctor,
                    signed_on=SETUP_DAY,
                    patient_copy_on=SETUP_DAY,
                    substantial_revision=True,
                    missing_elements=MISSING_ELEMENTS,
                ),
            ),
            time_entries=(
                TimeEntry(
                    by=f"m-{coordinator.public_id}",
                    role=Role.CLINICAL_STAFF,
                    start=local(dt.date(2025, 2, 10), 10).astimezone(UTC),
                    end=local(dt.date(2025, 2, 10), 10, 25).astimezone(UTC),
                ),
            ),
        )
    }


@pytest.mark.django_db
def test_month_scope_is_patients_enrolled_during_the_month_or_with_time_logged(
    practice: Practice, physician: Membership, coordinator: Membership
) -> None:
    # given
    enrolled = enrolled_patient(practice, physician, coordinator)
    enrolled_late = enrolled_patient(
        practice, physician, coordinator, setup_at=dt.datetime(2025, 2, 20, 15, tzinfo=UTC)
    )
    enrolled_after = enrolled_patient(
        practice, physician, coordinator, setup_at=dt.datetime(2025, 3, 3, 15, tzinfo=UTC)
    )
    identified = enrolled_patient(practice, physician, coordinator, consent=False)
    identified_with_time = enrolled_patient(practice, physician, coordinator, consent=False)
    log_minutes(practice, coordinator, identified_with_time, minutes=10)
    # when
    facts = _facts(practice)
    # then
    assert sorted(facts) == sorted([enrolled.mrn, enrolled_late.mrn, identified_with_time.mrn])
    assert enrolled_after.mrn not in facts
    assert identified.mrn not in facts


@pytest.mark.django_db
def test_facts_survive_the_scenario_json_round_trip(
    practice: Practice, physician: Membership, coordinator: Membership
) -> None:
    # given a month with every kind of fact
    demo_like_month(practice, physician, coordinator)
    facts = _facts(practice)
    # when
    again = {mrn: parse_facts(json.loads(json.dumps(facts_to_json(f)))) for mrn, f in facts.items()}
    # then
    assert again == facts


@pytest.mark.django_db
def test_database_path_and_json_path_decide_the_same_on_a_demo_like_month(
    practice: Practice,
    physician: Membership,
    coordinator: Membership,
    manager: Membership,
    tmp_path: Path,
) -> None:
    # given February of a demo-like panel, closed through the database path
    patients = demo_like_month(practice, physician, coordinator)
    with practice_context(practice.pk):
        billing_month_close(practice=practice, actor=manager, service_month=FEBRUARY)
        claims = {
            claim.patient.mrn: (
                tuple((line.code, line.units) for line in claim.lines.order_by("position")),
                claim.date_of_service,
                claim.counted_minutes,
                claim.warnings,
            )
            for claim in Claim.objects.for_practice(practice).select_related("patient")
        }
        records = {
            record.patient.mrn: record
            for record in NotBillable.objects.for_practice(practice).select_related("patient")
        }
    # when the month is exported and each file is decided without the database
    call_command(
        "export_month_facts",
        practice="maple",
        month="2025-02",
        output=str(tmp_path),
        stdout=StringIO(),
    )
    checked = StringIO()
    call_command("explain_month", *sorted(map(str, tmp_path.iterdir())), check=True, stdout=checked)
    replayed = {}
    for path in sorted(tmp_path.iterdir()):
        scenario = parse_scenario_text(path.read_text())
        replayed[scenario.id.rsplit("-", 1)[1]] = decide(scenario.facts, default_fee_schedule())
    # then every file passes --check, and each decision is the database's
    assert checked.getvalue().splitlines()[-1] == f"{len(patients)} passed, 0 failed"
    assert sorted(replayed) == sorted(p.mrn for p in patients.values())
    for mrn, decision in replayed.items():
        if decision.billable:
            assert claims[mrn] == (
                tuple((line.code, line.units) for line in decision.lines),
                decision.date_of_service,
                decision.counted_minutes,
                sorted(decision.warnings),
            )
            assert mrn not in records
        else:
            record = records[mrn]
            assert (record.reason, record.counted_minutes, record.warnings) == (
                decision.reason,
                decision.counted_minutes,
                sorted(decision.warnings),
            )
            assert mrn not in claims
    outcome = {
        label: format_lines(replayed[patient.mrn].lines)
        if replayed[patient.mrn].billable
        else replayed[patient.mrn].reason
        for label, patient in patients.items()
    }
    assert outcome == {
        "twenty": "99490 x1",
        "forty": "99490 x1 + 99439 x1",
        "sixty": "99490 x1 + 99439 x2",
        "shared": "99490 x1 + 99439 x1",
        "physician": "99491 x1",
        "short": "NB_TIME_BELOW_THRESHOLD",
        "no consent": "NB_CONSENT_MISSING",
        "no plan": "NB_CARE_PLAN_MISSING",
        "no copy": "NB_CARE_PLAN_COPY_MISSING",
        "one condition": "NB_ELIG_CONDITIONS",
        "hospice": "NB_CONFLICT_HH_HOSPICE_ESRD",
        "died": "NB_TIME_BELOW_THRESHOLD",
        "inpatient": "99490 x1",
        "visit time": "99490 x1",
        "complex": "99487 x1",
    }
