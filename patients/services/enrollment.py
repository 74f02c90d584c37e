"""Writes of the way into CCM: outreach attempts and enrollment status changes.

Every status change goes through ``status_transition`` below: it checks the one table of
allowed changes (``patients.models.ENROLLMENT_TRANSITIONS``), writes an ``EnrollmentEvent``,
updates the patient's denormalised status and writes an audit row. ``consented`` is reached
only through ``consent_record`` and ``enrolled`` only through ``patient_enroll``.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from ccm.audit import AuditEvent, audit_record
from ccm.errors import InvalidState
from ccm.models import Membership, Practice
from ccm.permissions import can_enroll_patients
from patients.models import (
    ENROLLMENT_TRANSITIONS,
    EnrollmentEvent,
    EnrollmentStatus,
    OutreachAttempt,
    OutreachChannel,
    OutreachOutcome,
    Patient,
)
from patients.selectors.consent import consent_current, consent_needs_renewal
from patients.services.guards import (
    clean_or_raise,
    refuse_future,
    require_actor,
    require_same_practice,
)

_ENROLL_MESSAGE = "Only care coordinators and managers change enrollment."
# An attempt moves a patient nobody has approached yet into outreach (any outcome but a
# refusal); a refusal during outreach records the decline.
_INTO_OUTREACH = frozenset({EnrollmentStatus.UNREVIEWED, EnrollmentStatus.IDENTIFIED})
_DECLINE_DURING_OUTREACH = frozenset(
    {EnrollmentStatus.UNREVIEWED, EnrollmentStatus.IDENTIFIED, EnrollmentStatus.OUTREACH}
)
_VIA_OTHER_SERVICE = {
    EnrollmentStatus.CONSENTED: "Record the patient's consent to move them to consented.",
    EnrollmentStatus.ENROLLED: "Use “enroll”: it checks for a current consent first.",
}


def lock_patient(*, practice: Practice, patient: Patient) -> Patient:
    """Re-read the patient row ``FOR UPDATE`` so two status changes cannot interleave."""
    locked = Patient.objects.for_practice(practice).select_for_update().get(pk=patient.pk)
    patient.enrollment_status = locked.enrollment_status
    return patient


def transition_allowed(from_status: str, to_status: str) -> bool:
    return to_status in ENROLLMENT_TRANSITIONS.get(from_status, frozenset())


def refuse_transition(*, from_status: str, to_status: str) -> InvalidState:
    return InvalidState(
        f"A patient who is “{EnrollmentStatus(from_status).label}” cannot become "
        f"“{EnrollmentStatus(to_status).label}”.",
        field="status",
    )


def status_transition(
    *,
    practice: Practice,
    actor: Membership,
    patient: Patient,
    to_status: EnrollmentStatus,
    reason: str,
) -> EnrollmentEvent:
    """Apply one allowed change (the caller has locked the patient and run its guards)."""
    from_status = patient.enrollment_status
    if not transition_allowed(from_status, to_status):
        raise refuse_transition(from_status=from_status, to_status=to_status)
    event = EnrollmentEvent(
        practice=practice,
        patient=patient,
        from_status=from_status,
        to_status=to_status,
        reason=reason.strip(),
        by=actor,
    )
    clean_or_raise(event)
    event.save()
    patient.enrollment_status = to_status
    patient.updated_at = timezone.now()
    patient.save(update_fields=["enrollment_status", "updated_at"])
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.ENROLLMENT_CHANGED,
        patient_public_id=patient.public_id,
        obj=event,
        changes={"status": [from_status, str(to_status)], "reason": event.reason},
    )
    return event


@transaction.atomic
def enrollment_status_change(
    *,
    practice: Practice,
    actor: Membership,
    patient: Patient,
    to_status: EnrollmentStatus,
    reason: str = "",
) -> EnrollmentEvent:
    """Move the patient to ``to_status`` if ``ENROLLMENT_TRANSITIONS`` allows it.

    For every status but ``consented`` (recorded by ``consent_record``) and ``enrolled``
    (``patient_enroll``). ``InvalidState`` on ``status`` for a change the table refuses.
    """
    require_same_practice(practice=practice, obj=patient)
    if to_status in _VIA_OTHER_SERVICE:
        raise InvalidState(_VIA_OTHER_SERVICE[to_status], field="status")
    require_actor(
        practice=practice, actor=actor, allowed=can_enroll_patients, message=_ENROLL_MESSAGE
    )
    lock_patient(practice=practice, patient=patient)
    return status_transition(
        practice=practice, actor=actor, patient=patient, to_status=to_status, reason=reason
    )


@transaction.atomic
def patient_enroll(
    *, practice: Practice, actor: Membership, patient: Patient, reason: str = ""
) -> EnrollmentEvent:
    """Enroll a consented (or resume a paused) patient in CCM.

    Requires a billing practitioner and a current consent to that practitioner (R-CONS-1,
    R-CONS-4); otherwise ``InvalidState`` on ``consent`` saying what is missing.
    """
    require_same_practice(practice=practice, obj=patient)
    require_actor(
        practice=practice, actor=actor, allowed=can_enroll_patients, message=_ENROLL_MESSAGE
    )
    lock_patient(practice=practice, patient=patient)
    if not transition_allowed(patient.enrollment_status, EnrollmentStatus.ENROLLED):
        raise refuse_transition(
            from_status=patient.enrollment_status, to_status=EnrollmentStatus.ENROLLED
        )
    if patient.billing_practitioner_id is None:
        raise InvalidState(
            "Choose the patient's billing practitioner before enrolling.",
            field="billing_practitioner",
        )
    if consent_current(practice=practice, patient=patient) is None:
        renewal = consent_needs_renewal(practice=practice, patient=patient)
        raise InvalidState(
            renewal or "The patient has no consent to their billing practitioner on file.",
            field="consent",
        )
    return status_transition(
        practice=practice,
        actor=actor,
        patient=patient,
        to_status=EnrollmentStatus.ENROLLED,
        reason=reason,
    )


@transaction.atomic
def outreach_record(
    *,
    practice: Practice,
    actor: Membership,
    patient: Patient,
    attempted_on: date,
    channel: OutreachChannel,
    outcome: OutreachOutcome,
    note: str = "",
) -> OutreachAttempt:
    """Log an attempt to reach the patient about CCM.

    Side effects on the status, each with its own event: a patient still ``unreviewed`` or
    ``identified`` moves to ``outreach``; a ``declined`` outcome moves a patient not yet
    consented to ``declined``. An ``agreed`` outcome changes nothing more: the consent itself
    (with the R-CONS-3 explanations) is recorded with ``consent_record``.
    """
    require_same_practice(practice=practice, obj=patient)
    require_actor(
        practice=practice, actor=actor, allowed=can_enroll_patients, message=_ENROLL_MESSAGE
    )
    refuse_future(practice=practice, value=attempted_on, field="attempted_on", label="attempt date")
    lock_patient(practice=practice, patient=patient)
    attempt = OutreachAttempt(
        practice=practice,
        patient=patient,
        attempted_on=attempted_on,
        channel=channel,
        outcome=outcome,
        note=note.strip(),
        by=actor,
    )
    clean_or_raise(attempt)
    attempt.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.OUTREACH_RECORDED,
        patient_public_id=patient.public_id,
        obj=attempt,
        changes={
            "attempted_on": attempted_on.isoformat(),
            "channel": str(channel),
            "outcome": str(outcome),
        },
    )
    if outcome == OutreachOutcome.DECLINED:
        if patient.enrollment_status in _DECLINE_DURING_OUTREACH:
            status_transition(
                practice=practice,
                actor=actor,
                patient=patient,
                to_status=EnrollmentStatus.DECLINED,
                reason=f"Declined during outreach on {attempted_on.isoformat()}.",
            )
    elif patient.enrollment_status in _INTO_OUTREACH:
        status_transition(
            practice=practice,
            actor=actor,
            patient=patient,
            to_status=EnrollmentStatus.OUTREACH,
            reason=f"Outreach attempt on {attempted_on.isoformat()}.",
        )
    return attempt
