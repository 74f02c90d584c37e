from __future__ import annotations

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ccm.permissions import Role
from tests.factories import MembershipFactory


def _token_client(membership) -> APIClient:
    TOTP.activate(membership.user, generate_totp_secret())
    token, _ = Token.objects.get_or_create(user=membership.user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_token_request_runs_in_the_members_practice(physician, other_members, practice):
    # given
    client = _token_client(physician)
    # when
    response = client.get("/api/v1/members/")
    # then
    assert response.status_code == 200
    emails = sorted(row["email"] for row in response.json()["results"])
    assert emails == sorted(f"{role.value}@maple.test" for role in Role)


def test_me_names_the_practice_and_role(coordinator, practice):
    # when
    response = _token_client(coordinator).get("/api/v1/me/")
    # then
    assert response.status_code == 200
    assert response.json()["practice_id"] == str(practice.public_id)
    assert response.json()["role"] == "care_coordinator"


def test_member_of_two_practices_must_name_one(coordinator, other_practice, practice, in_practice):
    # given the coordinator also works for the other practice
    with in_practice(other_practice):
        MembershipFactory.create(practice=other_practice, user=coordinator.user)
    client = _token_client(coordinator)
    # when
    ambiguous = client.get("/api/v1/me/")
    chosen = client.get("/api/v1/me/", HTTP_X_PRACTICE=str(other_practice.public_id))
    # then
    assert ambiguous.status_code == 400
    assert "X-Practice" in ambiguous.json()["detail"]
    assert chosen.status_code == 200
    assert chosen.json()["practice_id"] == str(other_practice.public_id)


def test_practice_header_of_a_practice_the_user_is_not_in_is_refused(coordinator, other_practice):
    # when
    response = _token_client(coordinator).get(
        "/api/v1/me/", HTTP_X_PRACTICE=str(other_practice.public_id)
    )
    # then
    assert response.status_code == 200
    assert response.json()["practice_id"] != str(other_practice.public_id)


def test_api_without_credentials_is_401(db):
    # when
    response = APIClient().get("/api/v1/me/")
    # then
    assert response.status_code in (401, 403)


def test_openapi_schema_is_served_to_members(manager, client_for):
    # when
    response = client_for(manager).get("/api/schema/")
    # then
    assert response.status_code == 200
    assert b"/api/v1/me/" in response.content
