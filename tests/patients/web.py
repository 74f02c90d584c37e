"""Helpers of the patients pages and API tests: patients built with the real services, API
clients, and the audit rows a request wrote."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ccm.audit import AuditEvent
from ccm.models import AuditLog, Membership, Practice
from ccm.tenancy import practice_context
from patients.models import Consent, ConsentMethod, Patient
from patients.services.condition import condition_add
from patients.services.consent import consent_record
from tests.factories import PatientFactory

EXPLAINED: dict[str, bool] = {
    "explained_cost_sharing": True,
    "explained_one_practitioner": True,
    "explained_stop_anytime": True,
}


def eligible_patient(
    practice: Practice, *, by: Membership, codes: tuple[str, ...] = ("E11.9", "I10"), **fields: Any
) -> Patient:
    """A Part B patient with ``codes`` attested as chronic by ``by`` (a clinician)."""
    with practice_context(practice.pk):
        patient = PatientFactory.create(practice=practice, **fields)
        for code in codes:
            condition_add(
                practice=practice, actor=by, patient=patient, code=code, chronic_attested=True
            )
    return patient


def consented(
    practice: Practice,
    *,
    actor: Membership,
    patient: Patient,
    practitioner: Membership,
    obtained_on: dt.date = dt.date(2025, 3, 1),
) -> Consent:
    with practice_context(practice.pk):
        consent = consent_record(
            practice=practice,
            actor=actor,
            patient=patient,
            practitioner=practitioner,
            obtained_on=obtained_on,
            method=ConsentMethod.VERBAL,
            explained_cost_sharing=True,
            explained_one_practitioner=True,
            explained_stop_anytime=True,
        )
        patient.refresh_from_db()
    return consent


def api_client(membership: Membership) -> APIClient:
    """A token client of ``membership`` (MFA set up, as the app requires)."""
    TOTP.activate(membership.user, generate_totp_secret())
    token, _ = Token.objects.get_or_create(user=membership.user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def audit_rows(practice: Practice, event: AuditEvent) -> list[AuditLog]:
    with practice_context(practice.pk):
        return list(AuditLog.objects.for_practice(practice).filter(event=event).order_by("pk"))


def shown_ids(row: AuditLog) -> list[str]:
    """The patient ids a read-audit row records."""
    return list(row.changes.get("patient_ids", []))


def ids(*patients: Patient) -> list[str]:
    return [str(patient.public_id) for patient in patients]


def count_rows(practice: Practice, model: Any) -> int:
    with practice_context(practice.pk):
        return int(model.objects.for_practice(practice).count())


def missing_id() -> str:
    return str(uuid.uuid4())
