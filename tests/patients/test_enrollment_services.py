from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from ccm.audit import AuditEvent
from ccm.errors import InvalidState, PermissionDenied
from ccm.models import AuditLog
from patients.models import (
    ENROLLMENT_TRANSITIONS,
    ConsentMethod,
    EnrollmentEvent,
    EnrollmentStatus,
    OutreachAttempt,
    OutreachChannel,
    OutreachOutcome,
    Patient,
)
from patients.services.consent import consent_record
from patients.services.enrollment import (
    enrollment_status_change,
    outreach_record,
    patient_enroll,
)
from tests.factories import PatientFactory
from tests.patients.conftest import TODAY

S = EnrollmentStatus


def _status(practice, patient):
    return Patient.objects.for_practice(practice).get(pk=patient.pk).enrollment_status


def _history(practice, patient):
    return list(
        EnrollmentEvent.objects.for_practice(practice)
        .filter(patient=patient)
        .order_by("pk")
        .values_list("from_status", "to_status")
    )


def _consent(practice, actor, patient, practitioner):
    return consent_record(
        practice=practice,
        actor=actor,
        patient=patient,
        practitioner=practitioner,
        obtained_on=dt.date(2025, 3, 1),
        method=ConsentMethod.WRITTEN,
        explained_cost_sharing=True,
        explained_one_practitioner=True,
        explained_stop_anytime=True,
    )


def test_every_status_has_a_row_in_the_transition_table():
    # when
    sources = set(ENROLLMENT_TRANSITIONS)
    targets = set().union(*ENROLLMENT_TRANSITIONS.values())
    # then
    assert sources == set(S.values)
    assert targets <= set(S.values)
    assert all(status not in ENROLLMENT_TRANSITIONS[status] for status in S.values)


def test_outreach_attempt_moves_a_new_patient_into_outreach(practice, coordinator, in_practice):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice, enrollment_status=S.IDENTIFIED)
        # when
        attempt = outreach_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            attempted_on=TODAY,
            channel=OutreachChannel.PHONE,
            outcome=OutreachOutcome.LEFT_MESSAGE,
            note=" Call back Tuesday ",
        )
        stored = OutreachAttempt.objects.for_practice(practice).get()
        status = _status(practice, patient)
        history = _history(practice, patient)
        audit = list(
            AuditLog.objects.for_practice(practice).order_by("pk").values_list("event", flat=True)
        )
    # then
    assert stored.pk == attempt.pk
    assert (stored.note, stored.by_id) == ("Call back Tuesday", coordinator.pk)
    assert status == S.OUTREACH
    assert history == [("identified", "outreach")]
    assert audit == [AuditEvent.OUTREACH_RECORDED, AuditEvent.ENROLLMENT_CHANGED]


def test_second_attempt_leaves_the_status_alone(practice, coordinator, in_practice):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice, enrollment_status=S.OUTREACH)
        # when
        outreach_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            attempted_on=TODAY,
            channel=OutreachChannel.MAIL,
            outcome=OutreachOutcome.AGREED,
        )
        history = _history(practice, patient)
        status = _status(practice, patient)
    # then
    assert (status, history) == (S.OUTREACH, [])


def test_declined_outreach_declines_enrollment(practice, coordinator, in_practice):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice, enrollment_status=S.OUTREACH)
        # when
        outreach_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            attempted_on=TODAY,
            channel=OutreachChannel.PHONE,
            outcome=OutreachOutcome.DECLINED,
        )
        history = list(
            EnrollmentEvent.objects.for_practice(practice).values_list(
                "from_status", "to_status", "reason"
            )
        )
    # then
    assert history == [("outreach", "declined", "Declined during outreach on 2025-03-15.")]


def test_outreach_dated_in_the_future_is_refused(practice, coordinator, in_practice, snapshot):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        outreach_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            attempted_on=dt.date(2025, 3, 16),
            channel=OutreachChannel.PHONE,
            outcome=OutreachOutcome.REACHED,
        )
    # then
    assert error.value.field == "attempted_on"
    assert snapshot(practice) == before


def test_allowed_status_change_is_recorded_with_reason(practice, manager, in_practice):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        # when
        event = enrollment_status_change(
            practice=practice,
            actor=manager,
            patient=patient,
            to_status=S.ENROLLED_ELSEWHERE,
            reason="Cardiology bills CCM for her.",
        )
        audit = AuditLog.objects.for_practice(practice).get()
        status = _status(practice, patient)
    # then
    assert (event.from_status, event.to_status, event.by_id) == (
        "unreviewed",
        "enrolled_elsewhere",
        manager.pk,
    )
    assert status == S.ENROLLED_ELSEWHERE
    assert (audit.event, audit.changes, audit.patient_public_id) == (
        AuditEvent.ENROLLMENT_CHANGED,
        {"status": ["unreviewed", "enrolled_elsewhere"], "reason": "Cardiology bills CCM for her."},
        patient.public_id,
    )


