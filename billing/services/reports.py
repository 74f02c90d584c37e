"""Reports of closed months: queued by the close, audit packets on request, rendered by tasks.

The month's billing CSV, billing PDF and not-billable CSV get pending rows in the close's own
transaction; an audit packet (one claim) is queued when a manager asks for it. A task renders
each into private storage (``billing_report_render``), never a request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from billing import reports, selectors
from billing.models import BillingMonth, BillingReport, Claim, ReportKind, ReportStatus
from billing.services.guards import require_manager, require_same_practice
from billing.tasks import billing_report_render_task
from ccm.audit import AuditEvent, audit_record
from ccm.models import Membership, Practice

logger = logging.getLogger(__name__)

MONTH_REPORT_KINDS = (ReportKind.BILLING_CSV, ReportKind.BILLING_PDF, ReportKind.NOT_BILLABLE_CSV)
ERROR_LIMIT = 500


def queue_month_reports(
    *, practice: Practice, billing_month: BillingMonth, actor: Membership | None, now: dt.datetime
) -> None:
    """Pending rows for the month's three reports (in the close's transaction), each rendered by
    a task after the commit."""
    queued = [
        BillingReport(
            practice=practice,
            billing_month=billing_month,
            generation=billing_month.generation,
            kind=kind,
            requested_by=actor,
            requested_at=now,
        )
        for kind in MONTH_REPORT_KINDS
    ]
    BillingReport.objects.bulk_create(queued)
    for report in queued:
        render_after_commit(practice_id=practice.pk, report_id=report.pk)


def render_after_commit(*, practice_id: int, report_id: int) -> None:
    transaction.on_commit(
        lambda: billing_report_render_task.delay(practice_id=practice_id, report_id=report_id)
    )


@transaction.atomic
def billing_audit_packet_request(
    *, practice: Practice, actor: Membership, claim: Claim
) -> BillingReport:
    """Queue the audit packet PDF of one claim; one already ready or pending is returned."""
    require_manager(practice=practice, actor=actor)
    require_same_practice(practice=practice, obj=claim)
    report = (
        BillingReport.objects.for_practice(practice)
        .select_for_update()
        .filter(kind=ReportKind.AUDIT_PACKET, claim=claim)
        .first()
    )
    if report is not None and report.status != ReportStatus.FAILED:
        return report
    if report is None:
        report = BillingReport(
            practice=practice,
            billing_month_id=claim.billing_month_id,
            generation=claim.generation,
            kind=ReportKind.AUDIT_PACKET,
            claim=claim,
        )
    report.status = ReportStatus.PENDING
    report.error = ""
    report.requested_by = actor
    report.requested_at = timezone.now()
    report.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.BILLING_REPORT_REQUESTED,
        patient_public_id=claim.patient.public_id,
        obj=report,
        changes={"kind": ReportKind.AUDIT_PACKET.value, "claim": str(claim.public_id)},
    )
    render_after_commit(practice_id=practice.pk, report_id=report.pk)
    return report


def _render(*, practice: Practice, report: BillingReport) -> tuple[bytes, str]:
    """The report's bytes and the name its file is stored under."""
    billing_month = report.billing_month
    if report.kind == ReportKind.AUDIT_PACKET:
        assert report.claim is not None  # noqa: S101  (a CHECK guarantees it)
        packet = selectors.audit_packet(practice=practice, claim=report.claim)
        return reports.audit_packet_pdf(packet), "packet.pdf"
    if report.kind == ReportKind.NOT_BILLABLE_CSV:
        rows = selectors.not_billable_list(
            practice=practice, billing_month=billing_month, generation=report.generation
        )
        return reports.not_billable_csv(rows), "not-billable.csv"
    data = selectors.billing_report_data(
        practice=practice, billing_month=billing_month, generation=report.generation
    )
    if report.kind == ReportKind.BILLING_CSV:
        return reports.billing_csv(data), "billing.csv"
    return reports.billing_pdf(data), "billing.pdf"


@transaction.atomic
def billing_report_render(*, practice: Practice, report: BillingReport) -> BillingReport:
    """Render a report into private storage (the render task's one call). Idempotent once ready.

    A rendering failure marks the report failed with the error (a manager may ask again); it
    is logged, not raised, so the queue does not retry a deterministic failure.
    """
    require_same_practice(practice=practice, obj=report)
    report = (
        BillingReport.objects.for_practice(practice)
        .select_for_update(of=("self",))
        .select_related("billing_month", "claim__patient")
        .get(pk=report.pk)
    )
    if report.status == ReportStatus.READY:
        return report
    patient_id = report.claim.patient.public_id if report.claim is not None else None
    try:
        content, name = _render(practice=practice, report=report)
    except Exception as exc:
        logger.exception("billing report %s failed", report.public_id)
        report.status = ReportStatus.FAILED
        report.error = f"{type(exc).__name__}: {exc}"[:ERROR_LIMIT]
        report.save(update_fields=["status", "error"])
    else:
        report.file.save(name, ContentFile(content), save=False)
        report.sha256 = hashlib.sha256(content).hexdigest()
        report.size_bytes = len(content)
        report.status = ReportStatus.READY
        report.rendered_at = timezone.now()
        report.error = ""
        report.save(
            update_fields=["file", "sha256", "size_bytes", "status", "rendered_at", "error"]
        )
    audit_record(
        practice=practice,
        actor=None,
        event=AuditEvent.BILLING_REPORT_RENDERED,
        patient_public_id=patient_id,
        obj=report,
        changes={"kind": report.kind, "status": report.status, "generation": report.generation},
    )
    return report
