"""Writes of CCM consent (RULES.md §4): record a consent or a refusal, revoke a consent.

A consent is given to one billing practitioner (R-CONS-4/5), documents the three R-CONS-3
explanations, and may carry its exact moment (POL-CONSENT, AMB-16) and a scanned document
(private storage, under the practice's public id). A revocation recorded in month M takes
effect at the end of M (POL-REVOKE).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import PurePath

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from ccm.audit import AuditEvent, audit_record
from ccm.errors import Conflict, InvalidState
from ccm.models import Membership, Practice
from ccm.permissions import can_record_consent
from patients.models import (
    Consent,
    ConsentMethod,
    ConsentOutcome,
    EnrollmentStatus,
    Patient,
)
from patients.selectors.consent import revocation_effective_through
from patients.services.enrollment import (
    lock_patient,
    refuse_transition,
    status_transition,
    transition_allowed,
)
from patients.services.guards import (
    clean_or_raise,
    reason_required,
    refuse_future,
    require_actor,
    require_physician,
    require_same_practice,
)

DOCUMENT_EXTENSIONS = frozenset({".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"})
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
# R-CONS-3: what the patient must have been told, in the order the form shows it.
EXPLANATIONS: dict[str, str] = {
    "explained_cost_sharing": "that CCM is available and that cost sharing applies",
    "explained_one_practitioner": "that only one practitioner can furnish and bill CCM in a "
    "calendar month",
    "explained_stop_anytime": "that they may stop CCM at any time, effective at the end of "
    "the calendar month",
}
_ALREADY_CONSENTED = frozenset(
    {EnrollmentStatus.CONSENTED, EnrollmentStatus.ENROLLED, EnrollmentStatus.PAUSED}
)
_CONSENT_MESSAGE = "You may not record consent."


def _check_document(document: File[bytes] | None) -> None:
    if document is None:
        return
    suffix = PurePath(document.name or "").suffix.lower()
    if suffix not in DOCUMENT_EXTENSIONS:
        raise InvalidState(
            "Attach the scanned consent as PDF, PNG, JPEG or TIFF.", field="document"
        )
    if document.size is not None and document.size > DOCUMENT_MAX_BYTES:
        raise InvalidState("The scanned consent is larger than 10 MB.", field="document")


def _check_moment(*, practice: Practice, obtained_on: date, obtained_at: datetime | None) -> None:
    refuse_future(practice=practice, value=obtained_on, field="obtained_on", label="consent date")
    if obtained_at is None:
        return
    if timezone.is_naive(obtained_at):
        raise InvalidState("Give the consent time with its time zone.", field="obtained_at")
    if obtained_at > timezone.now():
        raise InvalidState("The consent time cannot be in the future.", field="obtained_at")
    if timezone.localtime(obtained_at, practice.tz).date() != obtained_on:
        raise InvalidState(
            "The consent time falls on another day than the consent date.", field="obtained_at"
        )


@transaction.atomic
def consent_record(
    *,
    practice: Practice,
    actor: Membership,
    patient: Patient,
    practitioner: Membership,
    obtained_on: date,
    method: ConsentMethod,
    outcome: ConsentOutcome = ConsentOutcome.CONSENTED,
    obtained_by: Membership | None = None,
    obtained_at: datetime | None = None,
    language: str = "English",
    explained_cost_sharing: bool = False,
    explained_one_practitioner: bool = False,
    explained_stop_anytime: bool = False,
    document: File[bytes] | None = None,
    note: str = "",
) -> Consent:
    """Record the patient's decision about CCM with ``practitioner`` (an active physician).

    ``consented`` needs all three R-CONS-3 explanations confirmed (``InvalidState`` naming the
    first missing one), moves the patient to ``consented`` unless already consented, enrolled
    or paused, and makes ``practitioner`` the billing practitioner when none is set yet.
    ``declined`` records the refusal and moves the patient to ``declined``. ``obtained_by``
    defaults to the actor. Refuses a date or time in the future, a time on another local day
    than ``obtained_on``, a practitioner who is not an active physician of this practice, and
    a second unrevoked consent to the same practitioner (``Conflict``).
    """
    require_same_practice(practice=practice, obj=patient)
    require_actor(
        practice=practice, actor=actor, allowed=can_record_consent, message=_CONSENT_MESSAGE
    )
    require_physician(practice=practice, membership=practitioner, field="practitioner")
    obtained_by = obtained_by or actor
    if obtained_by.practice_id != practice.pk:
        raise InvalidState("Choose a member of this practice.", field="obtained_by")
    _check_moment(practice=practice, obtained_on=obtained_on, obtained_at=obtained_at)
    explained = {
        "explained_cost_sharing": explained_cost_sharing,
        "explained_one_practitioner": explained_one_practitioner,
        "explained_stop_anytime": explained_stop_anytime,
    }
    if outcome == ConsentOutcome.CONSENTED:
        for field, told in explained.items():
            if not told:
                raise InvalidState(
                    f"Confirm that the patient was told {EXPLANATIONS[field]} (R-CONS-3).",
                    field=field,
                )
    _check_document(document)
    lock_patient(practice=practice, patient=patient)
    status = patient.enrollment_status
    if outcome == ConsentOutcome.CONSENTED:
        current = Consent.objects.for_practice(practice).filter(
            patient=patient,
            practitioner=practitioner,
            outcome=ConsentOutcome.CONSENTED,
            revoked_on__isnull=True,
        )
        if current.exists():
            raise Conflict(
                f"The patient already has an unrevoked consent to {practitioner.display_name}.",
                field="practitioner",
            )
        target = None if status in _ALREADY_CONSENTED else EnrollmentStatus.CONSENTED
    else:
        target = None if status == EnrollmentStatus.DECLINED else EnrollmentStatus.DECLINED
    if target is not None and not transition_allowed(status, target):
        raise refuse_transition(from_status=status, to_status=target)

    consent = Consent(
        practice=practice,
        patient=patient,
        practitioner=practitioner,
        outcome=outcome,
        obtained_on=obtained_on,
        obtained_at=obtained_at,
        method=method,
        obtained_by=obtained_by,
        language=language.strip(),
        note=note.strip(),
        **explained,
    )
    if document is not None:
        consent.document = document
    clean_or_raise(consent)
    consent.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.CONSENT_RECORDED
        if outcome == ConsentOutcome.CONSENTED
        else AuditEvent.CONSENT_DECLINED,
        patient_public_id=patient.public_id,
        obj=consent,
        changes={
            "practitioner": str(practitioner.public_id),
            "outcome": str(outcome),
            "obtained_on": obtained_on.isoformat(),
            "obtained_at": obtained_at.isoformat() if obtained_at else None,
            "method": str(method),
            "document": bool(document),
        },
    )
    if outcome == ConsentOutcome.CONSENTED and patient.billing_practitioner_id is None:
        patient.billing_practitioner = practitioner
        patient.updated_at = timezone.now()
        patient.save(update_fields=["billing_practitioner", "updated_at"])
        audit_record(
            practice=practice,
            actor=actor,
            event=AuditEvent.PATIENT_UPDATED,
            patient_public_id=patient.public_id,
            obj=patient,
            changes={"billing_practitioner": [None, str(practitioner.public_id)]},
        )
    if target is not None:
        status_transition(
            practice=practice,
            actor=actor,
            patient=patient,
            to_status=target,
            reason=f"{ConsentOutcome(outcome).label} on {obtained_on.isoformat()}.",
        )
    return consent


@transaction.atomic
def consent_revoke(
    *,
    practice: Practice,
    actor: Membership,
    consent: Consent,
    revoked_on: date,
    reason: str,
) -> Consent:
    """Record that the patient stopped CCM on ``revoked_on``; effective at that month's end.

    When it was the consent to the patient's billing practitioner, an enrolled or paused
    patient becomes ``disenrolled`` and a consented one ``declined``. Refuses a declined or
    already revoked consent, a date before the consent date or in the future
    (``InvalidState`` on ``revoked_on``), and an empty reason.
    """
    require_same_practice(practice=practice, obj=consent)
    require_actor(
        practice=practice, actor=actor, allowed=can_record_consent, message=_CONSENT_MESSAGE
    )
    consent = Consent.objects.for_practice(practice).select_for_update().get(pk=consent.pk)
    if consent.outcome != ConsentOutcome.CONSENTED:
        raise InvalidState("A refusal cannot be revoked.", field="revoked_on")
    if consent.revoked_on is not None:
        raise InvalidState(
            f"This consent was already revoked on {consent.revoked_on.isoformat()}.",
            field="revoked_on",
        )
    if revoked_on < consent.obtained_on:
        raise InvalidState(
            "The revocation cannot be dated before the consent "
            f"({consent.obtained_on.isoformat()}).",
            field="revoked_on",
        )
    refuse_future(practice=practice, value=revoked_on, field="revoked_on", label="revocation")
    reason = reason_required(reason)
    consent.revoked_on = revoked_on
    consent.revoked_by = actor
    consent.revocation_reason = reason
    clean_or_raise(consent)
    consent.save(update_fields=["revoked_on", "revoked_by", "revocation_reason"])
    effective = revocation_effective_through(revoked_on)
    patient = consent.patient
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.CONSENT_REVOKED,
        patient_public_id=patient.public_id,
        obj=consent,
        changes={
            "revoked_on": revoked_on.isoformat(),
            "effective_through": effective.isoformat(),
            "reason": reason,
        },
    )
    lock_patient(practice=practice, patient=patient)
    # At most one unrevoked consent per practitioner (a constraint): none is left to them.
    if consent.practitioner_id == patient.billing_practitioner_id:
        target = {
            EnrollmentStatus.ENROLLED: EnrollmentStatus.DISENROLLED,
            EnrollmentStatus.PAUSED: EnrollmentStatus.DISENROLLED,
            EnrollmentStatus.CONSENTED: EnrollmentStatus.DECLINED,
        }.get(EnrollmentStatus(patient.enrollment_status))
        if target is not None:
            status_transition(
                practice=practice,
                actor=actor,
                patient=patient,
                to_status=target,
                reason=(
                    f"Consent revoked on {revoked_on.isoformat()}, effective through "
                    f"{effective.isoformat()}: {reason}"
                ),
            )
    return consent
