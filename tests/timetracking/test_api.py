"""REST API v1: time entries and the timer."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ccm.audit import AuditEvent
from ccm.models import AuditLog
from tests.factories import PatientFactory
from tests.timetracking.helpers import counts, ny
from timetracking.models import TimeEntry, Timer
from timetracking.services.entries import time_entry_log
from timetracking.services.months import month_lock

ENTRIES = "/api/v1/time-entries/"
# Token, MFA, membership and the practice contexts (14), then count, page and audit row (3).
API_LIST_QUERIES = 17


@pytest.fixture(autouse=True)
def _march_20():
    with time_machine.travel(ny(2025, 3, 20, 15), tick=False):
        yield


def _api(membership) -> APIClient:
    TOTP.activate(membership.user, generate_totp_secret())
    token, _ = Token.objects.get_or_create(user=membership.user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _log(practice, actor, patient, start, minutes):
    return time_entry_log(
        practice=practice,
        actor=actor,
        patient=patient,
        start=start,
        end=start + dt.timedelta(minutes=minutes),
        activity="care_plan",
    )


def test_create_with_start_and_end(practice, coordinator, patient, in_practice):
    # when
    response = _api(coordinator).post(
        ENTRIES,
        {
            "patient": str(patient.public_id),
            "start": "2025-03-10T10:00:00-04:00",
            "end": "2025-03-10T10:20:00-04:00",
            "activity": "patient_communication",
            "note": "Checked blood pressure log",
        },
        format="json",
    )
    # then
    assert response.status_code == 201
    (entry,) = response.json()["entries"]
    assert {key: entry[key] for key in ("start", "end", "minutes", "service_month", "part_of")} == {
        "start": "2025-03-10T14:00:00Z",
        "end": "2025-03-10T14:20:00Z",
        "minutes": 20,
        "service_month": "2025-03",
        "part_of": None,
    }
    assert (entry["patient"], entry["member"], entry["staff_role"], entry["source"]) == (
        str(patient.public_id),
        str(coordinator.public_id),
        "clinical_staff",
        "manual",
    )


def test_create_with_a_duration_across_month_end_returns_both_entries(
    practice, coordinator, patient, in_practice
):
    # given
    with time_machine.travel(ny(2025, 4, 2, 9), tick=False):
        # when
        response = _api(coordinator).post(
            ENTRIES,
            {
                "patient": str(patient.public_id),
                "start": "2025-03-31T23:40:00-04:00",
                "duration_minutes": 30,
                "activity": "care_plan",
                "part_of": "99495",
            },
            format="json",
        )
    # then
    assert response.status_code == 201
    assert [
        (e["service_month"], e["minutes"], e["part_of"]) for e in response.json()["entries"]
    ] == [
        ("2025-03", 20, "99495"),
        ("2025-04", 10, "99495"),
    ]


def test_overlap_is_409_naming_the_other_entry_and_saves_nothing(
    practice, coordinator, patient, in_practice
):
    # given
    with in_practice(practice):
        (existing,) = _log(practice, coordinator, patient, ny(2025, 3, 10, 10), 30)
        before = counts()
    # when
    response = _api(coordinator).post(
        ENTRIES,
        {
            "patient": str(patient.public_id),
            "start": "2025-03-10T10:15:00-04:00",
            "end": "2025-03-10T10:45:00-04:00",
            "activity": "care_plan",
        },
        format="json",
    )
    # then
    assert response.status_code == 409
    assert response.json() == {
        "start": ["This overlaps your entry for Ruth Alvarez on Mar 10, 10:00-10:30 EDT."],
        "conflicting_entry": str(existing.public_id),
    }
    with in_practice(practice):
        assert counts() == before


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (
            {"start": "2025-03-10T10:00:00-04:00", "end": "2025-03-10T09:00:00-04:00"},
            400,
            {"end": ["The end must be after the start."]},
        ),
        (
            {"start": "2025-03-20T15:00:00-04:00", "end": "2025-03-20T15:30:00-04:00"},
            400,
            {"end": ["An entry cannot end in the future."]},
        ),
        (
            {"start": "2025-03-10T06:00:00-04:00", "duration_minutes": 721},
            400,
            {"duration_minutes": ["Ensure this value is less than or equal to 720."]},
        ),
        (
            {"start": "2025-03-10T06:00:00-04:00", "end": "2025-03-10T18:30:00-04:00"},
            400,
            {"end": ["An entry cannot be longer than 12 hours."]},
        ),
        (
            {"start": "2025-03-10T10:00:00", "end": "2025-03-10T10:20:00"},
            400,
            {
                "start": ["Give the time with its UTC offset, like 2025-03-10T10:00:00-04:00."],
                "end": ["Give the time with its UTC offset, like 2025-03-10T10:00:00-04:00."],
            },
        ),
        (
            {"start": "2025-03-10T10:00:00-04:00"},
            400,
            {"non_field_errors": ["Give either end or duration_minutes."]},
        ),
    ],
)
def test_bad_entries_are_refused_and_nothing_is_saved(
    *, practice, coordinator, patient, in_practice, body, status, error
):
    # given
    with in_practice(practice):
        before = counts()
    # when
    response = _api(coordinator).post(
        ENTRIES, {"patient": str(patient.public_id), "activity": "care_plan", **body}, format="json"
    )
    # then
    assert (response.status_code, response.json()) == (status, error)
    with in_practice(practice):
        assert counts() == before


def test_closed_month_is_refused(practice, coordinator, patient, in_practice):
    # given
    with time_machine.travel(ny(2025, 4, 5, 9), tick=False):
        with in_practice(practice):
            month_lock(practice=practice, actor=None, service_month=dt.date(2025, 3, 1))
            before = counts()
        # when
        response = _api(coordinator).post(
            ENTRIES,
            {
                "patient": str(patient.public_id),
                "start": "2025-03-10T10:00:00-04:00",
                "duration_minutes": 10,
                "activity": "care_plan",
            },
            format="json",
        )
    # then
    assert response.status_code == 400
    assert response.json() == {
        "start": [
            "March 2025 is closed for billing: a manager must reopen it before its time entries "
            "change."
        ]
    }
    with in_practice(practice):
        assert counts() == before


def test_patient_of_another_practice_is_404(practice, coordinator, other_patient, in_practice):
    # given
    with in_practice(practice):
        before = counts()
    # when
    response = _api(coordinator).post(
        ENTRIES,
        {
            "patient": str(other_patient.public_id),
            "start": "2025-03-10T10:00:00-04:00",
            "duration_minutes": 10,
            "activity": "care_plan",
        },
        format="json",
    )
    # then
    assert response.status_code == 404
    with in_practice(practice):
        assert counts() == before


def test_manager_cannot_log_time(practice, manager, patient, in_practice):
    # when
    response = _api(manager).post(
        ENTRIES,
        {
            "patient": str(patient.public_id),
            "start": "2025-03-10T10:00:00-04:00",
            "duration_minutes": 10,
            "activity": "care_plan",
        },
        format="json",
    )
    # then
    assert response.status_code == 403
    with in_practice(practice):
        assert TimeEntry.objects.count() == 0


def test_list_filters_by_patient_and_month_and_audits_the_read(
    practice, coordinator, manager, patient, in_practice
):
    # given
    with in_practice(practice):
        other = PatientFactory.create(practice=practice)
        (march,) = _log(practice, coordinator, patient, ny(2025, 3, 10, 10), 20)
        _log(practice, coordinator, patient, ny(2025, 2, 10, 10), 20)
        _log(practice, coordinator, other, ny(2025, 3, 11, 10), 20)
    # when
    response = _api(manager).get(ENTRIES, {"patient": str(patient.public_id), "month": "2025-03"})
    # then
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(march.public_id)]
    with in_practice(practice):
        audit = AuditLog.objects.get(event=AuditEvent.TIME_ENTRIES_VIEWED)
    assert audit.changes == {"patient_ids": [str(patient.public_id)]}


def test_list_with_a_bad_month_is_400(coordinator):
    # when
    response = _api(coordinator).get(ENTRIES, {"month": "March"})
    # then
    assert (response.status_code, response.json()) == (
        400,
        {"month": ["Give the month as YYYY-MM."]},
    )


@pytest.mark.parametrize("entry_count", [1, 50])
def test_list_runs_a_constant_number_of_queries(
    practice, coordinator, in_practice, django_assert_max_num_queries, entry_count
):
    # given
    with in_practice(practice):
        patients = PatientFactory.create_batch(min(entry_count, 10), practice=practice)
        for index in range(entry_count):
            _log(
                practice,
                coordinator,
                patients[index % len(patients)],
                ny(2025, 3, 1, 8) + dt.timedelta(minutes=15 * index),
                10,
            )
    client = _api(coordinator)
    # when
    with django_assert_max_num_queries(API_LIST_QUERIES):
        response = client.get(ENTRIES, {"month": "2025-03"})
    # then
    assert response.json()["count"] == entry_count


def test_correct_with_a_reason(practice, coordinator, patient, in_practice):
    # given
    with in_practice(practice):
        (entry,) = _log(practice, coordinator, patient, ny(2025, 3, 10, 10), 20)
    # when
    response = _api(coordinator).patch(
        f"{ENTRIES}{entry.public_id}/",
        {"reason": "Started earlier", "start": "2025-03-10T09:50:00-04:00"},
        format="json",
    )
    # then
    assert response.status_code == 200
    assert (response.json()["minutes"], response.json()["start"]) == (30, "2025-03-10T13:50:00Z")


def test_correction_without_a_reason_is_400(practice, coordinator, patient, in_practice):
    # given
    with in_practice(practice):
        (entry,) = _log(practice, coordinator, patient, ny(2025, 3, 10, 10), 20)
        before = counts()
    # when
    response = _api(coordinator).patch(f"{ENTRIES}{entry.public_id}/", {"note": "x"}, format="json")
    # then
    assert (response.status_code, response.json()) == (400, {"reason": ["This field is required."]})
    with in_practice(practice):
        assert counts() == before


def test_void_with_a_reason_and_never_delete(practice, coordinator, patient, in_practice):
    # given
    with in_practice(practice):
        (entry,) = _log(practice, coordinator, patient, ny(2025, 3, 10, 10), 20)
    client = _api(coordinator)
    # when
    deleted = client.delete(f"{ENTRIES}{entry.public_id}/")
    voided = client.post(
        f"{ENTRIES}{entry.public_id}/void/", {"reason": "Duplicate"}, format="json"
    )
    # then
    assert deleted.status_code == 405
    assert (voided.status_code, voided.json()["is_voided"], voided.json()["void_reason"]) == (
        200,
        True,
        "Duplicate",
    )
    with in_practice(practice):
        assert TimeEntry.objects.filter(pk=entry.pk).exists()


def test_another_practices_entry_is_404(
    *, practice, other_practice, coordinator, other_members, other_patient, in_practice
):
    # given
    from ccm.permissions import Role  # noqa: PLC0415

    with in_practice(other_practice):
        (entry,) = _log(
            other_practice,
            other_members[Role.CARE_COORDINATOR],
            other_patient,
            ny(2025, 3, 10, 10),
            20,
        )
    client = _api(coordinator)
    # when
    detail = client.get(f"{ENTRIES}{entry.public_id}/")
    void = client.post(f"{ENTRIES}{entry.public_id}/void/", {"reason": "x"}, format="json")
    # then
    assert (detail.status_code, void.status_code) == (404, 404)
    with in_practice(other_practice):
        assert TimeEntry.objects.get().voided_at is None


def test_timer_start_current_and_stop(practice, coordinator, patient, in_practice):
    # given
    client = _api(coordinator)
    # when
    started = client.post(
        "/api/v1/timer/start/", {"patient": str(patient.public_id)}, format="json"
    )
    with time_machine.travel(ny(2025, 3, 20, 15, 12), tick=False):
        current = client.get("/api/v1/timer/")
        stopped = client.post("/api/v1/timer/stop/", {"activity": "care_plan"}, format="json")
    idle = client.get("/api/v1/timer/")
    # then
    assert started.status_code == 201
    assert current.json()["timer"] == {
        "id": started.json()["timer"]["id"],
        "patient": str(patient.public_id),
        "started_at": "2025-03-20T19:00:00Z",
        "elapsed_seconds": 720,
    }
    assert (stopped.status_code, stopped.json()["entries"][0]["minutes"]) == (201, 12)
    assert idle.json() == {"timer": None}


def test_second_timer_is_409(practice, coordinator, patient, in_practice):
    # given
    client = _api(coordinator)
    client.post("/api/v1/timer/start/", {"patient": str(patient.public_id)}, format="json")
    # when
    response = client.post(
        "/api/v1/timer/start/", {"patient": str(patient.public_id)}, format="json"
    )
    # then
    assert response.status_code == 409
    with in_practice(practice):
        assert Timer.objects.count() == 1


def test_long_timer_needs_confirmation(practice, coordinator, patient, in_practice):
    # given
    client = _api(coordinator)
    client.post("/api/v1/timer/start/", {"patient": str(patient.public_id)}, format="json")
    with time_machine.travel(ny(2025, 3, 20, 17, 0), tick=False):
        # when
        refused = client.post("/api/v1/timer/stop/", {"activity": "care_plan"}, format="json")
        corrected = client.post(
            "/api/v1/timer/stop/",
            {"activity": "care_plan", "end": "2025-03-20T15:40:00-04:00", "confirmed": True},
            format="json",
        )
    # then
    assert refused.status_code == 400
    assert refused.json() == {
        "end": [
            "This timer has run for 2 h 0 min, longer than 60 minutes: confirm the end time or "
            "correct it."
        ]
    }
    assert corrected.json()["entries"][0]["minutes"] == 40


def test_stop_without_a_timer_is_404(coordinator):
    # when
    response = _api(coordinator).post(
        "/api/v1/timer/stop/", {"activity": "care_plan"}, format="json"
    )
    # then
    assert response.status_code == 404


def test_discard(practice, coordinator, patient, in_practice):
    # given
    client = _api(coordinator)
    client.post("/api/v1/timer/start/", {"patient": str(patient.public_id)}, format="json")
    # when
    response = client.post("/api/v1/timer/discard/")
    # then
    assert response.status_code == 200
    with in_practice(practice):
        assert (Timer.objects.get().outcome, TimeEntry.objects.count()) == ("discarded", 0)
