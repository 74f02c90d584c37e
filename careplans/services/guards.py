"""Checks the care-plan services run first."""

from __future__ import annotations

from django.db import models

from careplans.content import ContentError
from ccm.errors import InvalidState, NotFound, PermissionDenied
from ccm.models import Membership, Practice
from patients.models import Patient


def require_same_practice(
    *, practice: Practice, actor: Membership, objs: tuple[models.Model, ...]
) -> None:
    """A cross-practice actor is refused; a row of another practice is "not found"."""
    if actor.practice_id != practice.pk:
        raise PermissionDenied
    if any(getattr(obj, "practice_id", None) != practice.pk for obj in objs):
        raise NotFound


def practitioner_name(patient: Patient) -> str:
    practitioner = patient.billing_practitioner
    return practitioner.display_name if practitioner is not None else "not chosen yet"


def require_billing_practitioner(
    *, actor: Membership, patient: Patient, missing: str, refusal: str
) -> None:
    """Only the patient's billing practitioner passes (R-WHO-6/7).

    ``missing`` is the message when the patient has none yet; ``refusal`` is completed with
    the practitioner's name: "Only the patient's billing practitioner, Dr A, {refusal}".
    """
    if patient.billing_practitioner_id is None:
        raise InvalidState(missing, field="billing_practitioner")
    if patient.billing_practitioner_id != actor.pk:
        raise PermissionDenied(
            f"Only the patient's billing practitioner, {practitioner_name(patient)}, {refusal}"
        )


def invalid_content(error: ContentError) -> InvalidState:
    return InvalidState(error.message, field=error.field)
