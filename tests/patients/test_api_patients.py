"""REST API v1: patients (list, retrieve, create, update) and the eligibility list."""

from __future__ import annotations

import datetime as dt

import pytest

from ccm.audit import AuditEvent
from ccm.permissions import Role
from ccm.tenancy import practice_context
from patients.models import EnrollmentStatus, Patient
from tests.factories import PatientFactory
from tests.patients.web import (
    api_client,
    audit_rows,
    consented,
    eligible_patient,
    ids,
    missing_id,
    shown_ids,
)

PATIENTS = "/api/v1/patients/"
ELIGIBILITY = "/api/v1/eligibility/"
# Token, MFA, membership and the practice contexts (14), then count, page and audit row.
LIST_QUERIES = 17
# ... and the qualifying conditions (one prefetch).
ELIGIBILITY_QUERIES = 18


def _new_patient(**changes):
    body = {
        "mrn": "N-1",
        "first_name": "Nora",
        "last_name": "Quinn",
        "date_of_birth": "1950-02-03",
        "medicare_part_b": True,
    }
    body.update(changes)
    return body


def test_list_shows_the_columns_and_audits_the_page(practice, coordinator, physician):
    # given
    patient = eligible_patient(
        practice, by=coordinator, billing_practitioner=physician, last_name="Adams"
    )
    consented(practice, actor=coordinator, patient=patient, practitioner=physician)
    # when
    response = api_client(coordinator).get(PATIENTS)
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    (row,) = body["results"]
    assert row["id"] == str(patient.public_id)
    assert (row["chronic_condition_count"], row["has_current_consent"]) == (2, True)
    assert row["billing_practitioner"] == str(physician.public_id)
    assert row["enrollment_status"] == "consented"
    assert "mbi" not in row
    (audit,) = audit_rows(practice, AuditEvent.PATIENT_LIST_VIEWED)
    assert shown_ids(audit) == ids(patient)


def test_list_searches_and_filters(practice, coordinator, physician):
    # given
    with practice_context(practice.pk):
        harold = PatientFactory.create(practice=practice, first_name="Harold", mrn="S-1")
        enrolled = PatientFactory.create(
            practice=practice, enrollment_status=EnrollmentStatus.ENROLLED
        )
        mine = PatientFactory.create(practice=practice, billing_practitioner=physician)
    client = api_client(coordinator)
    # when
    by_name = client.get(PATIENTS, {"search": "harold"}).json()["results"]
    by_status = client.get(PATIENTS, {"status": "enrolled"}).json()["results"]
    by_practitioner = client.get(PATIENTS, {"practitioner": str(physician.public_id)}).json()
    # then
    assert [row["id"] for row in by_name] == ids(harold)
    assert [row["id"] for row in by_status] == ids(enrolled)
    assert [row["id"] for row in by_practitioner["results"]] == ids(mine)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "asleep"}, "status"),
        ({"practitioner": "nobody"}, "practitioner"),
        ({"order": "random()"}, "order"),
    ],
)
def test_list_refuses_bad_filters_naming_them(practice, coordinator, query, field):
    # when
    response = api_client(coordinator).get(PATIENTS, query)
    # then
    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.parametrize("count", [1, 50])
def test_list_runs_a_constant_number_of_queries(
    practice, coordinator, physician, django_assert_max_num_queries, count
):
    # given
    for _ in range(count):
        eligible_patient(practice, by=coordinator, billing_practitioner=physician)
    client = api_client(coordinator)
    # when / then
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(PATIENTS)
    assert response.json()["count"] == count


def test_retrieve_masks_the_mbi_and_audits_the_read(practice, coordinator):
    # given
    patient = eligible_patient(practice, by=coordinator, mbi="1EG4TE5MK73")
    # when
    response = api_client(coordinator).get(f"{PATIENTS}{patient.public_id}/")
    # then
    assert response.status_code == 200
    assert response.json()["mbi_masked"] == "*******MK73"
    assert "1EG4TE5MK73" not in response.content.decode()
    (audit,) = audit_rows(practice, AuditEvent.PATIENT_VIEWED)
    assert audit.patient_public_id == patient.public_id


def test_another_practices_patient_is_404_and_nothing_is_audited(
    practice, other_practice, coordinator, other_members
):
    # given
    foreign = eligible_patient(other_practice, by=other_members[Role.CARE_COORDINATOR])
    # when
    response = api_client(coordinator).get(f"{PATIENTS}{foreign.public_id}/")
    # then
    assert response.status_code == 404
    assert audit_rows(practice, AuditEvent.PATIENT_VIEWED) == []


def test_create_a_patient(practice, coordinator, physician):
    # when
    response = api_client(coordinator).post(
        PATIENTS,
        _new_patient(billing_practitioner=str(physician.public_id), mbi="1EG4-TE5-MK73"),
        format="json",
    )
    # then
    assert response.status_code == 201
    body = response.json()
    assert (body["mrn"], body["mbi_masked"], body["enrollment_status"]) == (
        "N-1",
        "*******MK73",
        "unreviewed",
    )
    with practice_context(practice.pk):
        created = Patient.objects.for_practice(practice).get(public_id=body["id"])
    assert created.billing_practitioner_id == physician.pk


def test_a_duplicate_mrn_is_a_conflict_naming_the_field_and_saves_nothing(
    practice, coordinator, snapshot
):
    # given
    with practice_context(practice.pk):
        PatientFactory.create(practice=practice, mrn="N-1")
    before = snapshot(practice)
    # when
    response = api_client(coordinator).post(PATIENTS, _new_patient(), format="json")
    # then
    assert response.status_code == 409
    assert response.json() == {"mrn": ["Another patient already has MRN N-1."]}
    assert snapshot(practice) == before


