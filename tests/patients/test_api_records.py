"""REST API v1: a patient's conditions, outreach, enrollment, consents, visits, other services
and stays. Refusals are a 400 (409 for a conflict) naming the field, and save nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ccm.audit import AuditEvent
from ccm.permissions import Role
from ccm.tenancy import practice_context
from patients.models import Consent, EnrollmentStatus
from patients.services.condition import condition_add
from tests.patients.web import (
    EXPLAINED,
    api_client,
    audit_rows,
    consented,
    eligible_patient,
)

# Token, MFA, membership and the practice contexts (14), the patient, count, page, audit row.
PATIENT_LIST_QUERIES = 18


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": None},
        },
    }
    return tmp_path


@pytest.fixture
def patient(practice, coordinator, physician):
    return eligible_patient(practice, by=coordinator, billing_practitioner=physician)


def _base(patient):
    return f"/api/v1/patients/{patient.public_id}"


def _consent_body(physician, **changes):
    body = {
        "practitioner": str(physician.public_id),
        "obtained_on": "2025-03-14",
        "method": "verbal",
        **EXPLAINED,
    }
    body.update(changes)
    return body


# --- Conditions -------------------------------------------------------------------------------


def test_conditions_are_listed_and_the_read_audited(practice, coordinator, patient):
    # when
    response = api_client(coordinator).get(f"{_base(patient)}/conditions/")
    # then
    assert response.status_code == 200
    codes = [row["code"] for row in response.json()["results"]]
    assert codes == ["E11.9", "I10"]
    (audit,) = audit_rows(practice, AuditEvent.PATIENT_VIEWED)
    assert audit.patient_public_id == patient.public_id


def test_add_a_condition(practice, coordinator, patient):
    # when
    response = api_client(coordinator).post(
        f"{_base(patient)}/conditions/",
        {"code": "n1830", "chronic_attested": True},
        format="json",
    )
    # then
    assert response.status_code == 201
    body = response.json()
    assert (body["code"], body["chronic_category"], body["chronic_attested"]) == (
        "N18.30",
        "chronic_kidney_disease",
        True,
    )


def test_a_malformed_icd10_code_is_400_on_code_and_saves_nothing(
    practice, coordinator, patient, snapshot
):
    # given
    before = snapshot(practice)
    # when
    response = api_client(coordinator).post(
        f"{_base(patient)}/conditions/", {"code": "E11..9"}, format="json"
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["code"]
    assert snapshot(practice) == before


def test_managers_may_not_attest(practice, manager, patient, snapshot):
    # given
    with practice_context(practice.pk):
        condition = condition_add(practice=practice, actor=manager, patient=patient, code="J44.9")
    before = snapshot(practice)
    # when
    response = api_client(manager).post(
        f"/api/v1/conditions/{condition.public_id}/attest/", {"chronic": True}, format="json"
    )
    # then
    assert response.status_code == 403
    assert snapshot(practice) == before


def test_attest_edit_and_resolve_a_condition(practice, coordinator, manager, patient):
    # given
    with practice_context(practice.pk):
        condition = condition_add(practice=practice, actor=manager, patient=patient, code="J44.9")
    url = f"/api/v1/conditions/{condition.public_id}/"
    client = api_client(coordinator)
    # when
    attested = client.post(f"{url}attest/", {"chronic": True}, format="json")
    edited = client.patch(url, {"description": "COPD"}, format="json")
    resolved = client.post(f"{url}resolve/", {"resolved_on": "2025-03-01"}, format="json")
    shown = client.get(url)
    # then
    assert attested.json()["chronic_attested"] is True
    assert edited.json()["description"] == "COPD"
    assert resolved.json()["resolved_on"] == "2025-03-01"
    assert shown.json()["attested_by"] == str(coordinator.public_id)


# --- Outreach and enrollment ------------------------------------------------------------------


def test_record_outreach_moves_the_patient_into_outreach(practice, coordinator, patient):
    # given
    client = api_client(coordinator)
    # when
    created = client.post(
        f"{_base(patient)}/outreach/",
        {"attempted_on": "2025-03-14", "channel": "phone", "outcome": "reached"},
        format="json",
    )
    history = client.get(f"{_base(patient)}/enrollment/").json()["results"]
    # then
    assert created.status_code == 201
    assert created.json()["by"] == str(coordinator.public_id)
    assert [(e["from_status"], e["to_status"]) for e in history] == [("unreviewed", "outreach")]


def test_change_status_and_refuse_a_transition_the_table_forbids(
    practice, coordinator, patient, snapshot
):
    # given
    client = api_client(coordinator)
    # when
    changed = client.post(f"{_base(patient)}/enrollment/", {"status": "ineligible"}, format="json")
    before = snapshot(practice)
    refused = client.post(f"{_base(patient)}/enrollment/", {"status": "outreach"}, format="json")
    # then
    assert (changed.status_code, changed.json()["to_status"]) == (201, "ineligible")
    assert refused.status_code == 400
    assert list(refused.json()) == ["status"]
    assert snapshot(practice) == before


def test_enroll_needs_a_current_consent(practice, coordinator, physician, patient, snapshot):
    # given
    client = api_client(coordinator)
    before = snapshot(practice)
    # when
    refused = client.post(f"{_base(patient)}/enroll/", {}, format="json")
    consented(practice, actor=coordinator, patient=patient, practitioner=physician)
    enrolled = client.post(f"{_base(patient)}/enroll/", {"reason": "Ready"}, format="json")
    # then
    assert refused.status_code == 400
    assert list(refused.json()) == ["status"]
    assert (enrolled.status_code, enrolled.json()["to_status"]) == (201, "enrolled")
    assert before["EnrollmentEvent"] == []


# --- Consent ----------------------------------------------------------------------------------


def test_record_a_consent_with_its_exact_time(practice, coordinator, physician, patient):
    # when
    response = api_client(coordinator).post(
        f"{_base(patient)}/consents/",
        _consent_body(physician, obtained_at="2025-03-14T09:30:00-04:00"),
        format="json",
    )
    # then
    assert response.status_code == 201
    body = response.json()
    assert (body["outcome"], body["obtained_by"], body["has_document"]) == (
        "consented",
        str(coordinator.public_id),
        False,
    )
    assert body["obtained_at"] == "2025-03-14T13:30:00Z"


def test_record_a_consent_with_its_scan_as_multipart(practice, coordinator, physician, patient):
    # given
    scan = SimpleUploadedFile("scan.pdf", b"%PDF", content_type="application/pdf")
    body = {**_consent_body(physician), "document": scan}
    body.update(dict.fromkeys(EXPLAINED, "true"))
    # when
    response = api_client(coordinator).post(f"{_base(patient)}/consents/", body)
    # then
    assert response.status_code == 201
    assert response.json()["has_document"] is True


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"obtained_on": "2025-03-16"}, "obtained_on"),
        ({"explained_stop_anytime": False}, "explained_stop_anytime"),
        ({"obtained_at": "2025-03-14T09:30:00"}, "obtained_at"),
        ({"obtained_at": "2025-03-13T09:30:00-04:00"}, "obtained_at"),
        ({"method": "telepathy"}, "method"),
        ({"obtained_on": "0001-01-01", "obtained_at": "0001-01-01T00:00:00Z"}, "obtained_at"),
    ],
)
def test_a_refused_consent_is_400_naming_the_field(
    practice, coordinator, physician, patient, snapshot, *, changes, field
):
    # given
    before = snapshot(practice)
    # when
    response = api_client(coordinator).post(
        f"{_base(patient)}/consents/", _consent_body(physician, **changes), format="json"
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert snapshot(practice) == before


def test_a_consent_to_another_practices_physician_is_400_naming_the_field(
    practice, coordinator, physician, other_members, patient, *, snapshot
):
    # given
    before = snapshot(practice)
    stranger = other_members[Role.PHYSICIAN]
    # when
    response = api_client(coordinator).post(
        f"{_base(patient)}/consents/",
        _consent_body(physician, practitioner=str(stranger.public_id)),
        format="json",
    )
    # then
    assert response.status_code == 400
    assert response.json() == {"practitioner": ["Choose a member of this practice."]}
    assert snapshot(practice) == before


def test_revoke_a_consent_and_refuse_a_date_before_it(
    practice, coordinator, physician, patient, snapshot
):
    # given
    consent = consented(practice, actor=coordinator, patient=patient, practitioner=physician)
    url = f"/api/v1/consents/{consent.public_id}/"
    client = api_client(coordinator)
    before = snapshot(practice)
    # when
    refused = client.post(
        f"{url}revoke/", {"revoked_on": "2025-02-01", "reason": "Moving"}, format="json"
    )
    unchanged = snapshot(practice)
    revoked = client.post(
        f"{url}revoke/", {"revoked_on": "2025-03-10", "reason": "Moving"}, format="json"
    )
    # then
    assert refused.status_code == 400
    assert list(refused.json()) == ["revoked_on"]
    assert unchanged == before
    assert revoked.json()["revoked_on"] == "2025-03-10"
    assert client.get(url).json()["revocation_reason"] == "Moving"


def test_consents_are_listed(practice, coordinator, physician, patient):
    # given
    consented(practice, actor=coordinator, patient=patient, practitioner=physician)
    # when
    response = api_client(coordinator).get(f"{_base(patient)}/consents/")
    # then
    (row,) = response.json()["results"]
    assert (row["practitioner_name"], row["outcome"]) == (physician.display_name, "consented")


# --- Visits, other services, stays ------------------------------------------------------------


def test_record_and_void_a_visit(practice, coordinator, physician, patient):
    # given
    client = api_client(coordinator)
    # when
    created = client.post(
        f"{_base(patient)}/visits/",
        {
            "date": "2025-03-03",
            "code": "99214",
            "practitioner": str(physician.public_id),
            "ccm_discussed": True,
        },
        format="json",
    )
    voided = client.post(
        f"/api/v1/visits/{created.json()['id']}/void/", {"reason": "Wrong day"}, format="json"
    )
    listed = client.get(f"{_base(patient)}/visits/").json()["results"]
    # then
    assert created.status_code == 201
    assert created.json()["practitioner_name"] == physician.display_name
    assert voided.json()["is_voided"] is True
    assert [row["void_reason"] for row in listed] == ["Wrong day"]


def test_a_visit_by_another_practices_physician_is_400(
    practice, coordinator, other_members, patient, snapshot
):
    # given
    before = snapshot(practice)
    # when
    response = api_client(coordinator).post(
        f"{_base(patient)}/visits/",
        {
            "date": "2025-03-03",
            "code": "99214",
            "practitioner": str(other_members[Role.PHYSICIAN].public_id),
        },
        format="json",
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["practitioner"]
    assert snapshot(practice) == before


def test_record_and_void_another_service(practice, coordinator, patient):
    # given
    client = api_client(coordinator)
    # when
    created = client.post(
        f"{_base(patient)}/other-services/",
        {"date": "2025-03-03", "code": "99495", "outside_practitioner_name": "Dr. Far"},
        format="json",
    )
    voided = client.post(
        f"/api/v1/other-services/{created.json()['id']}/void/", {"reason": "x"}, format="json"
    )
    # then
    assert created.json()["outside_practitioner_name"] == "Dr. Far"
    assert voided.json()["is_voided"] is True


def test_a_stay_that_ends_before_it_starts_is_400_on_to_date(
    practice, coordinator, patient, snapshot
):
    # given
    before = snapshot(practice)
    # when
    response = api_client(coordinator).post(
        f"{_base(patient)}/facility-stays/",
        {"kind": "inpatient", "from_date": "2025-03-05", "to_date": "2025-03-01"},
        format="json",
    )
    # then
    assert response.status_code == 400
    assert response.json() == {"to_date": ["The stay cannot end before it starts."]}
    assert snapshot(practice) == before


def test_record_and_void_a_stay(practice, coordinator, patient):
    # given
    client = api_client(coordinator)
    # when
    created = client.post(
        f"{_base(patient)}/facility-stays/",
        {"kind": "snf_part_a", "from_date": "2025-03-01", "to_date": "2025-03-05"},
        format="json",
    )
    voided = client.post(
        f"/api/v1/facility-stays/{created.json()['id']}/void/", {"reason": "Dup"}, format="json"
    )
    # then
    assert created.status_code == 201
    assert voided.json()["void_reason"] == "Dup"


@pytest.mark.parametrize(
    "path", ["conditions", "outreach", "enrollment", "consents", "visits", "other-services"]
)
@pytest.mark.parametrize("count", [1, 50])
def test_patient_lists_run_a_constant_number_of_queries(
    practice, coordinator, physician, patient, django_assert_max_num_queries, *, path, count
):
    # given ``count`` rows of every kind
    with practice_context(practice.pk):
        from tests.factories import (  # noqa: PLC0415
            ConditionFactory,
            ConsentFactory,
            EnrollmentEventFactory,
            OtherServiceFactory,
            OutreachAttemptFactory,
            VisitFactory,
        )

        for index in range(count):
            ConditionFactory(practice=practice, patient=patient, code=f"M{index:02d}.1")
            OutreachAttemptFactory(practice=practice, patient=patient, by=coordinator)
            EnrollmentEventFactory(practice=practice, patient=patient, by=coordinator)
            ConsentFactory(
                practice=practice,
                patient=patient,
                practitioner=physician,
                obtained_by=coordinator,
                revoked_on=dt.date(2025, 2, 1),
                revoked_by=coordinator,
            )
            VisitFactory(
                practice=practice,
                patient=patient,
                practitioner=physician,
                outside_practitioner_name="",
            )
            OtherServiceFactory(practice=practice, patient=patient)
    client = api_client(coordinator)
    # when / then
    with django_assert_max_num_queries(PATIENT_LIST_QUERIES):
        response = client.get(f"{_base(patient)}/{path}/")
    assert response.status_code == 200
    assert response.json()["count"] >= count


def test_nothing_is_consented_by_a_refused_request(practice, coordinator, physician, patient):
    # given a consent request refused for a missing explanation
    api_client(coordinator).post(
        f"{_base(patient)}/consents/",
        _consent_body(physician, explained_cost_sharing=False),
        format="json",
    )
    # then
    with practice_context(practice.pk):
        patient.refresh_from_db()
        assert Consent.objects.for_practice(practice).filter(patient=patient).exists() is False
    assert patient.enrollment_status == EnrollmentStatus.UNREVIEWED
