"""The billing pages: months, a month, the not-billable worklist, a claim, downloads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from billing.models import BillingMonth, BillingMonthState, BillingReport, Claim, ReportKind
from billing.services.months import billing_month_close
from billing.services.reports import billing_report_render
from ccm.audit import AuditEvent
from ccm.models import AuditLog, Membership, Practice
from ccm.permissions import Role
from ccm.tenancy import practice_context
from patients.models import Patient
from tests.billing.builders import FEBRUARY, enrolled_patient, log_minutes
from tests.billing.conftest import billing_state

ClientFor = Callable[[Membership], Client]


@pytest.fixture(autouse=True)
def private_storage(settings: object, tmp_path: Path) -> None:
    settings.STORAGES = {  # type: ignore[attr-defined]
        **settings.STORAGES,  # type: ignore[attr-defined]
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }


@pytest.fixture
def patients(
    practice: Practice, physician: Membership, coordinator: Membership
) -> tuple[Patient, Patient]:
    billed = enrolled_patient(practice, physician, coordinator, last_name="Abbott")
    log_minutes(practice, coordinator, billed, minutes=25)
    short = enrolled_patient(practice, physician, coordinator, last_name="Baker")
    log_minutes(practice, coordinator, short, minutes=12, hour=14)
    return billed, short


@pytest.fixture
def closed(
    practice: Practice, manager: Membership, patients: tuple[Patient, Patient]
) -> BillingMonth:
    with practice_context(practice.pk):
        return billing_month_close(practice=practice, actor=manager, service_month=FEBRUARY)


def _audits(practice: Practice, event: AuditEvent) -> list[AuditLog]:
    with practice_context(practice.pk):
        return list(
            AuditLog.objects.for_practice(practice)
            .select_related("actor")
            .filter(event=event)
            .order_by("id")
        )


@pytest.mark.django_db
@pytest.mark.django_db
@pytest.mark.usefixtures("patients")
def test_month_page_shows_this_month_so_far_the_chart_and_what_can_be_closed(
    practice: Practice, members: dict[Role, Membership], client_for: ClientFor
) -> None:
    # given February's time (the first month with any), and 22 minutes in March so far
    manager, physician = members[Role.PRACTICE_MANAGER], members[Role.PHYSICIAN]
    coordinator = members[Role.CARE_COORDINATOR]
    march = enrolled_patient(practice, physician, coordinator)
    log_minutes(practice, coordinator, march, minutes=22, day=dt.date(2025, 3, 3))
    before = billing_state(practice)
    # when
    response = client_for(manager).get(reverse("billing_months"))
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert "March 2025 so far" in body
    assert 'Billable now: <span class="mono">99490 x1</span>' in body
    assert "$60.49" in body
    assert '<svg class="chart"' in body
    assert f'action="{reverse("billing_month_close", args=["2025-02"])}"' in body
    assert "January 2025" not in body  # before the first month with time
    assert " style=" not in body
    assert billing_state(practice) == before  # aggregates only: no patient shown, no audit


@pytest.mark.django_db
def test_coordinator_cannot_open_billing(
    practice: Practice, coordinator: Membership, client_for: ClientFor
) -> None:
    # given
    # when
    response = client_for(coordinator).get(reverse("billing_months"))
    # then
    assert response.status_code == 403


@pytest.mark.django_db
def test_close_now_marks_the_month_closing_and_shows_it(
    practice: Practice,
    manager: Membership,
    patients: tuple[Patient, Patient],
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
        response = client.post(reverse("billing_month_close", args=["2025-02"]))
    # then
    with practice_context(practice.pk):
        month = BillingMonth.objects.for_practice(practice).get()
    assert month.state == BillingMonthState.CLOSING
    assert response.status_code == 302
    assert response["Location"] == reverse("billing_month", args=[month.public_id])
    delay.assert_called_once_with(
        practice_id=practice.pk, service_month="2025-02-01", actor_id=manager.pk
    )
    page = client.get(response["Location"]).content.decode()
    assert "Closing February 2025…" in page
    assert f'hx-get="{reverse("billing_month_status", args=[month.public_id])}"' in page


@pytest.mark.django_db
def test_closing_status_asks_the_page_to_reload_once_the_month_is_closed(
    practice: Practice, manager: Membership, closed: BillingMonth, client_for: ClientFor
) -> None:
    # given
    # when
    response = client_for(manager).get(reverse("billing_month_status", args=[closed.public_id]))
    # then
    assert response.status_code == 200
    assert response["HX-Refresh"] == "true"


@pytest.mark.django_db
def test_month_page_lists_the_claims_and_audits_the_patients_it_showed(
    practice: Practice,
    manager: Membership,
    closed: BillingMonth,
    patients: tuple[Patient, Patient],
    client_for: ClientFor,
) -> None:
    # given
    billed, short = patients
    # when
    response = client_for(manager).get(reverse("billing_month", args=[closed.public_id]))
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert f"Abbott, {billed.first_name}" in body
    assert "Not enough time" in body
    assert f"Baker, {short.first_name}" not in body  # reasons are counted here, listed elsewhere
    assert " style=" not in body
    [audit] = _audits(practice, AuditEvent.BILLING_MONTH_VIEWED)
    assert (audit.actor, audit.patient_public_id, audit.object_public_id) == (
        manager,
        billed.public_id,
        closed.public_id,
    )


@pytest.mark.django_db
def test_not_billable_worklist_says_why_and_what_would_fix_it(
    practice: Practice,
    manager: Membership,
    closed: BillingMonth,
    patients: tuple[Patient, Patient],
    client_for: ClientFor,
) -> None:
    # given
    _, short = patients
    # when
    response = client_for(manager).get(
        reverse("billing_not_billable", args=[closed.public_id]),
        {"reason": "NB_TIME_BELOW_THRESHOLD"},
    )
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert f"Baker, {short.first_name}" in body
    assert "8 more minutes of care management (12 of 20 counted)" in body
    assert " style=" not in body
    [audit] = _audits(practice, AuditEvent.NOT_BILLABLE_VIEWED)
    assert audit.changes == {"patient_ids": [str(short.public_id)]}


@pytest.mark.django_db
def test_claim_page_shows_lines_and_the_decision_in_people_s_names(
    practice: Practice,
    manager: Membership,
    closed: BillingMonth,
    patients: tuple[Patient, Patient],
    client_for: ClientFor,
) -> None:
    # given
    billed, _ = patients
    with practice_context(practice.pk):
        claim = Claim.objects.for_practice(practice).get()
    # when
    response = client_for(manager).get(reverse("billing_claim", args=[claim.public_id]))
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert "Date of service 2025-02-10" in body
    assert "Prepare audit packet" in body
    assert "m-" + str(manager.public_id) not in body
    [audit] = _audits(practice, AuditEvent.CLAIM_VIEWED)
    assert audit.patient_public_id == billed.public_id


@pytest.mark.django_db
def test_manager_downloads_the_billing_csv_and_the_download_is_audited(
    practice: Practice,
    manager: Membership,
    closed: BillingMonth,
    patients: tuple[Patient, Patient],
    client_for: ClientFor,
) -> None:
    # given a rendered billing CSV
    billed, _ = patients
    with practice_context(practice.pk):
        report = BillingReport.objects.for_practice(practice).get(kind=ReportKind.BILLING_CSV)
        billing_report_render(practice=practice, report=report)
    # when
    response = client_for(manager).get(reverse("billing_report_download", args=[report.public_id]))
    # then
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="billing-2025-02.csv"'
    assert content.startswith(b"Practice NPI,Practice TIN,")
    [audit] = _audits(practice, AuditEvent.BILLING_REPORT_DOWNLOADED)
    assert (audit.actor, audit.changes, audit.object_public_id) == (
        manager,
        {"patient_ids": [str(billed.public_id)]},
        report.public_id,
    )


@pytest.mark.django_db
def test_physician_may_read_billing_but_not_download_reports(
    practice: Practice, physician: Membership, closed: BillingMonth, client_for: ClientFor
) -> None:
    # given
    with practice_context(practice.pk):
        report = BillingReport.objects.for_practice(practice).get(kind=ReportKind.BILLING_CSV)
    before = billing_state(practice)
    client = client_for(physician)
    # when
    page = client.get(reverse("billing_month", args=[closed.public_id]))
    download = client.get(reverse("billing_report_download", args=[report.public_id]))
    # then
    assert (page.status_code, download.status_code) == (200, 403)
    after = billing_state(practice)
    assert len(after["AuditLog"]) == len(before["AuditLog"]) + 1  # the page's read, not more


@pytest.mark.django_db
def test_manager_reopens_a_month_with_a_reason(
    practice: Practice, manager: Membership, closed: BillingMonth, client_for: ClientFor
) -> None:
    # given
    # when
    response = client_for(manager).post(
        reverse("billing_month_reopen", args=[closed.public_id]), {"reason": "Late notes"}
    )
    # then
    with practice_context(practice.pk):
        month = BillingMonth.objects.for_practice(practice).get()
    assert response.status_code == 302
    assert (month.state, month.reopen_reason) == (BillingMonthState.REOPENED, "Late notes")
    assert [audit.changes for audit in _audits(practice, AuditEvent.BILLING_MONTH_REOPENED)] == [
        {"service_month": "2025-02", "reason": "Late notes"}
    ]


@pytest.mark.django_db
def test_reopen_without_a_reason_changes_nothing(
    practice: Practice, manager: Membership, closed: BillingMonth, client_for: ClientFor
) -> None:
    # given
    before = billing_state(practice)
    # when
    response = client_for(manager).post(
        reverse("billing_month_reopen", args=[closed.public_id]), {"reason": ""}
    )
    # then
    assert response.status_code == 302
    assert billing_state(practice) == before
