from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.base import ContentFile

from ccm.audit import AuditEvent
from ccm.errors import Conflict, InvalidState, NotFound
from ccm.models import AuditLog
from ccm.permissions import Role
from patients.models import (
    Consent,
    ConsentMethod,
    ConsentOutcome,
    EnrollmentEvent,
    EnrollmentStatus,
    Patient,
)
from patients.selectors.consent import consent_current, consent_needs_renewal
from patients.services.consent import consent_record, consent_revoke
from patients.services.enrollment import patient_enroll
from patients.services.patient import patient_update
from tests.factories import MembershipFactory, PatientFactory, UserFactory
from tests.patients.conftest import TODAY

ALL_TOLD = {
    "explained_cost_sharing": True,
    "explained_one_practitioner": True,
    "explained_stop_anytime": True,
}


def _consent(practice, actor, patient, practitioner, **extra):
    fields = {
        "obtained_on": dt.date(2025, 3, 10),
        "method": ConsentMethod.VERBAL,
        **ALL_TOLD,
    }
    fields.update(extra)
    return consent_record(
        practice=practice, actor=actor, patient=patient, practitioner=practitioner, **fields
    )


def _events(practice):
    return list(
        AuditLog.objects.for_practice(practice).order_by("pk").values_list("event", flat=True)
    )


def test_consent_moves_patient_to_consented_and_sets_the_practitioner(
    practice, coordinator, physician, in_practice
):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        # when
        consent = _consent(practice, coordinator, patient, physician)
        stored = Patient.objects.for_practice(practice).get(pk=patient.pk)
        history = list(
            EnrollmentEvent.objects.for_practice(practice).values_list(
                "from_status", "to_status", "reason", "by"
            )
        )
        current = consent_current(practice=practice, patient=stored)
        events = _events(practice)
    # then
    assert consent.obtained_by_id == coordinator.pk
    assert stored.enrollment_status == EnrollmentStatus.CONSENTED
    assert stored.billing_practitioner_id == physician.pk
    assert history == [("unreviewed", "consented", "Consented on 2025-03-10.", coordinator.pk)]
    assert current == consent
    assert events == [
        AuditEvent.CONSENT_RECORDED,
        AuditEvent.PATIENT_UPDATED,
        AuditEvent.ENROLLMENT_CHANGED,
    ]


def test_consent_with_exact_time_keeps_it(practice, coordinator, physician, in_practice):
    # given
    moment = dt.datetime(2025, 3, 10, 15, 30, tzinfo=dt.UTC)  # 11:30 in New York
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        # when
        consent = _consent(practice, coordinator, patient, physician, obtained_at=moment)
        stored = Consent.objects.for_practice(practice).get(pk=consent.pk)
    # then
    assert stored.obtained_at == moment


def test_consent_time_on_another_local_day_is_refused(
    practice, coordinator, physician, in_practice, snapshot
):
    # given: 02:00 UTC on the 11th is still the 10th in New York; 05:00 UTC on the 11th is not
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        same_day = _consent(
            practice,
            coordinator,
            patient,
            physician,
            obtained_at=dt.datetime(2025, 3, 11, 2, 0, tzinfo=dt.UTC),
        )
        other = PatientFactory(practice=practice)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        _consent(
            practice,
            coordinator,
            other,
            physician,
            obtained_at=dt.datetime(2025, 3, 11, 5, 0, tzinfo=dt.UTC),
        )
    # then
    assert same_day.obtained_on == dt.date(2025, 3, 10)
    assert error.value.field == "obtained_at"
    assert snapshot(practice) == before


def test_consent_dated_in_the_future_is_refused(
    practice, coordinator, physician, in_practice, snapshot
):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
    before = snapshot(practice)
    # when
    with in_practice(practice):
        with pytest.raises(InvalidState) as future_date:
            _consent(practice, coordinator, patient, physician, obtained_on=dt.date(2025, 3, 16))
        with pytest.raises(InvalidState) as future_time:
            _consent(
                practice,
                coordinator,
                patient,
                physician,
                obtained_on=TODAY,
                obtained_at=dt.datetime(2025, 3, 15, 14, 1, tzinfo=dt.UTC),
            )
    # then
    assert (future_date.value.field, future_date.value.message) == (
        "obtained_on",
        "The consent date cannot be in the future.",
    )
    assert future_time.value.field == "obtained_at"
    assert snapshot(practice) == before


@pytest.mark.parametrize(
    "case",
    [
        ("explained_cost_sharing", "that CCM is available and that cost sharing applies"),
        (
            "explained_one_practitioner",
            "that only one practitioner can furnish and bill CCM in a calendar month",
        ),
        (
            "explained_stop_anytime",
            "that they may stop CCM at any time, effective at the end of the calendar month",
        ),
    ],
)
def test_consent_without_all_three_explanations_is_refused(
    practice, members, in_practice, snapshot, case
):
    # given
    missing, told = case
    coordinator, physician = members[Role.CARE_COORDINATOR], members[Role.PHYSICIAN]
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        _consent(practice, coordinator, patient, physician, **{missing: False})
    # then
    assert error.value.field == missing
    assert error.value.message == f"Confirm that the patient was told {told} (R-CONS-3)."
    assert snapshot(practice) == before


