"""Writes of the patient copy: the PDF (requested, rendered by a worker) and copies given."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from careplans.models import (
    CarePlanCopy,
    CarePlanDocument,
    CarePlanVersion,
    CopyMethod,
    CopyRecipient,
    DocumentStatus,
)
from careplans.pdf import render_patient_copy
from careplans.services.guards import require_same_practice
from careplans.tasks import care_plan_document_render_task
from ccm.audit import AuditEvent, audit_record
from ccm.errors import InvalidState, PermissionDenied
from ccm.models import Membership, Practice
from ccm.permissions import can_record_care_plan_copy
from patients.selectors.common import practice_today
from patients.services.guards import clean_or_raise

logger = logging.getLogger(__name__)
ERROR_LIMIT = 500


def _require_signed(version: CarePlanVersion, *, what: str) -> None:
    if not version.is_signed:
        raise InvalidState(
            f"Version {version.number} is not signed yet: {what} of a signed plan only (R-PLAN-4)."
        )


@transaction.atomic
def care_plan_copy_record(
    *,
    practice: Practice,
    actor: Membership,
    version: CarePlanVersion,
    given_on: dt.date,
    method: str,
    recipient: str = CopyRecipient.PATIENT,
    recipient_name: str = "",
    note: str = "",
) -> CarePlanCopy:
    """Record that the patient or caregiver was given a copy: who, when, how (R-PLAN-4)."""
    require_same_practice(practice=practice, actor=actor, objs=(version,))
    _require_signed(version, what="a copy is given")
    assert version.signed_on is not None  # noqa: S101  (signed: a CHECK guarantees it)
    if given_on < version.signed_on:
        raise InvalidState(
            f"The copy cannot be given before the plan was signed ({version.signed_on:%b %d, %Y}).",
            field="given_on",
        )
    if given_on > practice_today(practice):
        raise InvalidState("The date the copy was given cannot be in the future.", field="given_on")
    if not can_record_care_plan_copy(actor):
        raise PermissionDenied("You may not record care-plan copies.")
    if method not in CopyMethod.values:
        raise InvalidState("Say how the copy was given.", field="method")
    if recipient not in CopyRecipient.values:
        raise InvalidState("Say who received the copy.", field="recipient")
    copy = CarePlanCopy(
        practice=practice,
        version=version,
        given_on=given_on,
        method=method,
        recipient=recipient,
        recipient_name=recipient_name.strip(),
        note=note.strip(),
        given_by=actor,
    )
    clean_or_raise(copy)
    copy.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.CARE_PLAN_COPY_RECORDED,
        patient_public_id=version.care_plan.patient.public_id,
        obj=copy,
        changes={
            "version": version.number,
            "given_on": given_on.isoformat(),
            "method": method,
            "recipient": recipient,
        },
    )
    return copy


@transaction.atomic
def care_plan_document_request(
    *, practice: Practice, actor: Membership, version: CarePlanVersion
) -> CarePlanDocument:
    """Queue (again) the rendering of a signed version's patient-copy PDF.

    A document already being prepared is returned as it is (one render at a time).
    """
    require_same_practice(practice=practice, actor=actor, objs=(version,))
    _require_signed(version, what="a patient copy is printed")
    if not can_record_care_plan_copy(actor):
        raise PermissionDenied("You may not prepare care-plan copies.")
    document = (
        CarePlanDocument.objects.for_practice(practice)
        .select_for_update()
        .filter(version=version)
        .first()
    )
    if document is not None and document.status == DocumentStatus.PENDING:
        return document
    if document is None:
        document = CarePlanDocument(practice=practice, version=version)
    document.status = DocumentStatus.PENDING
    document.requested_by = actor
    document.requested_at = timezone.now()
    document.error = ""
    clean_or_raise(document)
    document.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.CARE_PLAN_PDF_REQUESTED,
        patient_public_id=version.care_plan.patient.public_id,
        obj=document,
        changes={"version": version.number},
    )
    transaction.on_commit(
        lambda: care_plan_document_render_task.delay(
            practice_id=practice.pk, document_id=document.pk
        )
    )
    return document


@transaction.atomic
def care_plan_document_render(
    *, practice: Practice, document: CarePlanDocument
) -> CarePlanDocument:
    """Render the PDF into private storage (the task's one call). Idempotent once ready.

    A rendering failure marks the document failed with the error (a person may request it
    again); it is logged, not raised, so the queue does not retry a deterministic failure.
    """
    if document.practice_id != practice.pk:
        raise InvalidState("The document belongs to another practice.")
    document = (
        CarePlanDocument.objects.for_practice(practice)
        .select_for_update(of=("self",))
        .select_related("version__care_plan__patient", "version__signed_by__user")
        .get(pk=document.pk)
    )
    if document.status == DocumentStatus.READY:
        return document
    version = document.version
    try:
        pdf = render_patient_copy(practice=practice, version=version)
    except Exception as exc:
        logger.exception("care-plan PDF %s failed", document.public_id)
        document.status = DocumentStatus.FAILED
        document.error = f"{type(exc).__name__}: {exc}"[:ERROR_LIMIT]
        document.save(update_fields=["status", "error"])
        audit_record(
            practice=practice,
            actor=None,
            event=AuditEvent.CARE_PLAN_PDF_RENDERED,
            patient_public_id=version.care_plan.patient.public_id,
            obj=document,
            changes={"version": version.number, "status": DocumentStatus.FAILED},
        )
        return document
    document.file.save("patient-copy.pdf", ContentFile(pdf), save=False)
    document.sha256 = hashlib.sha256(pdf).hexdigest()
    document.size_bytes = len(pdf)
    document.status = DocumentStatus.READY
    document.rendered_at = timezone.now()
    document.error = ""
    clean_or_raise(document)
    document.save()
    audit_record(
        practice=practice,
        actor=None,
        event=AuditEvent.CARE_PLAN_PDF_RENDERED,
        patient_public_id=version.care_plan.patient.public_id,
        obj=document,
        changes={
            "version": version.number,
            "status": DocumentStatus.READY,
            "sha256": document.sha256,
            "size_bytes": document.size_bytes,
        },
    )
    return document