def test_a_practitioner_of_another_practice_is_400_naming_the_field(
    practice, coordinator, other_members, snapshot
):
    # given
    before = snapshot(practice)
    stranger = other_members[Role.PHYSICIAN]
    # when
    response = api_client(coordinator).post(
        PATIENTS, _new_patient(billing_practitioner=str(stranger.public_id)), format="json"
    )
    # then
    assert response.status_code == 400
    assert response.json() == {"billing_practitioner": ["Choose a member of this practice."]}
    assert snapshot(practice) == before


def test_a_coordinator_cannot_be_the_billing_practitioner(practice, coordinator, snapshot):
    # given
    before = snapshot(practice)
    # when
    response = api_client(coordinator).post(
        PATIENTS, _new_patient(billing_practitioner=str(coordinator.public_id)), format="json"
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["billing_practitioner"]
    assert snapshot(practice) == before


def test_physicians_may_not_add_or_change_patients(practice, coordinator, physician, snapshot):
    # given
    patient = eligible_patient(practice, by=coordinator)
    before = snapshot(practice)
    client = api_client(physician)
    # when
    created = client.post(PATIENTS, _new_patient(), format="json")
    changed = client.patch(f"{PATIENTS}{patient.public_id}/", {"phone": "1"}, format="json")
    # then
    assert (created.status_code, changed.status_code) == (403, 403)
    assert snapshot(practice) == before


def test_update_changes_only_the_fields_given(practice, coordinator):
    # given
    patient = eligible_patient(practice, by=coordinator, phone="518-555-0100", city="Albany")
    # when
    response = api_client(coordinator).patch(
        f"{PATIENTS}{patient.public_id}/", {"phone": "518-555-0199"}, format="json"
    )
    # then
    assert response.status_code == 200
    assert (response.json()["phone"], response.json()["city"]) == ("518-555-0199", "Albany")
    assert len(audit_rows(practice, AuditEvent.PATIENT_UPDATED)) == 1


def test_a_future_birth_date_is_400_naming_the_field(practice, coordinator, snapshot):
    # given
    before = snapshot(practice)
    # when
    response = api_client(coordinator).post(
        PATIENTS, _new_patient(date_of_birth="2030-01-01"), format="json"
    )
    # then
    assert response.status_code == 400
    assert response.json() == {"date_of_birth": ["The birth date cannot be in the future."]}
    assert snapshot(practice) == before


# --- Eligibility ------------------------------------------------------------------------------


def test_eligibility_lists_candidates_with_their_qualifying_conditions(practice, coordinator):
    # given
    candidate = eligible_patient(practice, by=coordinator, codes=("I50.22", "E11.9"))
    eligible_patient(practice, by=coordinator, codes=("I10",))
    # when
    response = api_client(coordinator).get(ELIGIBILITY)
    # then
    (row,) = response.json()["results"]
    assert row["id"] == str(candidate.public_id)
    assert [(c["code"], c["chronic_category"]) for c in row["qualifying_conditions"]] == [
        ("E11.9", "diabetes"),
        ("I50.22", "heart_failure"),
    ]
    (audit,) = audit_rows(practice, AuditEvent.ELIGIBILITY_VIEWED)
    assert shown_ids(audit) == ids(candidate)


def test_eligibility_filters_by_category_and_last_visit(practice, coordinator):
    # given
    heart = eligible_patient(practice, by=coordinator, codes=("I50.22", "I10"))
    eligible_patient(practice, by=coordinator, codes=("E11.9", "N18.30"))
    client = api_client(coordinator)
    # when
    by_category = client.get(ELIGIBILITY, {"category": "heart_failure"}).json()["results"]
    seen_after = client.get(ELIGIBILITY, {"last_visit_after": "2025-01-01"}).json()["results"]
    # then
    assert [row["id"] for row in by_category] == ids(heart)
    assert seen_after == []


@pytest.mark.parametrize(
    "query", [{"category": "x"}, {"last_visit_before": "2025-13-01"}, {"order": "x"}]
)
def test_eligibility_refuses_bad_filters(practice, coordinator, query):
    # when
    response = api_client(coordinator).get(ELIGIBILITY, query)
    # then
    assert response.status_code == 400
    assert list(response.json()) == list(query)


@pytest.mark.parametrize("count", [1, 50])
def test_eligibility_runs_a_constant_number_of_queries(
    practice, coordinator, physician, django_assert_max_num_queries, count
):
    # given
    for _ in range(count):
        eligible_patient(practice, by=coordinator, billing_practitioner=physician)
    client = api_client(coordinator)
    # when / then
    with django_assert_max_num_queries(ELIGIBILITY_QUERIES):
        response = client.get(ELIGIBILITY)
    assert response.json()["count"] == count


def test_unknown_patient_is_404(practice, coordinator):
    # when
    response = api_client(coordinator).patch(
        f"{PATIENTS}{missing_id()}/", {"phone": "1"}, format="json"
    )
    # then
    assert response.status_code == 404


def test_birth_date_is_returned_as_a_date(practice, coordinator):
    # given
    patient = eligible_patient(practice, by=coordinator, date_of_birth=dt.date(1946, 3, 12))
    # when
    body = api_client(coordinator).get(f"{PATIENTS}{patient.public_id}/").json()
    # then
    assert body["date_of_birth"] == "1946-03-12"
