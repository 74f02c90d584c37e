"""The audit log's vocabulary and its two writers.

``audit_record`` is called inside services, in the transaction of the change it records.
``audit_read`` is called by interfaces (pages, API, exports), which alone know who looked at
what. The request id reaches both through a context variable set by ``RequestIdMiddleware``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from ccm.models import AuditLog, Membership, Practice

request_id_var: ContextVar[str] = ContextVar("ccm_request_id", default="")


class AuditEvent(models.TextChoices):
    # practice and members
    PRACTICE_UPDATED = "practice.updated", "Practice settings changed"
    MEMBERSHIP_CREATED = "membership.created", "Member added"
    MEMBERSHIP_UPDATED = "membership.updated", "Member changed"
    PRACTICE_SWITCHED = "practice.switched", "Switched practice"
    AUDIT_LOG_VIEWED = "audit.viewed", "Audit log viewed"
    # patients
    PATIENT_LIST_VIEWED = "patient.list_viewed", "Patient list viewed"
    PATIENT_VIEWED = "patient.viewed", "Patient viewed"
    ELIGIBILITY_VIEWED = "patient.eligibility_viewed", "CCM eligibility list viewed"
    PATIENT_CREATED = "patient.created", "Patient created"
    PATIENT_UPDATED = "patient.updated", "Patient changed"
    PATIENT_EXPORTED = "patient.exported", "Patient data exported"
    PATIENTS_IMPORTED = "patient.imported", "Patient panel imported"
    CONDITION_ADDED = "condition.added", "Condition added"
    CONDITION_UPDATED = "condition.updated", "Condition changed"
    CONDITION_RESOLVED = "condition.resolved", "Condition resolved"
    CONDITION_CHRONIC_ATTESTED = "condition.chronic_attested", "Chronic attestation changed"
    OUTREACH_RECORDED = "outreach.recorded", "Outreach attempt recorded"
    ENROLLMENT_CHANGED = "enrollment.changed", "Enrollment status changed"
    CONSENT_RECORDED = "consent.recorded", "Consent recorded"
    CONSENT_DECLINED = "consent.declined", "Consent declined"
    CONSENT_REVOKED = "consent.revoked", "Consent revoked"
    CONSENT_DOCUMENT_DOWNLOADED = "consent.document_downloaded", "Scanned consent downloaded"
    VISIT_RECORDED = "visit.recorded", "Visit recorded"
    VISIT_VOIDED = "visit.voided", "Visit voided"
    OTHER_SERVICE_RECORDED = "other_service.recorded", "Other billed service recorded"
    OTHER_SERVICE_VOIDED = "other_service.voided", "Other billed service voided"
    FACILITY_STAY_RECORDED = "facility_stay.recorded", "Facility stay recorded"
    FACILITY_STAY_VOIDED = "facility_stay.voided", "Facility stay voided"
    ENCOUNTERS_IMPORTED = "encounter.imported", "Visits, services or stays imported"
    IMPORT_PREVIEWED = "import.previewed", "Import file checked (dry run)"
    # time tracking
    TIME_ENTRY_CREATED = "time_entry.created", "Time entry logged"
    TIME_ENTRY_EDITED = "time_entry.edited", "Time entry corrected"
    TIME_ENTRY_VOIDED = "time_entry.voided", "Time entry voided"
    TIME_ENTRIES_VIEWED = "time_entry.list_viewed", "Time entries viewed"
    TIMER_STARTED = "timer.started", "Timer started"
    TIMER_STOPPED = "timer.stopped", "Timer stopped"
    TIMER_DISCARDED = "timer.discarded", "Timer discarded"
    WORKLIST_VIEWED = "worklist.viewed", "Coordinator worklist viewed"
    MONTH_LOCKED = "month.locked", "Month closed to time entries"
    MONTH_REOPENED = "month.reopened", "Month reopened for time entries"
    TIME_SETTINGS_UPDATED = "time_settings.updated", "Time-tracking settings changed"
    # care plans
    CARE_PLAN_VIEWED = "care_plan.viewed", "Care plan viewed"
    CARE_PLAN_REVIEW_QUEUE_VIEWED = "care_plan.queue_viewed", "Care-plan review queue viewed"
    CARE_PLAN_STARTED = "care_plan.started", "Care plan started"
    CARE_PLAN_REVISION_STARTED = "care_plan.revision_started", "Care-plan revision started"
    CARE_PLAN_DRAFT_UPDATED = "care_plan.draft_updated", "Care-plan draft changed"
    CARE_PLAN_SUBMITTED = "care_plan.submitted", "Care plan sent for signature"
    CARE_PLAN_SIGNED = "care_plan.signed", "Care plan signed"
    CARE_PLAN_GOAL_PROGRESS = "care_plan.goal_progress", "Care-plan goal progress recorded"
    CARE_PLAN_COPY_RECORDED = "care_plan.copy_recorded", "Care-plan copy given"
    CARE_PLAN_PDF_REQUESTED = "care_plan.pdf_requested", "Care-plan PDF requested"
    CARE_PLAN_PDF_RENDERED = "care_plan.pdf_rendered", "Care-plan PDF rendered"
    CARE_PLAN_PDF_DOWNLOADED = "care_plan.pdf_downloaded", "Care-plan PDF downloaded"
    CARE_PLAN_TEMPLATE_CREATED = "care_plan_template.created", "Care-plan template added"
    CARE_PLAN_TEMPLATE_UPDATED = "care_plan_template.updated", "Care-plan template changed"
    COMPLEXITY_ATTESTED = "complexity.attested", "Complexity attested"
    COMPLEXITY_VOIDED = "complexity.voided", "Complexity attestation voided"
    COMPLEXITY_VIEWED = "complexity.viewed", "Complexity attestations viewed"
    # billing
    BILLING_MONTH_CLOSE_REQUESTED = "billing_month.close_requested", "Month close requested"
    BILLING_MONTH_CLOSED = "billing_month.closed", "Month closed and claims written"
    BILLING_MONTH_REOPENED = "billing_month.reopened", "Billing month reopened"
    BILLING_MONTH_VIEWED = "billing_month.viewed", "Billing month viewed"
    CLAIM_VIEWED = "claim.viewed", "Claim viewed"
    NOT_BILLABLE_VIEWED = "not_billable.viewed", "Not-billable worklist viewed"
    BILLING_REPORT_REQUESTED = "billing_report.requested", "Billing report requested"
    BILLING_REPORT_RENDERED = "billing_report.rendered", "Billing report rendered"
    BILLING_REPORT_DOWNLOADED = "billing_report.downloaded", "Billing report downloaded"
    BILLING_FACTS_EXPORTED = "billing_facts.exported", "Billing facts exported"


def audit_record(
    *,
    practice: Practice,
    actor: Membership | None,
    event: AuditEvent,
    patient_public_id: uuid.UUID | None = None,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one audit row. Call it inside the service's transaction, after the write."""
    from ccm.models import AuditLog  # noqa: PLC0415  (ccm.models imports this module)

    if not isinstance(event, AuditEvent):
        raise TypeError(f"audit events are AuditEvent members, not {event!r}")
    return AuditLog.objects.create(
        practice=practice,
        actor=actor,
        event=event,
        patient_public_id=patient_public_id,
        object_type=type(obj).__name__ if obj is not None else "",
        object_public_id=getattr(obj, "public_id", None),
        changes=changes or {},
        request_id=request_id_var.get(),
    )


def audit_read(
    *,
    practice: Practice,
    actor: Membership | None,
    event: AuditEvent,
    patient_public_ids: Iterable[uuid.UUID] = (),
    obj: models.Model | None = None,
) -> AuditLog:
    """Record that ``actor`` was shown patient data: one row, with every patient id shown."""
    ids = [str(public_id) for public_id in patient_public_ids]
    return audit_record(
        practice=practice,
        actor=actor,
        event=event,
        patient_public_id=uuid.UUID(ids[0]) if len(ids) == 1 else None,
        obj=obj,
        changes={"patient_ids": ids} if ids else {},
    )
