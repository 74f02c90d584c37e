"""Reports of a closed month: billing CSV, not-billable CSV, billing PDF, audit packet PDF.

The PDFs are rasterised with poppler's ``pdftoppm`` and their text extracted with
``pdftotext``: each page must carry the repeated table header, and the pages must not be blank.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
from pathlib import Path
from unittest import mock

import pytest
from django.core.files.storage import default_storage

from billing.models import BillingMonth, BillingReport, Claim, ReportKind, ReportStatus
from billing.reports import BILLING_COLUMNS, NOT_BILLABLE_COLUMNS
from billing.services.months import billing_month_close
from billing.services.reports import billing_audit_packet_request, billing_report_render
from billing.tasks import billing_report_render_task
from ccm.audit import AuditEvent
from ccm.errors import PermissionDenied
from ccm.models import AuditLog, Membership, Practice
from ccm.permissions import Role
from ccm.tenancy import practice_context
from patients.models import Patient
from tests.billing.builders import FEBRUARY, enrolled_patient, log_minutes
from tests.billing.conftest import billing_state


@pytest.fixture(autouse=True)
def private_storage(settings: object, tmp_path: Path) -> None:
    settings.STORAGES = {  # type: ignore[attr-defined]
        **settings.STORAGES,  # type: ignore[attr-defined]
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }


def _closed_month(
    practice: Practice, manager: Membership, physician: Membership, coordinator: Membership
) -> tuple[BillingMonth, Patient, Patient]:
    billed = enrolled_patient(practice, physician, coordinator, last_name="Abbott")
    log_minutes(practice, coordinator, billed, minutes=45)
    short = enrolled_patient(practice, physician, coordinator, last_name="Baker")
    log_minutes(practice, coordinator, short, minutes=12, hour=14)
    with practice_context(practice.pk):
        month = billing_month_close(practice=practice, actor=manager, service_month=FEBRUARY)
    return month, billed, short


def _render(practice: Practice, kind: ReportKind) -> bytes:
    with practice_context(practice.pk):
        report = BillingReport.objects.for_practice(practice).get(kind=kind)
        rendered = billing_report_render(practice=practice, report=report)
        with rendered.file.open("rb") as handle:
            return handle.read()


def pdf_pages(pdf: bytes, folder: Path, name: str) -> list[Path]:
    """Rasterise every page to PNG (100 dpi) with pdftoppm; the PNG paths, in page order."""
    source = folder / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(source), str(folder / name)], check=True)
    return sorted(folder.glob(f"{name}-*.png"))


def pdf_text(pdf: bytes, folder: Path, name: str) -> list[str]:
    """The text of each page (pdftotext, layout kept)."""
    source = folder / f"{name}.pdf"
    source.write_bytes(pdf)
    output = subprocess.run(
        ["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True, text=True
    ).stdout
    return output.split("\f")[:-1]


def _ink(png: Path) -> int:
    """How many bytes of the page differ from white (a blank page has none)."""
    from PIL import Image  # noqa: PLC0415  (Pillow comes with WeasyPrint)

    with Image.open(png) as image:
        grey = image.convert("L")
        return sum(grey.histogram()[:200])


@pytest.mark.django_db
def test_billing_csv_has_one_row_per_claim_line_and_a_totals_row(
    practice: Practice, manager: Membership, physician: Membership, coordinator: Membership
) -> None:
    # given a closed February: one claim of two lines, one patient not billable
    _, billed, _ = _closed_month(practice, manager, physician, coordinator)
    # when
    content = _render(practice, ReportKind.BILLING_CSV)
    # then
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    name = f"Abbott, {billed.first_name}"
    doctor = "Physician (billing practitioner) maple, MD"
    common = [
        "1234567893",
        "123456789",
        doctor,
        "1234567893",
        name,
        billed.mrn,
        billed.mbi,
        "1950-06-15",
        "2025-02-10",
        "11",
    ]
    assert rows == [
        list(BILLING_COLUMNS),
        [*common, "99490", "1", "E11.9 I10", "60.49"],
        [*common, "99439", "1", "E11.9 I10", "45.93"],
        ["TOTAL", "", "", "", "1 claims", "", "", "", "", "", "2 lines", "2", "", "106.42"],
    ]


@pytest.mark.django_db
def test_not_billable_csv_says_why_and_what_would_fix_it(
    practice: Practice, manager: Membership, physician: Membership, coordinator: Membership
) -> None:
    # given
    _, _, short = _closed_month(practice, manager, physician, coordinator)
    # when
    content = _render(practice, ReportKind.NOT_BILLABLE_CSV)
    # then
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    assert rows[0] == list(NOT_BILLABLE_COLUMNS)
    assert rows[1][:8] == [
        f"Baker, {short.first_name}",
        short.mrn,
        "1950-06-15",
        "Physician (billing practitioner) maple",
        "NB_TIME_BELOW_THRESHOLD",
        "Not enough time",
        "8 more minutes of care management (12 of 20 counted)",
        "12",
    ]
    assert rows[1][8].endswith("8 more minutes would reach 99490 (20 minutes) (R-CODE-2, AMB-21).")
    assert len(rows) == 2


@pytest.mark.django_db
def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(
    practice: Practice, manager: Membership, physician: Membership, coordinator: Membership
) -> None:
    # given a patient whose last name starts like a formula
    billed = enrolled_patient(practice, physician, coordinator, last_name="=HYPERLINK(1)")
    log_minutes(practice, coordinator, billed, minutes=25)
    with practice_context(practice.pk):
        billing_month_close(practice=practice, actor=manager, service_month=FEBRUARY)
    # when
    content = _render(practice, ReportKind.BILLING_CSV)
    # then
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    assert rows[1][4] == f"'=HYPERLINK(1), {billed.first_name}"


@pytest.mark.django_db
def test_render_stores_the_report_privately_and_audits_it(
    practice: Practice, manager: Membership, physician: Membership, coordinator: Membership
) -> None:
    # given
    _closed_month(practice, manager, physician, coordinator)
    # when
    content = _render(practice, ReportKind.BILLING_CSV)
    # then
    with practice_context(practice.pk):
        report = BillingReport.objects.for_practice(practice).get(kind=ReportKind.BILLING_CSV)
        audit = AuditLog.objects.for_practice(practice).get(
            event=AuditEvent.BILLING_REPORT_RENDERED
        )
    assert (report.status, report.size_bytes, report.rendered_at) == (
        ReportStatus.READY,
        len(content),
        dt.datetime(2025, 3, 5, 17, 0, tzinfo=dt.UTC),
    )
    assert report.file.name.startswith(f"practices/{practice.public_id}/billing/")
    assert default_storage.exists(report.file.name)
    assert audit.changes == {"kind": "billing_csv", "status": "ready", "generation": 1}


@pytest.mark.django_db
def test_rendering_a_ready_report_again_changes_nothing(
    practice: Practice, manager: Membership, physician: Membership, coordinator: Membership
) -> None:
    # given
    _closed_month(practice, manager, physician, coordinator)
    first = _render(practice, ReportKind.BILLING_CSV)
    with practice_context(practice.pk):
        audits = AuditLog.objects.for_practice(practice).count()
    # when
    again = _render(practice, ReportKind.BILLING_CSV)
    # then
    with practice_context(practice.pk):
        assert AuditLog.objects.for_practice(practice).count() == audits
    assert again == first


@pytest.mark.django_db
def test_billing_pdf_of_many_claims_repeats_its_table_header_on_every_page(
    practice: Practice,
    manager: Membership,
    physician: Membership,
    coordinator: Membership,
    tmp_path: Path,
) -> None:
    # given forty billed patients and two not billed
    for index in range(40):
        patient = enrolled_patient(practice, physician, coordinator)
        log_minutes(
            practice,
            coordinator,
            patient,
            minutes=20 + index,
            day=dt.date(2025, 2, 1 + index % 27),
            hour=8 + index // 27 * 3,
        )
    for index in range(2):
        patient = enrolled_patient(practice, physician, coordinator)
        log_minutes(
            practice, coordinator, patient, minutes=5, day=dt.date(2025, 2, 28), hour=9 + index
        )
    with practice_context(practice.pk):
        billing_month_close(practice=practice, actor=manager, service_month=FEBRUARY)
    # when
    pdf = _render(practice, ReportKind.BILLING_PDF)
    # then
    pages = pdf_text(pdf, tmp_path, "billing")
    images = pdf_pages(pdf, tmp_path, "billing")
    assert len(pages) == len(images) >= 3
    claim_pages = [page for page in pages if "99490" in page]
    assert len(claim_pages) >= 2
    assert all("MRN" in page and "ICD-10" in page for page in claim_pages)
    assert "CCM billing report · February 2025" in pages[0]
    assert all(f"Page {n} of {len(pages)}" in page for n, page in enumerate(pages, start=1))
    assert "Total February 2025: 40 claims" in "".join(pages)
    assert "Patients not billed: 2" in pages[-1]
    assert all(_ink(image) > 2000 for image in images)


@pytest.mark.django_db
def test_audit_packet_holds_consent_care_plan_time_log_claim_and_explanation(
    practice: Practice,
    members: dict[Role, Membership],
    tmp_path: Path,
    django_capture_on_commit_callbacks: object,
) -> None:
    # given a billed claim
    manager = members[Role.PRACTICE_MANAGER]
    _, billed, _ = _closed_month(
        practice, manager, members[Role.PHYSICIAN], members[Role.CARE_COORDINATOR]
    )
    with practice_context(practice.pk):
        claim = Claim.objects.for_practice(practice).select_related("patient").get()
        with django_capture_on_commit_callbacks():  # type: ignore[operator]
            report = billing_audit_packet_request(practice=practice, actor=manager, claim=claim)
        # when
        rendered = billing_report_render(practice=practice, report=report)
        with rendered.file.open("rb") as handle:
            pdf = handle.read()
    # then
    text = " ".join(" ".join(pdf_text(pdf, tmp_path, "packet")).split())
    images = pdf_pages(pdf, tmp_path, "packet")
    assert rendered.status == ReportStatus.READY
    assert rendered.filename == f"audit-packet-2025-02-{billed.mrn}.pdf"
    for expected in (
        "CCM audit packet · February 2025",
        f"Abbott, {billed.first_name}",
        "1 Claim",
        "2 Why this claim: the decision",
        "3 Consent",
        "4 Care plan in effect",
        "5 Time log",
        "99490",
        "99439",
        "$106.42",
        "January 20, 2025, verbal",
        "Reviewed glucose log and medications by phone.",
        "Date of service 2025-02-10",
    ):
        assert expected in text, expected
    assert all(_ink(image) > 2000 for image in images)


@pytest.mark.django_db
def test_asking_twice_for_an_audit_packet_queues_it_once(
    practice: Practice,
    members: dict[Role, Membership],
    django_capture_on_commit_callbacks: object,
) -> None:
    # given a claim whose packet was asked for
    manager = members[Role.PRACTICE_MANAGER]
    _closed_month(practice, manager, members[Role.PHYSICIAN], members[Role.CARE_COORDINATOR])
    with practice_context(practice.pk):
        claim = Claim.objects.for_practice(practice).select_related("patient").get()
        first = billing_audit_packet_request(practice=practice, actor=manager, claim=claim)
    before = billing_state(practice)
    # when
    with (
        mock.patch("billing.services.reports.billing_report_render_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),  # type: ignore[operator]
        practice_context(practice.pk),
    ):
        again = billing_audit_packet_request(practice=practice, actor=manager, claim=claim)
    # then
    assert (again.pk, again.status) == (first.pk, ReportStatus.PENDING)
    delay.assert_not_called()
    assert billing_state(practice) == before


@pytest.mark.django_db
def test_physician_may_not_ask_for_an_audit_packet(
    practice: Practice, members: dict[Role, Membership]
) -> None:
    # given
    _closed_month(
        practice,
        members[Role.PRACTICE_MANAGER],
        members[Role.PHYSICIAN],
        members[Role.CARE_COORDINATOR],
    )
    before = billing_state(practice)
    # when / then
    with practice_context(practice.pk):
        claim = Claim.objects.for_practice(practice).get()
        with pytest.raises(PermissionDenied):
            billing_audit_packet_request(
                practice=practice, actor=members[Role.PHYSICIAN], claim=claim
            )
    assert billing_state(practice) == before


@pytest.mark.django_db
def test_a_report_that_cannot_render_is_marked_failed_with_its_error(
    practice: Practice, members: dict[Role, Membership]
) -> None:
    # given
    _closed_month(
        practice,
        members[Role.PRACTICE_MANAGER],
        members[Role.PHYSICIAN],
        members[Role.CARE_COORDINATOR],
    )
    # when
    with (
        mock.patch("billing.reports.billing_csv", side_effect=OSError("disk full")),
        practice_context(practice.pk),
    ):
        report = BillingReport.objects.for_practice(practice).get(kind=ReportKind.BILLING_CSV)
        failed = billing_report_render(practice=practice, report=report)
        audit = AuditLog.objects.for_practice(practice).get(
            event=AuditEvent.BILLING_REPORT_RENDERED
        )
    # then
    assert (failed.status, failed.error, failed.file.name) == (
        ReportStatus.FAILED,
        "OSError: disk full",
        "",
    )
    assert audit.changes == {"kind": "billing_csv", "status": "failed", "generation": 1}


@pytest.mark.django_db
def test_render_task_renders_the_report_it_is_given(
    practice: Practice, members: dict[Role, Membership]
) -> None:
    # given
    _closed_month(
        practice,
        members[Role.PRACTICE_MANAGER],
        members[Role.PHYSICIAN],
        members[Role.CARE_COORDINATOR],
    )
    with practice_context(practice.pk):
        report = BillingReport.objects.for_practice(practice).get(kind=ReportKind.NOT_BILLABLE_CSV)
    # when
    status = billing_report_render_task(practice_id=practice.pk, report_id=report.pk)
    # then
    assert status == "ready"
