"""REST API v1: CSV imports as multipart uploads (preview, then commit), and no input to any
patients endpoint is a server error."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ccm.audit import AuditEvent
from ccm.permissions import Role
from ccm.tenancy import practice_context
from patients.models import Patient, Visit
from patients.services.encounter import facility_stay_record, visit_record
from patients.views.imports import SAMPLES
from tests.factories import MembershipFactory, UserFactory
from tests.patients.web import api_client, audit_rows, consented, count_rows, eligible_patient

PANEL_PREVIEW = "/api/v1/imports/panel/preview/"
PANEL_COMMIT = "/api/v1/imports/panel/commit/"
ENCOUNTER_PREVIEW = "/api/v1/imports/encounters/preview/"
ENCOUNTER_COMMIT = "/api/v1/imports/encounters/commit/"


@pytest.fixture(autouse=True)
def sample_physicians(practice, members):
    with practice_context(practice.pk):
        for npi in ("1999990017", "1999990033"):
            MembershipFactory.create(
                practice=practice,
                role=Role.PHYSICIAN,
                npi=npi,
                user=UserFactory(email=f"{npi}@maple.test"),
            )


def _sample(kind):
    return SimpleUploadedFile(SAMPLES[kind].name, SAMPLES[kind].read_bytes())


def test_preview_writes_nothing_and_says_what_would_happen(practice, coordinator, snapshot):
    # given
    before = snapshot(practice)
    # when
    response = api_client(coordinator).post(PANEL_PREVIEW, {"file": _sample("panel")})
    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["valid"], body["would_create"], body["would_update"]) == (True, 20, 0)
    assert body["problems"] == []
    assert body["rows"][0] == {
        "row": 2,
        "mrn": "S-1001",
        "action": "create",
        "summary": "Whitaker, Harold: 3 chronic, 1 other condition(s)",
    }
    after = snapshot(practice)
    assert {k: v for k, v in after.items() if k != "AuditLog"} == {
        k: v for k, v in before.items() if k != "AuditLog"
    }
    assert len(audit_rows(practice, AuditEvent.IMPORT_PREVIEWED)) == 1


def test_commit_imports_the_panel_then_a_second_commit_updates(practice, coordinator):
    # given
    client = api_client(coordinator)
    # when
    first = client.post(PANEL_COMMIT, {"file": _sample("panel")})
    second = client.post(PANEL_COMMIT, {"file": _sample("panel")})
    # then
    assert first.status_code == 201
    assert first.json() == {"created": 20, "updated": 0, "skipped": 0}
    assert second.json() == {"created": 0, "updated": 20, "skipped": 0}
    assert count_rows(practice, Patient) == 20


def test_commit_of_a_file_with_errors_is_400_with_every_error_and_saves_nothing(
    practice, coordinator, snapshot
):
    # given
    text = "mrn,first_name,last_name,date_of_birth,medicare_part_b\nA-1,Ann,,1950-01-01,perhaps\n"
    before = snapshot(practice)
    # when
    response = api_client(coordinator).post(
        PANEL_COMMIT, {"file": SimpleUploadedFile("bad.csv", text.encode())}
    )
    # then
    assert response.status_code == 400
    body = response.json()
    assert body["file"] == ["The file has 2 error(s); nothing was imported."]
    assert [(p["row"], p["column"]) for p in body["problems"]] == [
        (2, "last_name"),
        (2, "medicare_part_b"),
    ]
    assert snapshot(practice) == before


def test_encounters_are_previewed_and_committed(practice, coordinator):
    # given
    client = api_client(coordinator)
    client.post(PANEL_COMMIT, {"file": _sample("panel")})
    # when
    preview = client.post(ENCOUNTER_PREVIEW, {"kind": "visits", "file": _sample("visits")})
    commit = client.post(ENCOUNTER_COMMIT, {"kind": "visits", "file": _sample("visits")})
    again = client.post(ENCOUNTER_COMMIT, {"kind": "visits", "file": _sample("visits")})
    # then
    assert preview.json()["would_create"] == 4
    assert commit.json() == {"created": 4, "updated": 0, "skipped": 0}
    assert again.json() == {"created": 0, "updated": 0, "skipped": 4}
    assert count_rows(practice, Visit) == 4


def test_physicians_may_not_import_the_panel(practice, physician, snapshot):
    # given
    before = snapshot(practice)
    # when
    response = api_client(physician).post(PANEL_COMMIT, {"file": _sample("panel")})
    # then
    assert response.status_code == 403
    assert snapshot(practice) == before


def test_an_import_without_a_file_is_400(practice, coordinator):
    # when
    response = api_client(coordinator).post(ENCOUNTER_PREVIEW, {"kind": "visits"})
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["file"]


# --- No input makes an endpoint fail ----------------------------------------------------------

GARBAGE: list[object] = [
    None,
    "",
    "\x00",
    "x" * 5000,
    -1,
    10**30,
    1.5,
    True,
    [],
    {"a": 1},
    "9999-12-31",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "00000000-0000-0000-0000-000000000000",
    "<script>",
]


@pytest.fixture
def every_endpoint(practice, coordinator, physician):
    """Every patients endpoint that takes input, with its field names."""
    patient = eligible_patient(practice, by=coordinator, billing_practitioner=physician)
    with practice_context(practice.pk):
        condition = patient.conditions.first()
        visit = visit_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            date=dt.date(2025, 3, 1),
            code="99214",
            practitioner=physician,
        )
        stay = facility_stay_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            kind="inpatient",
            from_date=dt.date(2025, 1, 1),
            to_date=dt.date(2025, 1, 3),
        )
    consent = consented(practice, actor=coordinator, patient=patient, practitioner=physician)
    base = f"/api/v1/patients/{patient.public_id}"
    patient_fields = [
        "mrn",
        "first_name",
        "last_name",
        "date_of_birth",
        "medicare_part_b",
        "sex",
        "mbi",
        "date_of_death",
        "billing_practitioner",
        "state",
        "blocked_by_model",
    ]
    encounter = ["date", "code", "practitioner", "outside_practitioner_name"]
    return [
        ("post", "/api/v1/patients/", patient_fields),
        ("patch", f"{base}/", patient_fields),
        ("post", f"{base}/conditions/", ["code", "description", "onset_date", "chronic_attested"]),
        ("patch", f"/api/v1/conditions/{condition.public_id}/", ["description", "onset_date"]),
        ("post", f"/api/v1/conditions/{condition.public_id}/attest/", ["chronic"]),
        ("post", f"/api/v1/conditions/{condition.public_id}/resolve/", ["resolved_on"]),
        ("post", f"{base}/outreach/", ["attempted_on", "channel", "outcome", "note"]),
        ("post", f"{base}/enrollment/", ["status", "reason"]),
        ("post", f"{base}/enroll/", ["reason"]),
        (
            "post",
            f"{base}/consents/",
            [
                "practitioner",
                "obtained_on",
                "obtained_at",
                "method",
                "outcome",
                "obtained_by",
                "explained_cost_sharing",
                "document",
            ],
        ),
        ("post", f"/api/v1/consents/{consent.public_id}/revoke/", ["revoked_on", "reason"]),
        ("post", f"{base}/visits/", [*encounter, "ccm_discussed"]),
        ("post", f"{base}/other-services/", encounter),
        ("post", f"{base}/facility-stays/", ["kind", "from_date", "to_date", "facility_name"]),
        ("post", f"/api/v1/visits/{visit.public_id}/void/", ["reason"]),
        ("post", f"/api/v1/facility-stays/{stay.public_id}/void/", ["reason"]),
        ("get", "/api/v1/patients/", ["search", "status", "practitioner", "order", "page"]),
        (
            "get",
            "/api/v1/eligibility/",
            ["practitioner", "category", "last_visit_before", "last_visit_after", "page"],
        ),
    ]


@pytest.mark.parametrize("value", GARBAGE, ids=repr)
def test_no_garbage_value_in_any_field_of_any_endpoint_is_a_server_error(
    coordinator, every_endpoint, value
):
    # given
    client = api_client(coordinator)
    client.raise_request_exception = False
    failures = []
    for method, url, fields in every_endpoint:
        # when
        if method == "get":
            query = {name: "" if value is None else str(value) for name in fields}
            response = client.get(url, query)
        else:
            body = dict.fromkeys(fields, value)
            response = getattr(client, method)(url, body, format="json")
        # then
        if response.status_code >= 500:
            failures.append(f"{method.upper()} {url} {value!r}: {response.status_code}")
    assert failures == []


@pytest.mark.parametrize(
    "content", [b"", b"\xff\xfe\x00garbage", b"a,b\n" + b"\x00" * 10, b'"unclosed,\n1,2']
)
def test_no_file_content_is_a_server_error(coordinator, content):
    # given
    client = api_client(coordinator)
    client.raise_request_exception = False
    # when
    statuses = {
        client.post(
            url, {"kind": "facility_stays", "file": SimpleUploadedFile("x.csv", content)}
        ).status_code
        for url in (PANEL_PREVIEW, PANEL_COMMIT, ENCOUNTER_PREVIEW, ENCOUNTER_COMMIT)
    }
    # then
    assert statuses <= {200, 400}
