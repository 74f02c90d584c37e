"""Complexity attestations: moderate or high MDM per patient-month (R-ELIG-4, R-WHO-6)."""

from __future__ import annotations

import datetime as dt

import pytest

from careplans.models import ComplexityAttestation, MedicalDecisionMaking
from careplans.services.complexity import complexity_attest, complexity_attestation_void
from ccm.audit import AuditEvent
from ccm.errors import InvalidState, PermissionDenied
from ccm.models import AuditLog
from ccm.permissions import Role
from tests.careplans.conftest import NOW
from tests.factories import MembershipFactory

MARCH = dt.date(2025, 3, 1)


def _attest(practice, actor, patient, **overrides):
    fields = {
        "service_month": MARCH,
        "mdm": MedicalDecisionMaking.HIGH,
        "note": "Insulin started; CKD progressing; two specialists coordinated.",
    } | overrides
    return complexity_attest(practice=practice, actor=actor, patient=patient, **fields)


def test_billing_practitioner_attests_a_month(practice, physician, patient, in_practice):
    # when
    with in_practice(practice):
        attestation = _attest(practice, physician, patient)
        stored = ComplexityAttestation.objects.for_practice(practice).get()
        audit = AuditLog.objects.for_practice(practice).get(event=AuditEvent.COMPLEXITY_ATTESTED)
    # then
    assert stored.pk == attestation.pk
    assert (stored.service_month, stored.mdm, stored.attested_by_id, stored.attested_at) == (
        MARCH,
        "high",
        physician.pk,
        NOW,
    )
    assert (audit.patient_public_id, audit.changes) == (
        patient.public_id,
        {"service_month": "2025-03-01", "mdm": "high"},
    )


def test_attestation_by_someone_not_the_billing_practitioner_is_refused(
    practice, patient, in_practice, snapshot
):
    # given
    with in_practice(practice):
        colleague = MembershipFactory.create(practice=practice, role=Role.PHYSICIAN)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(PermissionDenied) as error:
        _attest(practice, colleague, patient)
    # then
    assert str(error.value) == (
        "Only the patient's billing practitioner, Physician (billing practitioner) maple, "
        "attests their medical decision making for complex CCM (R-WHO-6)."
    )
    assert snapshot(practice) == before


@pytest.mark.parametrize(
    "role", [Role.CARE_COORDINATOR, Role.PRACTICE_MANAGER, Role.PRACTICE_ADMIN]
)
def test_attestation_by_a_non_physician_is_refused(
    *, practice, members, patient, in_practice, snapshot, role
):
    # given
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(PermissionDenied) as error:
        _attest(practice, members[role], patient)
    # then
    assert str(error.value) == "Only a physician attests medical decision making (R-WHO-6)."
    assert snapshot(practice) == before


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"service_month": dt.date(2025, 4, 1)}, "April 2025 has not started yet"),
        ({"service_month": dt.date(2025, 3, 5)}, "Give the service month (its first day)."),
        ({"mdm": "low"}, "Complex CCM needs moderate or high medical decision making."),
        ({"note": "  "}, "Say what made the decision making moderate or high."),
    ],
)
def test_bad_attestations_are_refused(
    *, practice, physician, patient, in_practice, snapshot, overrides, message
):
    # given
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        _attest(practice, physician, patient, **overrides)
    # then
    assert error.value.message.startswith(message)
    assert snapshot(practice) == before


def test_a_month_is_attested_once(practice, physician, patient, in_practice):
    # given
    with in_practice(practice):
        _attest(practice, physician, patient)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        _attest(practice, physician, patient, mdm=MedicalDecisionMaking.MODERATE)
    # then
    assert error.value.message == (
        "March 2025 is already attested (high, by Physician (billing practitioner) maple); "
        "void that attestation to change it."
    )


def test_a_voided_attestation_can_be_replaced(practice, physician, patient, in_practice):
    # given
    with in_practice(practice):
        first = _attest(practice, physician, patient)
    # when
    with in_practice(practice):
        complexity_attestation_void(
            practice=practice, actor=physician, attestation=first, reason="Wrong month."
        )
        second = _attest(practice, physician, patient, mdm=MedicalDecisionMaking.MODERATE)
        rows = list(
            ComplexityAttestation.objects.for_practice(practice)
            .order_by("pk")
            .values_list("mdm", "voided_by_id", "void_reason")
        )
    # then
    assert second.mdm == "moderate"
    assert rows == [("high", physician.pk, "Wrong month."), ("moderate", None, "")]


def test_a_past_month_may_be_attested(practice, physician, patient, in_practice):
    # when
    with in_practice(practice):
        attestation = _attest(practice, physician, patient, service_month=dt.date(2025, 2, 1))
    # then
    assert attestation.service_month == dt.date(2025, 2, 1)