def test_change_outside_the_table_is_refused(practice, manager, in_practice, snapshot):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice, enrollment_status=S.INELIGIBLE)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        enrollment_status_change(
            practice=practice, actor=manager, patient=patient, to_status=S.PAUSED
        )
    # then
    assert (error.value.field, error.value.message) == (
        "status",
        "A patient who is “Ineligible” cannot become “Paused”.",
    )
    assert snapshot(practice) == before


@pytest.mark.parametrize(
    "case",
    [
        (S.CONSENTED, "Record the patient's consent to move them to consented."),
        (S.ENROLLED, "Use “enroll”: it checks for a current consent first."),
    ],
)
def test_consented_and_enrolled_are_reached_only_through_their_services(
    practice, manager, in_practice, snapshot, case
):
    # given
    to_status, message = case
    with in_practice(practice):
        patient = PatientFactory(practice=practice, enrollment_status=S.OUTREACH)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        enrollment_status_change(
            practice=practice, actor=manager, patient=patient, to_status=to_status
        )
    # then
    assert error.value.message == message
    assert snapshot(practice) == before


def test_physician_may_not_change_enrollment(practice, physician, in_practice, snapshot):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(PermissionDenied):
        enrollment_status_change(
            practice=practice, actor=physician, patient=patient, to_status=S.IDENTIFIED
        )
    # then
    assert snapshot(practice) == before


def test_enroll_with_a_current_consent(practice, coordinator, physician, in_practice):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        _consent(practice, coordinator, patient, physician)
        # when
        event = patient_enroll(
            practice=practice, actor=coordinator, patient=patient, reason="Care plan started."
        )
        history = _history(practice, patient)
    # then
    assert (event.to_status, event.reason) == (S.ENROLLED, "Care plan started.")
    assert history == [("unreviewed", "consented"), ("consented", "enrolled")]


def test_enroll_without_consent_is_refused(practice, manager, physician, in_practice, snapshot):
    # given
    with in_practice(practice):
        patient = PatientFactory(
            practice=practice, enrollment_status=S.CONSENTED, billing_practitioner=physician
        )
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        patient_enroll(practice=practice, actor=manager, patient=patient)
    # then
    assert (error.value.field, error.value.message) == (
        "consent",
        "The patient has no consent to their billing practitioner on file.",
    )
    assert snapshot(practice) == before


def test_enroll_without_billing_practitioner_is_refused(practice, manager, in_practice, snapshot):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice, enrollment_status=S.CONSENTED)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        patient_enroll(practice=practice, actor=manager, patient=patient)
    # then
    assert error.value.field == "billing_practitioner"
    assert snapshot(practice) == before


def test_enroll_from_outreach_is_refused(practice, manager, in_practice, snapshot):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice, enrollment_status=S.OUTREACH)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        patient_enroll(practice=practice, actor=manager, patient=patient)
    # then
    assert error.value.message == "A patient who is “In outreach” cannot become “Enrolled”."
    assert snapshot(practice) == before


def test_paused_patient_resumes_with_consent(practice, coordinator, physician, in_practice):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        _consent(practice, coordinator, patient, physician)
        patient_enroll(practice=practice, actor=coordinator, patient=patient)
        enrollment_status_change(
            practice=practice,
            actor=coordinator,
            patient=patient,
            to_status=S.PAUSED,
            reason="Hospitalised",
        )
        # when
        patient_enroll(practice=practice, actor=coordinator, patient=patient)
        history = _history(practice, patient)
    # then
    assert history == [
        ("unreviewed", "consented"),
        ("consented", "enrolled"),
        ("enrolled", "paused"),
        ("paused", "enrolled"),
    ]


def _execute_in(context, sql, params):
    with context, connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_enrollment_history_is_append_only(practice, manager, in_practice):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        event = enrollment_status_change(
            practice=practice, actor=manager, patient=patient, to_status=S.IDENTIFIED
        )
        # when / then
        with pytest.raises(Exception, match=r"permission denied|append-only"):
            _execute_in(
                in_practice(practice),
                "UPDATE patients_enrollmentevent SET reason = 'x' WHERE id = %s",
                [event.pk],
            )
        assert EnrollmentEvent.objects.for_practice(practice).get(pk=event.pk).reason == ""
