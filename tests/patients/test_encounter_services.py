from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection

from ccm.audit import AuditEvent
from ccm.errors import InvalidState, NotFound
from ccm.models import AuditLog
from ccm.permissions import Role
from patients.models import FacilityStay, FacilityStayKind, OtherService, Visit
from patients.services.encounter import (
    facility_stay_record,
    facility_stay_void,
    other_service_record,
    other_service_void,
    visit_record,
    visit_void,
)
from tests.factories import PatientFactory, VisitFactory
from tests.patients.conftest import NOW, TODAY


def test_visit_by_a_physician_of_the_practice(practice, coordinator, physician, in_practice):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        # when
        visit = visit_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            date=dt.date(2025, 2, 3),
            code="99214",
            ccm_discussed=True,
            practitioner=physician,
        )
        stored = Visit.objects.for_practice(practice).select_related("practitioner__user").get()
        audit = AuditLog.objects.for_practice(practice).get()
    # then
    assert stored.pk == visit.pk
    assert (stored.code, stored.practitioner_id, stored.ccm_discussed) == (
        "99214",
        physician.pk,
        True,
    )
    assert stored.practitioner_name == "Physician (billing practitioner) maple"
    assert (audit.event, audit.changes) == (
        AuditEvent.VISIT_RECORDED,
        {
            "date": "2025-02-03",
            "code": "99214",
            "ccm_discussed": True,
            "practitioner": str(physician.public_id),
            "outside_practitioner_name": "",
            "outside_practitioner_npi": "",
        },
    )


def test_other_service_by_an_outside_practitioner(practice, manager, in_practice):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        # when
        service = other_service_record(
            practice=practice,
            actor=manager,
            patient=patient,
            date=dt.date(2025, 3, 2),
            code="g0181",
            outside_practitioner_name=" Home Health Partners ",
            outside_practitioner_npi="1245319599",
        )
        stored = OtherService.objects.for_practice(practice).get()
    # then
    assert stored.pk == service.pk
    assert (stored.code, stored.practitioner_id, stored.outside_practitioner_name) == (
        "G0181",
        None,
        "Home Health Partners",
    )
    assert stored.practitioner_name == "Home Health Partners"


@pytest.mark.parametrize(
    "case",
    [
        ({}, "practitioner", "Choose the practitioner, or name the outside practitioner."),
        (
            {"practitioner": "physician", "outside_practitioner_name": "Dr X"},
            "practitioner",
            "Choose a practitioner of the practice or name an outside one, not both.",
        ),
        (
            {"practitioner": "other_physician"},
            "practitioner",
            "Choose a practitioner of this practice.",
        ),
        (
            {"outside_practitioner_name": "Dr X", "outside_practitioner_npi": "1234567890"},
            "outside_practitioner_npi",
            "Enter a valid 10-digit NPI (its last digit is a check digit).",
        ),
        (
            {"outside_practitioner_name": "Dr X", "code": "9921"},
            "code",
            "“9921” is not a CPT or HCPCS code",
        ),
        (
            {"outside_practitioner_name": "Dr X", "date": dt.date(2025, 3, 16)},
            "date",
            "The visit date cannot be in the future.",
        ),
    ],
)
def test_invalid_visits_are_refused_naming_the_field(
    members, other_members, in_practice, snapshot, case
):
    # given
    extra, field, message = case
    coordinator = members[Role.CARE_COORDINATOR]
    practice = coordinator.practice
    choices = {
        "physician": members[Role.PHYSICIAN],
        "other_physician": other_members[Role.PHYSICIAN],
    }
    fields = {"date": dt.date(2025, 3, 1), "code": "99213"}
    fields.update({k: choices.get(v, v) if k == "practitioner" else v for k, v in extra.items()})
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        visit_record(practice=practice, actor=coordinator, patient=patient, **fields)
    # then
    assert error.value.field == field
    assert error.value.message.startswith(message)
    assert snapshot(practice) == before


def test_facility_stay_is_recorded_with_inclusive_dates(practice, coordinator, in_practice):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        # when
        stay = facility_stay_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            kind=FacilityStayKind.SNF_PART_A,
            from_date=dt.date(2025, 3, 1),
            to_date=dt.date(2025, 3, 1),
            facility_name="Riverside SNF",
        )
        stored = FacilityStay.objects.for_practice(practice).get()
        changes = AuditLog.objects.for_practice(practice).get().changes
    # then
    assert stored.pk == stay.pk
    assert (stored.from_date, stored.to_date, stored.facility_name) == (
        dt.date(2025, 3, 1),
        dt.date(2025, 3, 1),
        "Riverside SNF",
    )
    assert changes == {"kind": "snf_part_a", "from_date": "2025-03-01", "to_date": "2025-03-01"}


