from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from ccm.audit import AuditEvent
from ccm.errors import Conflict, InvalidState, NotFound, PermissionDenied
from ccm.models import AuditLog
from ccm.permissions import Role
from patients.models import EnrollmentStatus, Patient, Sex
from patients.services.patient import patient_create, patient_update
from tests.factories import MembershipFactory, PatientFactory, UserFactory

BIRTH = dt.date(1948, 5, 2)


def _create(practice, actor, **extra):
    fields = {
        "mrn": "A-100",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": BIRTH,
        "medicare_part_b": True,
    }
    fields.update(extra)
    return patient_create(practice=practice, actor=actor, **fields)


def test_create_adds_an_unreviewed_patient_with_one_audit_row(
    practice, coordinator, physician, in_practice
):
    # when
    with in_practice(practice):
        patient = _create(
            practice,
            coordinator,
            mrn=" A-100 ",
            sex=Sex.FEMALE,
            state="ny",
            mbi="1eg4-te5-mk73",
            billing_practitioner=physician,
        )
        stored = Patient.objects.for_practice(practice).get()
        audit = list(AuditLog.objects.for_practice(practice).values_list("event", "changes"))
    # then
    assert stored.pk == patient.pk
    assert (stored.mrn, stored.state, stored.mbi) == ("A-100", "NY", "1EG4TE5MK73")
    assert stored.enrollment_status == EnrollmentStatus.UNREVIEWED
    assert stored.billing_practitioner_id == physician.pk
    assert audit == [
        (
            AuditEvent.PATIENT_CREATED,
            {
                "mrn": "A-100",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "date_of_birth": "1948-05-02",
                "medicare_part_b": True,
                "sex": "female",
                "state": "NY",
                "mbi": "***",
                "billing_practitioner": str(physician.public_id),
            },
        )
    ]


def test_mbi_is_stored_encrypted_and_shown_masked(practice, coordinator, in_practice):
    # given
    with in_practice(practice):
        patient = _create(practice, coordinator, mbi="1EG4TE5MK73")
        # when
        with connection.cursor() as cursor:
            cursor.execute("SELECT mbi FROM patients_patient WHERE id = %s", [patient.pk])
            raw = cursor.fetchone()[0]
        reread = Patient.objects.for_practice(practice).get(pk=patient.pk)
    # then
    assert "1EG4TE5MK73" not in raw
    assert raw.startswith("gAAAA")
    assert reread.mbi == "1EG4TE5MK73"
    assert reread.mbi_masked == "*******MK73"
    assert Patient(mbi="").mbi_masked == ""


def test_duplicate_mrn_is_refused_and_nothing_is_saved(
    practice, coordinator, in_practice, snapshot
):
    # given
    with in_practice(practice):
        _create(practice, coordinator)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(Conflict) as error:
        _create(practice, coordinator, first_name="Other")
    # then
    assert error.value.field == "mrn"
    assert error.value.message == "Another patient already has MRN A-100."
    assert snapshot(practice) == before


def test_same_mrn_in_another_practice_is_fine(
    practice, other_practice, coordinator, other_members, in_practice
):
    # given
    with in_practice(other_practice):
        _create(other_practice, other_members[Role.CARE_COORDINATOR])
    # when
    with in_practice(practice):
        patient = _create(practice, coordinator)
    # then
    assert patient.mrn == "A-100"


def test_billing_practitioner_of_another_practice_is_refused(
    practice, coordinator, other_members, in_practice, snapshot
):
    # given
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        _create(practice, coordinator, billing_practitioner=other_members[Role.PHYSICIAN])
    # then
    assert error.value.field == "billing_practitioner"
    assert error.value.message == "Choose a practitioner of this practice."
    assert snapshot(practice) == before


def test_billing_practitioner_must_be_an_active_physician(
    practice, coordinator, in_practice, snapshot
):
    # given
    with in_practice(practice):
        retired = MembershipFactory(
            practice=practice,
            role=Role.PHYSICIAN,
            is_active=False,
            user=UserFactory(full_name="Dr Retired"),
        )
    before = snapshot(practice)
    # when
    with in_practice(practice):
        with pytest.raises(InvalidState) as not_physician:
            _create(practice, coordinator, billing_practitioner=coordinator)
        with pytest.raises(InvalidState) as inactive:
            _create(practice, coordinator, billing_practitioner=retired)
    # then
    assert not_physician.value.field == "billing_practitioner"
    assert not_physician.value.message == (
        "Care coordinator maple is not a physician (billing practitioner)."
    )
    assert inactive.value.message == "Dr Retired is no longer active."
    assert snapshot(practice) == before


