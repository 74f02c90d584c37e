"""Pages and htmx partials: the timer in two tabs, a patient's month, corrections, settings."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from ccm.audit import AuditEvent
from ccm.models import AuditLog
from ccm.permissions import Role
from tests.factories import ComplexityAttestationFactory, PatientFactory
from tests.timetracking.helpers import MARCH, UTC, counts, ny
from timetracking import selectors
from timetracking.models import MonthLock, TimeEntry, TimeEntryRevision, Timer
from timetracking.services.entries import time_entry_log
from timetracking.services.months import month_lock
from timetracking.services.timer import timer_discard, timer_start

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _march_20():
    with time_machine.travel(ny(2025, 3, 20, 15), tick=False):
        yield


def _start_timer(client, patient):
    return client.post(reverse("time_timer_start", args=[patient.public_id]), **HTMX)


def test_two_tabs_show_the_same_timer_and_start(
    practice, coordinator, patient, client_for, in_practice
):
    # given a timer started in one tab; a second tab shares the browser's session
    first_tab = client_for(coordinator)
    second_tab = Client()
    second_tab.cookies = first_tab.cookies
    _start_timer(first_tab, patient)
    with in_practice(practice):
        timer = Timer.objects.get()
    # when both tabs poll
    with time_machine.travel(ny(2025, 3, 20, 15, 7, second=30), tick=False):
        pages = [tab.get(reverse("time_timer"), **HTMX) for tab in (first_tab, second_tab)]
    # then
    started = f'data-started="{int(timer.started_at.timestamp())}"'
    for page in pages:
        body = page.content.decode()
        assert page.status_code == 200
        assert started in body
        assert "0:07:30" in body
        assert "Timer running for" in body
        assert "Ruth Alvarez" in body


def test_polling_answers_204_while_nothing_changed_and_the_new_state_once_it_did(
    practice, coordinator, patient, client_for, in_practice
):
    # given
    client = client_for(coordinator)
    _start_timer(client, patient)
    with in_practice(practice):
        timer = Timer.objects.get()
    url = reverse("time_timer")
    # when
    unchanged = client.get(url, {"shown": str(timer.public_id)}, **HTMX)
    with in_practice(practice):
        timer_discard(practice=practice, actor=coordinator, timer=timer)
    changed = client.get(url, {"shown": str(timer.public_id)}, **HTMX)
    idle = client.get(url, {"shown": "none"}, **HTMX)
    # then
    assert unchanged.status_code == 204
    assert changed.status_code == 200
    assert "No timer running" in changed.content.decode()
    assert changed["HX-Trigger"] == "timer-changed"
    assert idle.status_code == 204


def test_start_button_returns_the_running_timer_partial(
    practice, coordinator, patient, client_for, in_practice
):
    # when
    response = _start_timer(client_for(coordinator), patient)
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="timer"' in body
    assert "Stop and log" in body
    assert response["HX-Trigger"] == "timer-changed"
    with in_practice(practice):
        assert Timer.objects.get().patient_id == patient.pk


def test_starting_a_second_timer_says_why_and_keeps_the_first(
    *, practice, coordinator, patient, physician, client_for, in_practice
):
    # given
    client = client_for(coordinator)
    _start_timer(client, patient)
    with in_practice(practice):
        second = PatientFactory.create(practice=practice)
    # when
    response = _start_timer(client, second)
    # then
    body = response.content.decode()
    assert "Your timer for Ruth Alvarez is still running: stop it first." in body
    with in_practice(practice):
        assert Timer.objects.get().patient_id == patient.pk


def test_stop_logs_the_entry_and_says_how_long(
    practice, coordinator, patient, client_for, in_practice
):
    # given
    with in_practice(practice):
        timer = timer_start(practice=practice, actor=coordinator, patient=patient)
    # when (the session is fresh: the idle timeout is 15 minutes)
    with time_machine.travel(ny(2025, 3, 20, 15, 22), tick=False):
        response = client_for(coordinator).post(
            reverse("time_timer_stop", args=[timer.public_id]),
            {"activity": "medication_reconciliation", "note": "Updated list", "part_of": ""},
            **HTMX,
        )
    # then
    assert "Logged 22 min for Ruth Alvarez." in response.content.decode()
    with in_practice(practice):
        entry = TimeEntry.objects.get()
    assert (entry.minutes, entry.activity, entry.note) == (
        22,
        "medication_reconciliation",
        "Updated list",
    )


def test_stopping_a_long_timer_asks_to_confirm_the_end_then_logs_the_correction(
    practice, coordinator, patient, client_for, in_practice
):
    # given a timer started at 15:00 and forgotten
    with in_practice(practice):
        timer = timer_start(practice=practice, actor=coordinator, patient=patient)
    url = reverse("time_timer_stop", args=[timer.public_id])
    with time_machine.travel(ny(2025, 3, 20, 17, 40), tick=False):
        client = client_for(coordinator)
        # when
        asked = client.post(url, {"activity": "care_plan"}, **HTMX)
        corrected = client.post(
            url,
            {
                "activity": "care_plan",
                "confirmed": "true",
                "end_date": "2025-03-20",
                "end_time": "15:35",
            },
            **HTMX,
        )
    # then
    asked_body = asked.content.decode()
    assert "This timer has run for 2 h 40 min, longer than 60 minutes" in asked_body
    assert 'name="end_time" value="17:40"' in asked_body
    assert "Confirm and log" in asked_body
    assert "Logged 35 min for Ruth Alvarez." in corrected.content.decode()
    with in_practice(practice):
        assert TimeEntry.objects.get().minutes == 35


def test_stop_without_an_activity_is_refused_and_the_timer_keeps_running(
    practice, coordinator, patient, client_for, in_practice
):
    # given
    client = client_for(coordinator)
    _start_timer(client, patient)
    with in_practice(practice):
        timer = Timer.objects.get()
        before = counts()
    # when
    response = client.post(reverse("time_timer_stop", args=[timer.public_id]), {}, **HTMX)
    # then
    assert "This field is required." in response.content.decode()
    with in_practice(practice):
        assert counts() == before
        assert Timer.objects.get().is_running


def test_patient_page_shows_the_months_entries_progress_and_audits_the_read(
    practice, coordinator, patient, client_for, in_practice
):
    # given
    with in_practice(practice):
        time_entry_log(
            practice=practice,
            actor=coordinator,
            patient=patient,
            start=ny(2025, 3, 10, 10),
            end=ny(2025, 3, 10, 10, 25),
            activity="coordination",
            note="Called cardiology",
        )
    # when
    response = client_for(coordinator).get(reverse("time_patient", args=[patient.public_id]))
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert "Called cardiology" in body
    assert "10:00\N{EN DASH}10:25 EDT" in body
    assert "<strong>25</strong> / 40 min" in body
    with in_practice(practice):
        audit = AuditLog.objects.get(event=AuditEvent.TIME_ENTRIES_VIEWED)
    assert audit.patient_public_id == patient.public_id


def test_patient_page_measures_an_attested_complex_month_against_60_90_120(
    *, practice, coordinator, physician, patient, client_for, in_practice
):
    # given 65 minutes in a month the billing practitioner attested complex
    with in_practice(practice):
        time_entry_log(
            practice=practice,
            actor=coordinator,
            patient=patient,
            start=ny(2025, 3, 10, 10),
            end=ny(2025, 3, 10, 11, 5),
            activity="coordination",
        )
        ComplexityAttestationFactory.create(
            practice=practice, patient=patient, service_month=MARCH, attested_by=physician
        )
    # when
    response = client_for(coordinator).get(reverse("time_patient", args=[patient.public_id]))
    # then the next complex threshold is 90, not the non-complex family's last one
    assert "<strong>65</strong> / 90 min" in response.content.decode()


def test_patient_of_another_practice_is_404(coordinator, other_patient, client_for):
    # when
    response = client_for(coordinator).get(reverse("time_patient", args=[other_patient.public_id]))
    # then
    assert response.status_code == 404


def test_manual_entry_with_a_duration_is_logged(
    practice, coordinator, patient, client_for, in_practice
):
    # when
    response = client_for(coordinator).post(
        reverse("time_entry_create", args=[patient.public_id]),
        {
            "date": "2025-03-18",
            "start_time": "09:15",
            "duration_minutes": "12",
            "activity": "record_review",
        },
    )
    # then
    assert response.status_code == 302
    assert response["Location"] == f"/time/patients/{patient.public_id}/?month=2025-03"
    with in_practice(practice):
        entry = TimeEntry.objects.get()
    assert (entry.start, entry.minutes) == (dt.datetime(2025, 3, 18, 13, 15, tzinfo=UTC), 12)


def test_manual_entry_at_an_ambiguous_time_asks_which_one(
    practice, coordinator, patient, client_for, in_practice
):
    # given
    url = reverse("time_entry_create", args=[patient.public_id])
    fields = {
        "date": "2025-11-02",
        "start_time": "01:30",
        "end_time": "01:45",
        "activity": "care_plan",
    }
    with time_machine.travel(ny(2025, 11, 3, 9), tick=False):
        client = client_for(coordinator)
        # when
        asked = client.post(url, fields)
        first = client.post(url, {**fields, "start_occurrence": "0", "end_occurrence": "0"})
        second = client.post(url, {**fields, "start_occurrence": "1", "end_occurrence": "1"})
    # then
    body = asked.content.decode()
    assert asked.status_code == 200
    assert "01:30 happens twice on 2025-11-02 in America/New_York" in body
    assert "Which start?" in body
    assert (first.status_code, second.status_code) == (302, 302)
    with in_practice(practice):
        starts = sorted(entry.start for entry in TimeEntry.objects.all())
    assert starts == [
        dt.datetime(2025, 11, 2, 5, 30, tzinfo=UTC),
        dt.datetime(2025, 11, 2, 6, 30, tzinfo=UTC),
    ]


def test_manual_entry_overlapping_ones_own_is_a_form_error_naming_it(
    practice, coordinator, patient, client_for, in_practice
):
    # given
    with in_practice(practice):
        time_entry_log(
            practice=practice,
            actor=coordinator,
            patient=patient,
            start=ny(2025, 3, 10, 10),
            end=ny(2025, 3, 10, 10, 30),
            activity="care_plan",
        )
        before = counts()
    # when
    response = client_for(coordinator).post(
        reverse("time_entry_create", args=[patient.public_id]),
        {"date": "2025-03-10", "start_time": "10:15", "end_time": "10:45", "activity": "care_plan"},
    )
    # then
    assert response.status_code == 200
    assert "This overlaps your entry for Ruth Alvarez on Mar 10, 10:00-10:30 EDT." in (
        response.content.decode()
    )
    with in_practice(practice):
        assert counts() == before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"start_time": "10:00", "end_time": "09:00"}, "The end must be after the start"),
        ({"start_time": "10:00"}, "Give an end time or a duration."),
        ({"start_time": "10:00", "duration_minutes": "721"}, "less than or equal to 720"),
        (
            {"date": "2025-03-09", "start_time": "02:30", "duration_minutes": "5"},
            "02:30 does not exist",
        ),
        (
            {"date": "2025-03-21", "start_time": "10:00", "duration_minutes": "5"},
            "cannot end in the future",
        ),
    ],
)
def test_bad_manual_entries_are_form_errors_and_save_nothing(
    *, practice, coordinator, patient, client_for, in_practice, fields, message
):
    # given
    with in_practice(practice):
        before = counts()
    # when
    response = client_for(coordinator).post(
        reverse("time_entry_create", args=[patient.public_id]),
        {"date": "2025-03-10", "activity": "care_plan", **fields},
    )
    # then
    assert response.status_code == 200
    assert message in response.content.decode()
    with in_practice(practice):
        assert counts() == before


@pytest.mark.parametrize("role", [Role.PRACTICE_MANAGER, Role.PRACTICE_ADMIN])
def test_managers_may_not_log_time_or_start_timers(
    *, practice, members, patient, client_for, in_practice, role
):
    # given
    client = client_for(members[role])
    # when
    timer = _start_timer(client, patient)
    manual = client.post(
        reverse("time_entry_create", args=[patient.public_id]),
        {
            "date": "2025-03-10",
            "start_time": "10:00",
            "duration_minutes": "5",
            "activity": "care_plan",
        },
    )
    # then
    assert (timer.status_code, manual.status_code) == (403, 403)
    with in_practice(practice):
        assert (Timer.objects.count(), TimeEntry.objects.count()) == (0, 0)


def test_correction_page_saves_with_history(
    practice, coordinator, patient, client_for, in_practice
):
    # given
    with in_practice(practice):
        (entry,) = time_entry_log(
            practice=practice,
            actor=coordinator,
            patient=patient,
            start=ny(2025, 3, 10, 10),
            end=ny(2025, 3, 10, 10, 20),
            activity="care_plan",
        )
    client = client_for(coordinator)
    url = reverse("time_entry_edit", args=[entry.public_id])
    # when
    form = client.get(url)
    saved = client.post(
        url,
        {
            "date": "2025-03-10",
            "start_time": "10:00",
            "end_time": "10:40",
            "activity": "care_plan",
            "note": "",
            "part_of": "",
            "reason": "Forgot the follow-up call",
        },
        follow=True,
    )
    # then
    assert 'value="10:20"' in form.content.decode()
    assert "Forgot the follow-up call" not in form.content.decode()
    assert "The entry was corrected; its history keeps the original." in saved.content.decode()
    with in_practice(practice):
        assert TimeEntry.objects.get().minutes == 40
        assert TimeEntryRevision.objects.get().reason == "Forgot the follow-up call"
    history = client.get(url).content.decode()
    assert "Forgot the follow-up call" in history
    # in the practice's time and words, not stored UTC instants and codes
    assert "Mar 10, 10:00\N{EN DASH}10:20 EDT · 20 min · Care-plan work" in history
    assert "Mar 10, 10:00\N{EN DASH}10:40 EDT · 40 min · Care-plan work" in history


def test_void_from_the_patient_page(practice, coordinator, patient, client_for, in_practice):
    # given
    with in_practice(practice):
        (entry,) = time_entry_log(
            practice=practice,
            actor=coordinator,
            patient=patient,
            start=ny(2025, 3, 10, 10),
            end=ny(2025, 3, 10, 10, 20),
            activity="care_plan",
        )
    # when
    response = client_for(coordinator).post(
        reverse("time_entry_void", args=[entry.public_id]), {"reason": "Wrong patient"}, follow=True
    )
    # then
    body = response.content.decode()
    assert "The entry of 20 min was voided." in body
    assert "Wrong patient" in body
    with in_practice(practice):
        assert TimeEntry.objects.get().void_reason == "Wrong patient"


def test_manager_reopens_a_closed_month_from_the_settings_page(
    practice, manager, coordinator, client_for, in_practice
):
    # given
    with in_practice(practice), time_machine.travel(ny(2025, 4, 5, 9), tick=False):
        month_lock(practice=practice, actor=None, service_month=MARCH)
    manager_client = client_for(manager)
    # when
    page = manager_client.get(reverse("time_settings"))
    refused = client_for(coordinator).post(
        reverse("time_month_reopen", args=["2025-03"]), {"reason": "Late note"}
    )
    reopened = manager_client.post(
        reverse("time_month_reopen", args=["2025-03"]), {"reason": "Late note"}, follow=True
    )
    # then
    assert "March 2025" in page.content.decode()
    assert refused.status_code == 403
    assert "March 2025 is open for time entries again." in reopened.content.decode()
    with in_practice(practice):
        assert MonthLock.objects.get().reopen_reason == "Late note"
        assert selectors.service_month_is_locked(practice=practice, service_month=MARCH) is False


def test_manager_changes_the_timer_confirmation_limit(practice, manager, client_for, in_practice):
    # when
    response = client_for(manager).post(
        reverse("time_settings"), {"timer_confirm_after_minutes": "45"}, follow=True
    )
    # then
    assert "Time-tracking settings saved." in response.content.decode()
    with in_practice(practice):
        assert (
            selectors.time_tracking_settings_get(practice=practice).timer_confirm_after_minutes
            == 45
        )


def test_coordinators_have_no_time_settings_page(coordinator, client_for):
    # when
    response = client_for(coordinator).get(reverse("time_settings"))
    # then
    assert response.status_code == 403


def test_stopping_a_timer_another_tab_stopped_says_so(
    practice, coordinator, patient, client_for, in_practice
):
    # given the timer was stopped in another tab
    with in_practice(practice):
        timer = timer_start(practice=practice, actor=coordinator, patient=patient)
        timer_discard(practice=practice, actor=coordinator, timer=timer)
        before = counts()
    # when this tab's stale form is submitted
    response = client_for(coordinator).post(
        reverse("time_timer_stop", args=[timer.public_id]), {"activity": "care_plan"}, **HTMX
    )
    # then
    body = response.content.decode()
    assert "This timer was stopped already (in another tab?)." in body
    assert "No timer running" in body
    with in_practice(practice):
        assert counts() == before
