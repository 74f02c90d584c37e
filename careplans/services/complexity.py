"""Writes of complexity attestations: moderate or high MDM for a patient-month (R-ELIG-4)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from careplans.models import ComplexityAttestation, MedicalDecisionMaking
from careplans.services.guards import (
    require_billing_practitioner,
    require_same_practice,
)
from ccm.audit import AuditEvent, audit_record
from ccm.errors import InvalidState, PermissionDenied
from ccm.models import Membership, Practice
from ccm.permissions import can_attest_complexity
from patients.models import Patient
from patients.selectors.common import practice_today
from patients.services.guards import clean_or_raise

ATTEST_REFUSAL = "attests their medical decision making for complex CCM (R-WHO-6)."


@transaction.atomic
def complexity_attest(
    *,
    practice: Practice,
    actor: Membership,
    patient: Patient,
    service_month: dt.date,
    mdm: str,
    note: str,
) -> ComplexityAttestation:
    """The billing practitioner attests moderate or high MDM for one service month.

    ``service_month`` is the first day of the month, which must have started in the
    practice's time zone. One current attestation per patient-month: void it to change it.
    """
    require_same_practice(practice=practice, actor=actor, objs=(patient,))
    if service_month.day != 1:
        raise InvalidState("Give the service month (its first day).", field="service_month")
    if service_month > practice_today(practice).replace(day=1):
        raise InvalidState(
            f"{service_month:%B %Y} has not started yet; attest it during the month.",
            field="service_month",
        )
    current = (
        ComplexityAttestation.objects.for_practice(practice)
        .select_related("attested_by__user")
        .filter(patient=patient, service_month=service_month, voided_at__isnull=True)
        .first()
    )
    if current is not None:
        raise InvalidState(
            f"{service_month:%B %Y} is already attested ({current.get_mdm_display().lower()}, "
            f"by {current.attested_by.display_name}); void that attestation to change it.",
            field="service_month",
        )
    if not can_attest_complexity(actor):
        raise PermissionDenied("Only a physician attests medical decision making (R-WHO-6).")
    require_billing_practitioner(
        actor=actor,
        patient=patient,
        missing="Choose the patient's billing practitioner before attesting complexity.",
        refusal=ATTEST_REFUSAL,
    )
    if mdm not in MedicalDecisionMaking.values:
        raise InvalidState(
            "Complex CCM needs moderate or high medical decision making.", field="mdm"
        )
    if not note.strip():
        raise InvalidState("Say what made the decision making moderate or high.", field="note")
    attestation = ComplexityAttestation(
        practice=practice,
        patient=patient,
        service_month=service_month,
        mdm=mdm,
        note=note.strip(),
        attested_by=actor,
    )
    clean_or_raise(attestation)
    attestation.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.COMPLEXITY_ATTESTED,
        patient_public_id=patient.public_id,
        obj=attestation,
        changes={"service_month": service_month.isoformat(), "mdm": mdm},
    )
    return attestation


@transaction.atomic
def complexity_attestation_void(
    *, practice: Practice, actor: Membership, attestation: ComplexityAttestation, reason: str
) -> ComplexityAttestation:
    """Withdraw a mistaken attestation (kept, with who and why)."""
    require_same_practice(practice=practice, actor=actor, objs=(attestation,))
    if attestation.is_voided:
        raise InvalidState("This attestation is already voided.")
    if not can_attest_complexity(actor):
        raise PermissionDenied("Only a physician voids a complexity attestation.")
    require_billing_practitioner(
        actor=actor,
        patient=attestation.patient,
        missing="Choose the patient's billing practitioner first.",
        refusal="voids their complexity attestations (R-WHO-6).",
    )
    if not reason.strip():
        raise InvalidState("Give a reason.", field="reason")
    attestation.voided_at = timezone.now()
    attestation.voided_by = actor
    attestation.void_reason = reason.strip()
    clean_or_raise(attestation)
    attestation.save(update_fields=["voided_at", "voided_by", "void_reason"])
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.COMPLEXITY_VOIDED,
        patient_public_id=attestation.patient.public_id,
        obj=attestation,
        changes={
            "service_month": attestation.service_month.isoformat(),
            "reason": attestation.void_reason,
        },
    )
    return attestation