@pytest.mark.parametrize(
    "case",
    [
        ({"mbi": "1SG4TE5MK73"}, "mbi", "Enter an 11-character Medicare Beneficiary Identifier"),
        ({"date_of_birth": dt.date(2025, 3, 16)}, "date_of_birth", "The birth date cannot be"),
        ({"date_of_death": dt.date(2025, 3, 16)}, "date_of_death", "The date of death cannot"),
        ({"date_of_death": dt.date(1940, 1, 1)}, "date_of_death", "The date of death is before"),
        ({"first_name": "  "}, "first_name", "This field cannot be blank."),
        ({"sex": "x"}, "sex", "Value 'x' is not a valid choice."),
    ],
)
def test_invalid_patient_fields_are_refused_naming_the_field(
    practice, coordinator, in_practice, snapshot, case
):
    # given
    extra, field, message = case
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        _create(practice, coordinator, **extra)
    # then
    assert error.value.field == field
    assert error.value.message.startswith(message)
    assert snapshot(practice) == before


def test_physician_may_not_add_patients(practice, physician, in_practice, snapshot):
    # given
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(PermissionDenied):
        _create(practice, physician)
    # then
    assert snapshot(practice) == before


def test_member_of_another_practice_may_not_add_patients(
    practice, other_members, in_practice, snapshot
):
    # given
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(PermissionDenied):
        _create(practice, other_members[Role.CARE_COORDINATOR])
    # then
    assert snapshot(practice) == before


def test_update_changes_only_the_given_fields_and_audits_before_and_after(
    practice, manager, physician, in_practice
):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice, phone="555-0100", city="Albany")
        # when
        patient_update(
            practice=practice,
            actor=manager,
            patient=patient,
            phone="555-0199",
            city="Albany",
            billing_practitioner=physician,
        )
        stored = Patient.objects.for_practice(practice).get(pk=patient.pk)
        audit = list(AuditLog.objects.for_practice(practice).values_list("event", "changes"))
    # then
    assert (stored.phone, stored.city, stored.billing_practitioner_id) == (
        "555-0199",
        "Albany",
        physician.pk,
    )
    assert stored.updated_at == dt.datetime(2025, 3, 15, 14, 0, tzinfo=dt.UTC)
    assert audit == [
        (
            AuditEvent.PATIENT_UPDATED,
            {
                "phone": ["555-0100", "555-0199"],
                "billing_practitioner": [None, str(physician.public_id)],
            },
        )
    ]


def test_update_without_changes_writes_nothing(practice, manager, in_practice, snapshot):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice, phone="555-0100")
    before = snapshot(practice)
    # when
    with in_practice(practice):
        patient_update(practice=practice, actor=manager, patient=patient, phone=" 555-0100 ")
    # then
    assert snapshot(practice) == before


def test_update_to_a_taken_mrn_is_refused(practice, manager, in_practice, snapshot):
    # given
    with in_practice(practice):
        PatientFactory(practice=practice, mrn="A-1")
        patient = PatientFactory(practice=practice, mrn="A-2")
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(Conflict) as error:
        patient_update(practice=practice, actor=manager, patient=patient, mrn="A-1")
    # then
    assert error.value.field == "mrn"
    assert snapshot(practice) == before


def test_update_of_another_practices_patient_is_not_found(
    practice, other_practice, manager, in_practice, snapshot
):
    # given
    with in_practice(other_practice):
        foreign = PatientFactory(practice=other_practice)
    before = snapshot(other_practice)
    # when
    with in_practice(practice), pytest.raises(NotFound):
        patient_update(practice=practice, actor=manager, patient=foreign, phone="1")
    # then
    assert snapshot(other_practice) == before


def test_update_of_mbi_is_audited_masked(practice, manager, in_practice):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        # when
        patient_update(practice=practice, actor=manager, patient=patient, mbi="1EG4TE5MK73")
        changes = AuditLog.objects.for_practice(practice).get().changes
    # then
    assert changes == {"mbi": "***"}