def test_consent_to_a_practitioner_of_another_practice_is_refused(
    practice, coordinator, other_members, in_practice, snapshot
):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        _consent(practice, coordinator, patient, other_members[Role.PHYSICIAN])
    # then
    assert error.value.field == "practitioner"
    assert error.value.message == "Choose a practitioner of this practice."
    assert snapshot(practice) == before


def test_consent_to_someone_who_is_not_a_physician_is_refused(
    practice, coordinator, in_practice, snapshot
):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        _consent(practice, coordinator, patient, coordinator)
    # then
    assert error.value.field == "practitioner"
    assert snapshot(practice) == before


def test_second_unrevoked_consent_to_the_same_practitioner_is_a_conflict(
    practice, coordinator, physician, in_practice, snapshot
):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        _consent(practice, coordinator, patient, physician)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(Conflict) as error:
        _consent(practice, coordinator, patient, physician, obtained_on=TODAY)
    # then
    assert error.value.field == "practitioner"
    assert snapshot(practice) == before


def test_declined_consent_records_the_refusal_and_declines_enrollment(
    practice, coordinator, physician, in_practice
):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        # when
        consent = consent_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            practitioner=physician,
            obtained_on=TODAY,
            method=ConsentMethod.VERBAL,
            outcome=ConsentOutcome.DECLINED,
        )
        stored = Patient.objects.for_practice(practice).get(pk=patient.pk)
        current = consent_current(practice=practice, patient=stored)
        events = _events(practice)
    # then
    assert consent.outcome == ConsentOutcome.DECLINED
    assert stored.enrollment_status == EnrollmentStatus.DECLINED
    assert stored.billing_practitioner_id is None
    assert current is None
    assert events == [AuditEvent.CONSENT_DECLINED, AuditEvent.ENROLLMENT_CHANGED]


def test_ineligible_patient_cannot_consent(practice, coordinator, physician, in_practice, snapshot):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice, enrollment_status=EnrollmentStatus.INELIGIBLE)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        _consent(practice, coordinator, patient, physician)
    # then
    assert error.value.message == "A patient who is “Ineligible” cannot become “Consented”."
    assert snapshot(practice) == before


def test_scanned_document_is_stored_under_the_practice(
    practice, members, in_practice, settings, tmp_path
):
    # given
    coordinator, physician = members[Role.CARE_COORDINATOR], members[Role.PHYSICIAN]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": None},
        },
    }
    scan = ContentFile(b"%PDF-1.4 consent", name="Signed Consent.PDF")
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        # when
        consent = _consent(
            practice, coordinator, patient, physician, method=ConsentMethod.WRITTEN, document=scan
        )
        stored = Consent.objects.for_practice(practice).get(pk=consent.pk)
    # then
    assert stored.document.name.startswith(f"practices/{practice.public_id}/consents/")
    assert stored.document.name.endswith(".pdf")
    assert (tmp_path / stored.document.name).read_bytes() == b"%PDF-1.4 consent"


def test_document_of_another_type_is_refused(
    practice, coordinator, physician, in_practice, snapshot
):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        _consent(
            practice,
            coordinator,
            patient,
            physician,
            document=ContentFile(b"x", name="consent.exe"),
        )
    # then
    assert error.value.field == "document"
    assert snapshot(practice) == before


def test_revocation_disenrolls_and_holds_through_the_month(
    practice, coordinator, physician, manager, in_practice
):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        consent = _consent(
            practice, coordinator, patient, physician, obtained_on=dt.date(2025, 1, 5)
        )
        patient_enroll(practice=practice, actor=manager, patient=patient)
        # when
        revoked = consent_revoke(
            practice=practice,
            actor=coordinator,
            consent=consent,
            revoked_on=dt.date(2025, 2, 10),
            reason="Patient asked to stop.",
        )
        stored = Patient.objects.for_practice(practice).get(pk=patient.pk)
        valid_end_of_february = consent_current(
            practice=practice, patient=stored, on=dt.date(2025, 2, 28)
        )
        valid_in_march = consent_current(practice=practice, patient=stored)
        renewal = consent_needs_renewal(practice=practice, patient=stored)
        last_event = EnrollmentEvent.objects.for_practice(practice).order_by("-pk").first()
        audit = (
            AuditLog.objects.for_practice(practice).filter(event=AuditEvent.CONSENT_REVOKED).get()
        )
    # then
    assert (revoked.revoked_on, revoked.revoked_by_id) == (dt.date(2025, 2, 10), coordinator.pk)
    assert stored.enrollment_status == EnrollmentStatus.DISENROLLED
    assert valid_end_of_february == consent
    assert valid_in_march is None
    assert renewal == (
        "The patient revoked their consent on 2025-02-10 (effective through 2025-02-28): "
        "a new consent is needed before CCM resumes."
    )
    assert (last_event.from_status, last_event.to_status) == ("enrolled", "disenrolled")
    assert last_event.reason == (
        "Consent revoked on 2025-02-10, effective through 2025-02-28: Patient asked to stop."
    )
    assert audit.changes == {
        "revoked_on": "2025-02-10",
        "effective_through": "2025-02-28",
        "reason": "Patient asked to stop.",
    }


