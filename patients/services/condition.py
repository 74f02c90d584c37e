"""Writes of a patient's problem list: add, edit, attest chronic, resolve.

Only attested (``chronic_attested``), unresolved conditions count toward eligibility
(R-ELIG-1/2/3); the reference list merely suggests a chronic category.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from ccm.audit import AuditEvent, audit_record
from ccm.errors import Conflict, InvalidState, PermissionDenied
from ccm.models import Membership, Practice
from ccm.permissions import can_attest_chronic_condition, can_edit_clinical_record
from patients.chronic import chronic_category_for
from patients.models import Condition, Patient
from patients.selectors.common import practice_today
from patients.services.guards import (
    clean_or_raise,
    refuse_future,
    require_actor,
    require_same_practice,
)
from patients.services.patient import audit_value
from patients.validators import normalise_icd10

ATTEST_MESSAGE = "Only a physician or care coordinator attests that a condition is chronic."


def normalise_condition_code(code: str) -> str:
    """The canonical ICD-10-CM code, or ``InvalidState`` on ``code``."""
    try:
        return normalise_icd10(code)
    except ValidationError as exc:
        raise InvalidState(exc.messages[0], field="code") from exc


def _require_editor(*, practice: Practice, actor: Membership) -> None:
    require_actor(
        practice=practice,
        actor=actor,
        allowed=can_edit_clinical_record,
        message="You may not change the problem list.",
    )


@transaction.atomic
def condition_add(
    *,
    practice: Practice,
    actor: Membership,
    patient: Patient,
    code: str,
    description: str = "",
    onset_date: date | None = None,
    chronic_attested: bool = False,
) -> Condition:
    """Put a diagnosis on the patient's list; ``chronic_attested`` attests it as the actor.

    Refuses a malformed code (``InvalidState`` on ``code``), a code already active for the
    patient (``Conflict`` on ``code``), and an onset date in the future.
    """
    require_same_practice(practice=practice, obj=patient)
    _require_editor(practice=practice, actor=actor)
    if chronic_attested and not can_attest_chronic_condition(actor):
        raise PermissionDenied(ATTEST_MESSAGE)
    canonical = normalise_condition_code(code)
    refuse_future(practice=practice, value=onset_date, field="onset_date", label="onset date")
    active = Condition.objects.for_practice(practice).filter(
        patient=patient, code=canonical, resolved_on__isnull=True
    )
    if active.exists():
        raise Conflict(f"{canonical} is already on the patient's list.", field="code")
    condition = Condition(
        practice=practice,
        patient=patient,
        code=canonical,
        description=description.strip(),
        chronic_category=chronic_category_for(canonical) or "",
        onset_date=onset_date,
        chronic_attested=chronic_attested,
        attested_by=actor if chronic_attested else None,
        attested_on=practice_today(practice) if chronic_attested else None,
    )
    clean_or_raise(condition)
    condition.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.CONDITION_ADDED,
        patient_public_id=patient.public_id,
        obj=condition,
        changes={
            "code": canonical,
            "chronic_category": condition.chronic_category,
            "chronic_attested": chronic_attested,
        },
    )
    return condition


@transaction.atomic
def condition_update(
    *,
    practice: Practice,
    actor: Membership,
    condition: Condition,
    description: str,
    onset_date: date | None,
) -> Condition:
    """Edit the free-text description and onset date (the code itself never changes: resolve
    the condition and add the right code instead, so history stays true)."""
    require_same_practice(practice=practice, obj=condition)
    _require_editor(practice=practice, actor=actor)
    refuse_future(practice=practice, value=onset_date, field="onset_date", label="onset date")
    before = {"description": condition.description, "onset_date": condition.onset_date}
    condition.description = description.strip()
    condition.onset_date = onset_date
    after = {"description": condition.description, "onset_date": condition.onset_date}
    if before == after:
        return condition
    clean_or_raise(condition)
    condition.save(update_fields=["description", "onset_date"])
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.CONDITION_UPDATED,
        patient_public_id=condition.patient.public_id,
        obj=condition,
        changes={
            name: [audit_value(value), audit_value(after[name])]
            for name, value in before.items()
            if value != after[name]
        },
    )
    return condition


@transaction.atomic
def condition_set_chronic(
    *, practice: Practice, actor: Membership, condition: Condition, chronic: bool
) -> Condition:
    """Attest (``chronic=True``) or withdraw the attestation that the condition is chronic and
    places the patient at significant risk (R-ELIG-1/2). The attester is the actor, today."""
    require_same_practice(practice=practice, obj=condition)
    if condition.resolved_on is not None:
        raise InvalidState("A resolved condition cannot be attested.", field="chronic_attested")
    require_actor(
        practice=practice,
        actor=actor,
        allowed=can_attest_chronic_condition,
        message=ATTEST_MESSAGE,
    )
    if condition.chronic_attested == chronic:
        return condition
    condition.chronic_attested = chronic
    condition.attested_by = actor if chronic else None
    condition.attested_on = practice_today(practice) if chronic else None
    clean_or_raise(condition)
    condition.save(update_fields=["chronic_attested", "attested_by", "attested_on"])
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.CONDITION_CHRONIC_ATTESTED,
        patient_public_id=condition.patient.public_id,
        obj=condition,
        changes={"chronic_attested": [not chronic, chronic]},
    )
    return condition


@transaction.atomic
def condition_resolve(
    *, practice: Practice, actor: Membership, condition: Condition, resolved_on: date
) -> Condition:
    """Mark the condition resolved on ``resolved_on`` (it stays on the record, inactive)."""
    require_same_practice(practice=practice, obj=condition)
    if condition.resolved_on is not None:
        raise InvalidState("The condition is already resolved.", field="resolved_on")
    _require_editor(practice=practice, actor=actor)
    refuse_future(
        practice=practice, value=resolved_on, field="resolved_on", label="resolution date"
    )
    if condition.onset_date is not None and resolved_on < condition.onset_date:
        raise InvalidState("The condition cannot resolve before its onset.", field="resolved_on")
    condition.resolved_on = resolved_on
    clean_or_raise(condition)
    condition.save(update_fields=["resolved_on"])
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.CONDITION_RESOLVED,
        patient_public_id=condition.patient.public_id,
        obj=condition,
        changes={"resolved_on": resolved_on.isoformat()},
    )
    return condition
