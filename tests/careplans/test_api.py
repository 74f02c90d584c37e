"""REST API v1 of care plans: plans, versions, sign, copies, goal progress, complexity."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from careplans.models import CarePlanCopy, CarePlanVersion, ComplexityAttestation
from ccm.audit import AuditEvent
from ccm.models import AuditLog
from ccm.permissions import Role
from tests.careplans.conftest import PASSWORD, make_patient, signed_plan
from tests.factories import MembershipFactory


def api_client(membership) -> APIClient:
    if not Authenticator.objects.filter(user=membership.user).exists():
        TOTP.activate(membership.user, generate_totp_secret())
    token, _ = Token.objects.get_or_create(user=membership.user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_physician_starts_the_plan_through_the_api(*, practice, physician, patient, in_practice):
    # when
    response = api_client(physician).post(
        f"/api/v1/patients/{patient.public_id}/care-plan/",
        {"templates": ["builtin:hypertension"]},
        format="json",
    )
    # then
    body = response.json()
    assert response.status_code == 201
    assert (body["number"], body["status"], body["patient"]) == (
        1,
        "draft",
        str(patient.public_id),
    )
    assert body["goals"][0]["measure"] == ("Average of home blood pressure readings over one week")
    assert "caregiver assessment" in body["missing_elements"]


def test_plan_get_lists_versions_and_is_read_audited(
    *, practice, coordinator, signed, patient, in_practice
):
    # when
    response = api_client(coordinator).get(f"/api/v1/patients/{patient.public_id}/care-plan/")
    # then
    body = response.json()
    assert response.status_code == 200
    assert [(v["number"], v["status"], v["signed_on"]) for v in body["versions"]] == [
        (1, "signed", "2025-03-10")
    ]
    assert body["versions"][0]["substantial_revision"] is True
    with in_practice(practice):
        assert (
            AuditLog.objects.for_practice(practice)
            .filter(event=AuditEvent.CARE_PLAN_VIEWED, actor=coordinator)
            .count()
            == 1
        )


def test_patch_with_a_goal_without_a_measure_is_400_and_changes_nothing(
    *, practice, physician, draft, in_practice, snapshot
):
    # given
    goals = [*draft.goals, {"goal": "Walk daily", "measure": "", "target": "30 minutes"}]
    before = snapshot(practice)
    # when
    response = api_client(physician).patch(
        f"/api/v1/care-plan-versions/{draft.public_id}/", {"goals": goals}, format="json"
    )
    # then
    assert response.status_code == 400
    assert response.json() == {
        "goals": [
            "The goal “Walk daily” has no measure: say how progress is measured "
            "(for example “HbA1c”)."
        ]
    }
    assert snapshot(practice) == before


def test_patch_changes_only_the_fields_given(*, practice, physician, draft, in_practice):
    # when
    response = api_client(physician).patch(
        f"/api/v1/care-plan-versions/{draft.public_id}/",
        {"prognosis": "Good with adherence."},
        format="json",
    )
    # then
    with in_practice(practice):
        stored = CarePlanVersion.objects.for_practice(practice).get()
    assert response.status_code == 200
    assert stored.prognosis == "Good with adherence."
    assert stored.goals == draft.goals


def test_sign_by_a_coordinator_is_403_with_the_reason(
    *, practice, coordinator, draft, in_practice, snapshot
):
    # given
    before = snapshot(practice)
    # when
    response = api_client(coordinator).post(
        f"/api/v1/care-plan-versions/{draft.public_id}/sign/",
        {"password": PASSWORD},
        format="json",
    )
    # then
    assert response.status_code == 403
    assert response.json() == {"detail": "Only a physician signs a care plan (R-WHO-7)."}
    assert snapshot(practice) == before


def test_physician_signs_through_the_api(*, practice, physician, draft, in_practice):
    # when
    response = api_client(physician).post(
        f"/api/v1/care-plan-versions/{draft.public_id}/sign/",
        {"password": PASSWORD},
        format="json",
    )
    # then
    body = response.json()
    assert response.status_code == 200
    assert (body["status"], body["signed_by"], body["signature_method"]) == (
        "signed",
        str(physician.public_id),
        "password",
    )


def test_revision_submit_and_queue_through_the_api(
    *, practice, physician, coordinator, signed, in_practice
):
    # given
    coordinator_client = api_client(coordinator)
    started = coordinator_client.post(f"/api/v1/care-plans/{signed.care_plan.public_id}/revisions/")
    revision = started.json()["id"]
    coordinator_client.patch(
        f"/api/v1/care-plan-versions/{revision}/",
        {"revision_note": "Add a walking goal."},
        format="json",
    )
    coordinator_client.post(f"/api/v1/care-plan-versions/{revision}/submit/")
    # when
    queue = api_client(physician).get("/api/v1/care-plan-versions/?mine=1")
    diff = api_client(physician).get(f"/api/v1/care-plan-versions/{revision}/diff/")
    # then
    assert started.status_code == 201
    assert [row["id"] for row in queue.json()["results"]] == [revision]
    assert queue.json()["count"] == 1
    assert diff.json()["based_on"] == 1
    assert diff.json()["text_fields"] == [
        {
            "field": "revision_note",
            "label": "What this revision changes",
            "before": "",
            "after": "Add a walking goal.",
        }
    ]


def test_copy_of_a_draft_is_400(*, practice, coordinator, draft, in_practice, snapshot):
    # given
    before = snapshot(practice)
    # when
    response = api_client(coordinator).post(
        f"/api/v1/care-plan-versions/{draft.public_id}/copies/",
        {"given_on": "2025-03-10", "method": "portal"},
        format="json",
    )
    # then
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Version 1 is not signed yet: a copy is given of a signed plan only (R-PLAN-4)."
    }
    assert snapshot(practice) == before


def test_copy_recorded_and_listed(*, practice, coordinator, signed, in_practice):
    # given
    client = api_client(coordinator)
    # when
    created = client.post(
        f"/api/v1/care-plan-versions/{signed.public_id}/copies/",
        {"given_on": "2025-03-10", "method": "portal"},
        format="json",
    )
    listed = client.get(f"/api/v1/care-plan-versions/{signed.public_id}/copies/")
    # then
    with in_practice(practice):
        copy = CarePlanCopy.objects.for_practice(practice).get()
    assert created.status_code == 201
    assert listed.json()["results"] == [created.json()]
    assert (copy.method, copy.given_by_id) == ("portal", coordinator.pk)


def test_goal_progress_through_the_api(*, practice, coordinator, signed, in_practice):
    # when
    response = api_client(coordinator).post(
        f"/api/v1/care-plan-versions/{signed.public_id}/goal-progress/",
        {"goal": signed.goals[0]["key"], "status": "met", "recorded_on": "2025-03-10"},
        format="json",
    )
    # then
    assert response.status_code == 201
    assert (response.json()["goal"], response.json()["status"]) == (
        signed.goals[0]["key"],
        "met",
    )


def test_complexity_attestation_by_the_billing_practitioner(
    *, practice, physician, patient, in_practice
):
    # given
    client = api_client(physician)
    # when
    created = client.post(
        f"/api/v1/patients/{patient.public_id}/complexity-attestations/",
        {"service_month": "2025-03", "mdm": "high", "note": "New insulin; CKD 3b."},
        format="json",
    )
    listed = client.get(f"/api/v1/patients/{patient.public_id}/complexity-attestations/")
    # then
    assert created.status_code == 201
    assert (created.json()["service_month"], created.json()["mdm"]) == ("2025-03", "high")
    assert listed.json()["results"] == [created.json()]


def test_complexity_attestation_by_another_physician_is_403(
    *, practice, patient, in_practice, snapshot
):
    # given
    with in_practice(practice):
        colleague = MembershipFactory.create(practice=practice, role=Role.PHYSICIAN)
    before = snapshot(practice)
    # when
    response = api_client(colleague).post(
        f"/api/v1/patients/{patient.public_id}/complexity-attestations/",
        {"service_month": "2025-03", "mdm": "high", "note": "x"},
        format="json",
    )
    # then
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Only the patient's billing practitioner")
    assert snapshot(practice) == before
    with in_practice(practice):
        assert not ComplexityAttestation.objects.for_practice(practice).exists()


def test_void_through_the_api(*, practice, physician, patient, in_practice):
    # given
    client = api_client(physician)
    created = client.post(
        f"/api/v1/patients/{patient.public_id}/complexity-attestations/",
        {"service_month": "2025-03", "mdm": "moderate", "note": "Adjusted medicines."},
        format="json",
    ).json()
    # when
    response = client.post(
        f"/api/v1/complexity-attestations/{created['id']}/void/",
        {"reason": "Wrong patient."},
        format="json",
    )
    # then
    assert response.status_code == 200
    assert response.json()["void_reason"] == "Wrong patient."


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/patients/{patient}/care-plan/",
        "/api/v1/care-plan-versions/{version}/",
        "/api/v1/care-plan-versions/{version}/diff/",
        "/api/v1/care-plan-versions/{version}/copies/",
        "/api/v1/patients/{patient}/complexity-attestations/",
    ],
)
def test_another_practices_rows_are_404(
    *, practice, coordinator, other_practice, other_members, path
):
    # given
    foreign_physician = other_members[Role.PHYSICIAN]
    foreign_patient = make_patient(other_practice, foreign_physician)
    foreign = signed_plan(other_practice, foreign_physician, foreign_patient)
    # when
    response = api_client(coordinator).get(
        path.format(patient=foreign_patient.public_id, version=foreign.public_id)
    )
    # then
    assert response.status_code == 404
