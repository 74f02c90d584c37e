"""The billing API: months, claims (constant queries), close and reopen commands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import BillingMonth, BillingMonthState, Claim
from billing.services.months import billing_month_close
from ccm.audit import AuditEvent
from ccm.models import AuditLog, Membership, Practice
from ccm.permissions import Role
from ccm.tenancy import practice_context
from patients.models import Patient
from tests.billing.builders import FEBRUARY, enrolled_patient, log_minutes
from tests.billing.conftest import billing_state

ClientFor = Callable[[Membership], Client]


def _close(practice: Practice, actor: Membership) -> BillingMonth:
    with practice_context(practice.pk):
        return billing_month_close(practice=practice, actor=actor, service_month=FEBRUARY)


def _billed(
    practice: Practice, physician: Membership, coordinator: Membership, count: int
) -> list[Patient]:
    made = []
    for index in range(count):
        patient = enrolled_patient(practice, physician, coordinator)
        log_minutes(
            practice,
            coordinator,
            patient,
            minutes=20 + index,
            day=dt.date(2025, 2, 1 + index % 28),
            hour=8 + index // 28 * 4,
        )
        made.append(patient)
    return made


@pytest.mark.django_db
def test_claims_of_a_month_are_listed_with_the_same_queries_for_one_or_fifty(
    practice: Practice,
    other_practice: Practice,
    members: dict[Role, Membership],
    other_members: dict[Role, Membership],
    client_for: ClientFor,
) -> None:
    # given one claim in practice, fifty in other_practice
    _billed(practice, members[Role.PHYSICIAN], members[Role.CARE_COORDINATOR], 1)
    _billed(other_practice, other_members[Role.PHYSICIAN], other_members[Role.CARE_COORDINATOR], 50)
    one = _close(practice, members[Role.PRACTICE_MANAGER])
    fifty = _close(other_practice, other_members[Role.PRACTICE_MANAGER])
    client_one = client_for(members[Role.PRACTICE_MANAGER])
    client_fifty = client_for(other_members[Role.PRACTICE_MANAGER])
    # when
    with CaptureQueriesContext(connection) as queries_one:
        response_one = client_one.get(reverse("api_billing_month_claims", args=[one.public_id]))
    with CaptureQueriesContext(connection) as queries_fifty:
        response_fifty = client_fifty.get(
            reverse("api_billing_month_claims", args=[fifty.public_id])
        )
    # then
    assert (response_one.status_code, response_fifty.status_code) == (200, 200)
    assert (response_one.json()["count"], response_fifty.json()["count"]) == (1, 50)
    assert len(queries_one.captured_queries) == len(queries_fifty.captured_queries)
    with practice_context(other_practice.pk):
        audit = AuditLog.objects.for_practice(other_practice).get(event=AuditEvent.CLAIM_VIEWED)
    assert len(audit.changes["patient_ids"]) == 50


@pytest.mark.django_db
def test_claim_detail_gives_lines_fees_and_the_explanation(
    practice: Practice,
    manager: Membership,
    physician: Membership,
    coordinator: Membership,
    client_for: ClientFor,
) -> None:
    # given
    [patient] = _billed(practice, physician, coordinator, 1)
    _close(practice, manager)
    with practice_context(practice.pk):
        claim = Claim.objects.for_practice(practice).get()
    # when
    response = client_for(manager).get(reverse("api_billing_claim", args=[claim.public_id]))
    # then
    data = response.json()
    assert response.status_code == 200
    assert {key: data[key] for key in data if key != "explanation"} == {
        "id": str(claim.public_id),
        "month": "2025-02",
        "generation": 1,
        "patient": str(patient.public_id),
        "patient_mrn": patient.mrn,
        "patient_name": patient.full_name,
        "billing_practitioner": str(physician.public_id),
        "practitioner_name": "Physician (billing practitioner) maple, MD",
        "practitioner_npi": "1234567893",
        "date_of_service": "2025-02-01",
        "place_of_service": "11",
        "diagnoses": ["E11.9", "I10"],
        "family": "staff",
        "counted_minutes": 20,
        "unpaid_minutes": 0,
        "warnings": ["W_CARE_PLAN_INCOMPLETE"],
        "lines": [{"code": "99490", "units": 1, "unit_cents": 6049, "total_cents": 6049}],
        "total_cents": 6049,
        "is_superseded": False,
    }
    assert data["explanation"][0] == (
        "CY2025 rules; service month 2025-02 in America/New_York (POL-TZ)."
    )


@pytest.mark.django_db
def test_months_are_listed_newest_first_without_patient_data(
    practice: Practice,
    manager: Membership,
    physician: Membership,
    coordinator: Membership,
    client_for: ClientFor,
) -> None:
    # given
    _billed(practice, physician, coordinator, 1)
    month = _close(practice, manager)
    before = billing_state(practice)
    # when
    response = client_for(manager).get(reverse("api_billing_months"))
    # then
    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": str(month.public_id),
            "month": "2025-02",
            "state": "closed",
            "generation": 1,
            "claim_count": 1,
            "not_billable_count": 0,
            "total_cents": 6049,
            "close_requested_at": None,
            "closed_at": "2025-03-05T12:00:00-05:00",
            "closed_by": str(manager.public_id),
            "reopened_at": None,
            "reopen_reason": "",
        }
    ]
    assert billing_state(practice) == before


@pytest.mark.django_db
def test_close_command_accepts_and_queues_the_close(
    practice: Practice,
    manager: Membership,
    client_for: ClientFor,
    django_capture_on_commit_callbacks: object,
) -> None:
    # given
    client = client_for(manager)
    # when
    with (
        mock.patch("billing.services.months.billing_month_close_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),  # type: ignore[operator]
    ):
        response = client.post(
            reverse("api_billing_month_close"),
            {"month": "2025-02"},
            content_type="application/json",
        )
    # then
    assert response.status_code == 202
    assert (response.json()["month"], response.json()["state"]) == ("2025-02", "closing")
    delay.assert_called_once_with(
        practice_id=practice.pk, service_month="2025-02-01", actor_id=manager.pk
    )


@pytest.mark.django_db
def test_close_command_of_a_closed_month_answers_200_and_changes_nothing(
    practice: Practice,
    manager: Membership,
    physician: Membership,
    coordinator: Membership,
    client_for: ClientFor,
) -> None:
    # given
    _billed(practice, physician, coordinator, 1)
    _close(practice, manager)
    before = billing_state(practice)
    # when
    response = client_for(manager).post(
        reverse("api_billing_month_close"), {"month": "2025-02"}, content_type="application/json"
    )
    # then
    assert (response.status_code, response.json()["state"]) == (200, "closed")
    assert billing_state(practice) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2025-03", {"month": ["March 2025 has not ended yet in America/New_York."]}),
        ("March", {"month": ["Give the month as YYYY-MM."]}),
    ],
)
def test_close_command_refuses_a_bad_month_and_changes_nothing(
    practice: Practice, manager: Membership, client_for: ClientFor, month: str, message: object
) -> None:
    # given
    before = billing_state(practice)
    # when
    response = client_for(manager).post(
        reverse("api_billing_month_close"), {"month": month}, content_type="application/json"
    )
    # then
    assert (response.status_code, response.json()) == (400, message)
    assert billing_state(practice) == before


@pytest.mark.django_db
def test_physician_may_not_close_a_month(
    practice: Practice, physician: Membership, client_for: ClientFor
) -> None:
    # given
    before = billing_state(practice)
    # when
    response = client_for(physician).post(
        reverse("api_billing_month_close"), {"month": "2025-02"}, content_type="application/json"
    )
    # then
    assert response.status_code == 403
    assert billing_state(practice) == before


@pytest.mark.django_db
def test_reopen_command_reopens_a_closed_month(
    practice: Practice,
    manager: Membership,
    physician: Membership,
    coordinator: Membership,
    client_for: ClientFor,
) -> None:
    # given
    _billed(practice, physician, coordinator, 1)
    month = _close(practice, manager)
    # when
    response = client_for(manager).post(
        reverse("api_billing_month_reopen", args=[month.public_id]),
        {"reason": "A call was logged on the wrong patient"},
        content_type="application/json",
    )
    # then
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["reopen_reason"]) == (
        BillingMonthState.REOPENED,
        "A call was logged on the wrong patient",
    )


@pytest.mark.django_db
def test_coordinator_gets_no_billing_data(
    practice: Practice, coordinator: Membership, client_for: ClientFor
) -> None:
    # given
    # when
    response = client_for(coordinator).get(reverse("api_billing_months"))
    # then
    assert response.status_code == 403


@pytest.mark.django_db
def test_not_billable_records_say_why_and_what_would_fix_it(
    practice: Practice, members: dict[Role, Membership], client_for: ClientFor
) -> None:
    # given a month with one patient 8 minutes short
    manager, coordinator = members[Role.PRACTICE_MANAGER], members[Role.CARE_COORDINATOR]
    patient = enrolled_patient(practice, members[Role.PHYSICIAN], coordinator)
    log_minutes(practice, coordinator, patient, minutes=12)
    month = _close(practice, manager)
    client = client_for(manager)
    # when
    detail = client.get(reverse("api_billing_month", args=[month.public_id]))
    records = client.get(reverse("api_billing_month_not_billable", args=[month.public_id]))
    # then
    assert (detail.status_code, detail.json()["not_billable_count"]) == (200, 1)
    [record] = records.json()["results"]
    assert {key: value for key, value in record.items() if key != "explanation"} == {
        "patient": str(patient.public_id),
        "patient_mrn": patient.mrn,
        "patient_name": patient.full_name,
        "reason": "NB_TIME_BELOW_THRESHOLD",
        "reason_label": "Not enough time",
        "fix": "8 more minutes of care management (12 of 20 counted)",
        "counted_minutes": 12,
        "warnings": ["W_CARE_PLAN_INCOMPLETE"],
    }
    with practice_context(practice.pk):
        audit = AuditLog.objects.for_practice(practice).get(event=AuditEvent.NOT_BILLABLE_VIEWED)
    assert audit.patient_public_id == patient.public_id