def test_stay_ending_before_it_starts_is_refused(practice, coordinator, in_practice, snapshot):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        facility_stay_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            kind=FacilityStayKind.INPATIENT,
            from_date=dt.date(2025, 3, 5),
            to_date=dt.date(2025, 3, 4),
        )
    # then
    assert (error.value.field, error.value.message) == (
        "to_date",
        "The stay cannot end before it starts.",
    )
    assert snapshot(practice) == before


def test_overlapping_stay_is_refused_but_a_voided_one_does_not_count(
    practice, coordinator, in_practice, snapshot
):
    # given
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        first = facility_stay_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            kind=FacilityStayKind.INPATIENT,
            from_date=dt.date(2025, 3, 1),
            to_date=dt.date(2025, 3, 5),
        )
    before = snapshot(practice)
    # when
    with in_practice(practice):
        with pytest.raises(InvalidState) as error:
            facility_stay_record(
                practice=practice,
                actor=coordinator,
                patient=patient,
                kind=FacilityStayKind.SNF_PART_A,
                from_date=dt.date(2025, 3, 5),
                to_date=dt.date(2025, 3, 9),
            )
        unchanged = snapshot(practice)
        facility_stay_void(practice=practice, actor=coordinator, stay=first, reason="Wrong patient")
        replacement = facility_stay_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            kind=FacilityStayKind.SNF_PART_A,
            from_date=dt.date(2025, 3, 5),
            to_date=dt.date(2025, 3, 9),
        )
    # then
    assert error.value.message == "The stay overlaps another one (2025-03-01 to 2025-03-05)."
    assert unchanged == before
    assert replacement.kind == FacilityStayKind.SNF_PART_A


def test_void_keeps_the_row_with_who_and_why(practice, coordinator, manager, in_practice):
    # given
    with in_practice(practice):
        visit = VisitFactory(practice=practice)
        service = other_service_record(
            practice=practice,
            actor=manager,
            patient=visit.patient,
            date=TODAY,
            code="99495",
            outside_practitioner_name="Dr Y",
        )
        # when
        visit_void(practice=practice, actor=coordinator, visit=visit, reason=" Duplicate ")
        other_service_void(practice=practice, actor=manager, service=service, reason="Not billed")
        stored = Visit.objects.for_practice(practice).get(pk=visit.pk)
        events = list(
            AuditLog.objects.for_practice(practice).order_by("pk").values_list("event", "changes")
        )
    # then
    assert (stored.voided_at, stored.voided_by_id, stored.void_reason) == (
        NOW,
        coordinator.pk,
        "Duplicate",
    )
    assert stored.is_voided
    assert events[1:] == [
        (AuditEvent.VISIT_VOIDED, {"reason": "Duplicate"}),
        (AuditEvent.OTHER_SERVICE_VOIDED, {"reason": "Not billed"}),
    ]


def test_void_twice_or_without_reason_is_refused(practice, coordinator, in_practice, snapshot):
    # given
    with in_practice(practice):
        voided = VisitFactory(practice=practice)
        visit_void(practice=practice, actor=coordinator, visit=voided, reason="x")
        fresh = VisitFactory(practice=practice)
    before = snapshot(practice)
    # when
    with in_practice(practice):
        with pytest.raises(InvalidState) as twice:
            visit_void(practice=practice, actor=coordinator, visit=voided, reason="y")
        with pytest.raises(InvalidState) as no_reason:
            visit_void(practice=practice, actor=coordinator, visit=fresh, reason=" ")
    # then
    assert twice.value.message == "This record is already voided."
    assert (no_reason.value.field, no_reason.value.message) == ("reason", "Give a reason.")
    assert snapshot(practice) == before


def test_voiding_another_practices_visit_is_not_found(
    practice, other_practice, coordinator, in_practice, snapshot
):
    # given
    with in_practice(other_practice):
        foreign = VisitFactory(practice=other_practice)
    before = snapshot(other_practice)
    # when
    with in_practice(practice), pytest.raises(NotFound):
        visit_void(practice=practice, actor=coordinator, visit=foreign, reason="x")
    # then
    assert snapshot(other_practice) == before


def _execute_in(context, sql, params):
    """Run raw SQL with deferred constraints checked at once, inside its own savepoint."""
    with context, connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(sql, params)


def test_database_refuses_a_reference_to_another_practices_member(
    practice, other_members, in_practice
):
    # given: a row written past the services, pointing at another practice's physician
    foreign_physician = other_members[Role.PHYSICIAN]
    with in_practice(practice):
        patient = PatientFactory(practice=practice)
        # when / then
        with pytest.raises(IntegrityError, match="same_practice"):
            _execute_in(
                in_practice(practice),
                "UPDATE patients_patient SET billing_practitioner_id = %s WHERE id = %s",
                [foreign_physician.pk, patient.pk],
            )