def test_revocation_before_the_consent_date_is_refused(
    practice, coordinator, physician, in_practice, snapshot
):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        consent = _consent(practice, coordinator, patient, physician)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        consent_revoke(
            practice=practice,
            actor=coordinator,
            consent=consent,
            revoked_on=dt.date(2025, 3, 9),
            reason="x",
        )
    # then
    assert error.value.field == "revoked_on"
    assert error.value.message == "The revocation cannot be dated before the consent (2025-03-10)."
    assert snapshot(practice) == before


@pytest.mark.parametrize(
    "case",
    [
        (dt.date(2025, 3, 16), "x", "revoked_on", "The revocation cannot be in the future."),
        (TODAY, "  ", "reason", "Give a reason."),
    ],
)
def test_revocation_in_the_future_or_without_reason_is_refused(
    practice, members, in_practice, snapshot, case
):
    # given
    revoked_on, reason, field, message = case
    coordinator, physician = members[Role.CARE_COORDINATOR], members[Role.PHYSICIAN]
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        consent = _consent(practice, coordinator, patient, physician)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        consent_revoke(
            practice=practice,
            actor=coordinator,
            consent=consent,
            revoked_on=revoked_on,
            reason=reason,
        )
    # then
    assert (error.value.field, error.value.message) == (field, message)
    assert snapshot(practice) == before


def test_revoking_twice_or_revoking_a_refusal_is_refused(
    practice, coordinator, physician, in_practice, snapshot
):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        consent = _consent(practice, coordinator, patient, physician)
        consent_revoke(
            practice=practice, actor=coordinator, consent=consent, revoked_on=TODAY, reason="x"
        )
        refusal = consent_record(
            practice=practice,
            actor=coordinator,
            patient=PatientFactory(practice=practice),
            practitioner=physician,
            obtained_on=TODAY,
            method=ConsentMethod.VERBAL,
            outcome=ConsentOutcome.DECLINED,
        )
    before = snapshot(practice)
    # when
    with in_practice(practice):
        with pytest.raises(InvalidState) as twice:
            consent_revoke(
                practice=practice, actor=coordinator, consent=consent, revoked_on=TODAY, reason="y"
            )
        with pytest.raises(InvalidState) as declined:
            consent_revoke(
                practice=practice, actor=coordinator, consent=refusal, revoked_on=TODAY, reason="y"
            )
    # then
    assert twice.value.message == "This consent was already revoked on 2025-03-15."
    assert declined.value.message == "A refusal cannot be revoked."
    assert snapshot(practice) == before


def test_new_billing_practitioner_needs_a_new_consent(
    practice, coordinator, physician, manager, in_practice
):
    # given
    with in_practice(practice):
        new_doctor = MembershipFactory(
            practice=practice, role=Role.PHYSICIAN, user=UserFactory(full_name="Dr New")
        )
        patient = PatientFactory(practice=practice)
        _consent(practice, coordinator, patient, physician)
        patient_enroll(practice=practice, actor=manager, patient=patient)
        # when
        patient_update(
            practice=practice, actor=manager, patient=patient, billing_practitioner=new_doctor
        )
        current = consent_current(practice=practice, patient=patient)
        renewal = consent_needs_renewal(practice=practice, patient=patient)
        renewed = _consent(practice, coordinator, patient, new_doctor, obtained_on=TODAY)
        current_after = consent_current(practice=practice, patient=patient)
        renewal_after = consent_needs_renewal(practice=practice, patient=patient)
        status = Patient.objects.for_practice(practice).get(pk=patient.pk).enrollment_status
    # then
    assert current is None
    assert renewal == (
        "The patient consented to CCM with Physician (billing practitioner) maple, but the "
        "billing practitioner is now Dr New: a new consent to Dr New is needed before CCM "
        "continues (R-CONS-4)."
    )
    assert current_after == renewed
    assert renewal_after is None
    assert status == EnrollmentStatus.ENROLLED


def test_patient_who_never_consented_needs_no_renewal(practice, physician, in_practice):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice, billing_practitioner=physician)
        # when
        renewal = consent_needs_renewal(practice=practice, patient=patient)
        current = consent_current(practice=practice, patient=patient)
    # then
    assert (renewal, current) == (None, None)


def test_consent_of_another_practices_patient_is_not_found(
    practice, other_practice, members, in_practice, snapshot
):
    # given
    coordinator, physician = members[Role.CARE_COORDINATOR], members[Role.PHYSICIAN]
    with in_practice(other_practice):
        foreign = PatientFactory(practice=other_practice)
    before = snapshot(other_practice)
    # when
    with in_practice(practice), pytest.raises(NotFound):
        _consent(practice, coordinator, foreign, physician)
    # then
    assert snapshot(other_practice) == before
