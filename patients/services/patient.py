"""Writes of patients themselves: create and update (demographics, coverage, practitioner).

``normalise_patient_fields`` is shared with the panel import so a CSV cell and a form field are
checked by the same code.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ccm.audit import AuditEvent, audit_record
from ccm.errors import Conflict, InvalidState
from ccm.models import Membership, Practice
from ccm.permissions import can_enroll_patients
from patients.models import Patient, Sex
from patients.services.guards import (
    clean_or_raise,
    refuse_future,
    require_actor,
    require_physician,
    require_same_practice,
)
from patients.validators import normalise_mbi

MASKED = "***"
_SECRET_FIELDS = frozenset({"mbi"})


class PatientDetails(TypedDict, total=False):
    """The optional patient fields (everything ``patient_create`` does not require)."""

    sex: Sex | str
    phone: str
    preferred_language: str
    address_line1: str
    address_line2: str
    city: str
    state: str
    postal_code: str
    mbi: str
    date_of_death: date | None
    billing_practitioner: Membership | None
    caregiver_name: str
    caregiver_relationship: str
    caregiver_phone: str
    blocked_by_model: bool


class PatientChanges(PatientDetails, total=False):
    """Any subset of the patient's editable fields (``patient_update``)."""

    mrn: str
    first_name: str
    last_name: str
    date_of_birth: date
    medicare_part_b: bool


EDITABLE_FIELDS = frozenset(PatientChanges.__annotations__) | frozenset(
    PatientDetails.__annotations__
)
_STRIPPED = frozenset(
    {
        "mrn",
        "first_name",
        "last_name",
        "phone",
        "preferred_language",
        "address_line1",
        "address_line2",
        "city",
        "postal_code",
        "caregiver_name",
        "caregiver_relationship",
        "caregiver_phone",
    }
)


def normalise_patient_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Canonical values (trimmed text, upper-case state, compact MBI); ``InvalidState`` naming
    the field for an unknown field or an MBI that is not one."""
    cleaned: dict[str, Any] = {}
    for name, raw in fields.items():
        if name not in EDITABLE_FIELDS:
            raise InvalidState(f"“{name}” is not a patient field.", field=name)
        value = raw
        if name in _STRIPPED:
            value = (raw or "").strip()
        elif name == "state":
            value = (raw or "").strip().upper()
        elif name == "mbi":
            value = (raw or "").strip()
            if value:
                try:
                    value = normalise_mbi(value)
                except ValidationError as exc:
                    raise InvalidState(exc.messages[0], field="mbi") from exc
        cleaned[name] = value
    return cleaned


def _check_dates(*, practice: Practice, patient: Patient) -> None:
    refuse_future(
        practice=practice, value=patient.date_of_birth, field="date_of_birth", label="birth date"
    )
    refuse_future(
        practice=practice, value=patient.date_of_death, field="date_of_death", label="date of death"
    )
    if patient.date_of_death is not None and patient.date_of_death < patient.date_of_birth:
        raise InvalidState("The date of death is before the birth date.", field="date_of_death")


def _check_mrn_free(*, practice: Practice, mrn: str, patient: Patient) -> None:
    taken = Patient.objects.for_practice(practice).filter(mrn=mrn)
    if patient.pk is not None:
        taken = taken.exclude(pk=patient.pk)
    if taken.exists():
        raise Conflict(f"Another patient already has MRN {mrn}.", field="mrn")


def audit_value(value: Any) -> Any:
    """A JSON-safe form of a field value for an audit row (members by public id)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Membership):
        return str(value.public_id)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


@transaction.atomic
def patient_create(
    *,
    practice: Practice,
    actor: Membership,
    mrn: str,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    medicare_part_b: bool,
    **details: Unpack[PatientDetails],
) -> Patient:
    """Add a patient to the practice's panel (status ``unreviewed``).

    Refuses a duplicate MRN (``Conflict`` on ``mrn``), a billing practitioner who is not an
    active physician of the practice (``InvalidState`` on ``billing_practitioner``), a
    malformed MBI, and dates in the future.
    """
    require_actor(
        practice=practice,
        actor=actor,
        allowed=can_enroll_patients,
        message="Only care coordinators and managers add patients.",
    )
    fields = normalise_patient_fields(
        {
            "mrn": mrn,
            "first_name": first_name,
            "last_name": last_name,
            "date_of_birth": date_of_birth,
            "medicare_part_b": medicare_part_b,
            **details,
        }
    )
    practitioner = fields.get("billing_practitioner")
    if practitioner is not None:
        require_physician(practice=practice, membership=practitioner, field="billing_practitioner")
    patient = Patient(practice=practice, **fields)
    _check_dates(practice=practice, patient=patient)
    _check_mrn_free(practice=practice, mrn=patient.mrn, patient=patient)
    clean_or_raise(patient)
    patient.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.PATIENT_CREATED,
        patient_public_id=patient.public_id,
        obj=patient,
        changes={
            name: MASKED if name in _SECRET_FIELDS and value else audit_value(value)
            for name, value in fields.items()
        },
    )
    return patient


@transaction.atomic
def patient_update(
    *,
    practice: Practice,
    actor: Membership,
    patient: Patient,
    **changes: Unpack[PatientChanges],
) -> Patient:
    """Change any of the patient's editable fields; only the given ones are touched.

    A new billing practitioner has no consent yet (R-CONS-4): the patient's enrollment status
    is kept, and ``consent_needs_renewal`` says a new consent is needed.
    """
    require_same_practice(practice=practice, obj=patient)
    require_actor(
        practice=practice,
        actor=actor,
        allowed=can_enroll_patients,
        message="Only care coordinators and managers change patients.",
    )
    fields = normalise_patient_fields(dict(changes))
    practitioner = fields.get("billing_practitioner")
    if practitioner is not None and practitioner.pk != patient.billing_practitioner_id:
        require_physician(practice=practice, membership=practitioner, field="billing_practitioner")
    before = {name: getattr(patient, name) for name in fields}
    changed = {name: value for name, value in fields.items() if before[name] != value}
    if not changed:
        return patient
    for name, value in changed.items():
        setattr(patient, name, value)
    _check_dates(practice=practice, patient=patient)
    if "mrn" in changed:
        _check_mrn_free(practice=practice, mrn=patient.mrn, patient=patient)
    clean_or_raise(patient)
    patient.updated_at = timezone.now()
    patient.save(update_fields=[*changed, "updated_at"])
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.PATIENT_UPDATED,
        patient_public_id=patient.public_id,
        obj=patient,
        changes={
            name: MASKED
            if name in _SECRET_FIELDS
            else [audit_value(before[name]), audit_value(value)]
            for name, value in changed.items()
        },
    )
    return patient
