"""The server-side timer (timetracking.services.timer_*)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError

from ccm.audit import AuditEvent
from ccm.errors import Conflict, NotFound, PermissionDenied
from ccm.models import AuditLog
from tests.factories import PatientFactory
from tests.timetracking.helpers import MARCH, UTC, counts, ny
from timetracking import selectors
from timetracking.models import EntrySource, TimeEntry, Timer, TimerOutcome
from timetracking.services.entries import OverlapConflict, time_entry_log
from timetracking.services.settings import time_tracking_settings_update
from timetracking.services.timer import (
    TimerConfirmationRequired,
    timer_discard,
    timer_start,
    timer_stop,
)


def _start(practice, actor, patient, at):
    with time_machine.travel(at, tick=False):
        return timer_start(practice=practice, actor=actor, patient=patient)


def _stop(practice, actor, timer, at, **fields):
    with time_machine.travel(at, tick=False):
        return timer_stop(
            practice=practice,
            actor=actor,
            timer=timer,
            activity=fields.pop("activity", "care_plan"),
            **fields,
        )


def test_stopping_the_timer_logs_an_entry_from_its_start(
    practice, coordinator, patient, in_practice
):
    # given
    with in_practice(practice):
        timer = _start(practice, coordinator, patient, ny(2025, 3, 10, 10, 0))
        # when
        (entry,) = _stop(
            practice, coordinator, timer, ny(2025, 3, 10, 10, 23, second=40), note="Plan updated"
        )
        stored = Timer.objects.get(pk=timer.pk)
        events = list(AuditLog.objects.order_by("id").values_list("event", flat=True))
    # then
    assert (entry.start, entry.end, entry.minutes, entry.source, entry.note) == (
        dt.datetime(2025, 3, 10, 14, 0, tzinfo=UTC),
        dt.datetime(2025, 3, 10, 14, 23, 40, tzinfo=UTC),
        23,
        EntrySource.TIMER,
        "Plan updated",
    )
    assert (stored.outcome, stored.entry_id) == (TimerOutcome.LOGGED, entry.pk)
    assert events[-3:] == [
        AuditEvent.TIMER_STARTED,
        AuditEvent.TIME_ENTRY_CREATED,
        AuditEvent.TIMER_STOPPED,
    ]


def test_one_running_timer_per_person(practice, coordinator, patient, in_practice):
    # given
    with in_practice(practice):
        second_patient = PatientFactory.create(practice=practice)
        _start(practice, coordinator, patient, ny(2025, 3, 10, 10))
        before = (Timer.objects.count(), AuditLog.objects.count())
        # when
        with pytest.raises(Conflict) as refused:
            _start(practice, coordinator, second_patient, ny(2025, 3, 10, 10, 5))
        # then
        assert (Timer.objects.count(), AuditLog.objects.count()) == before
    assert refused.value.message == "Your timer for Ruth Alvarez is still running: stop it first."


def test_database_allows_one_running_timer_per_person(practice, coordinator, patient, in_practice):
    # given
    with in_practice(practice):
        _start(practice, coordinator, patient, ny(2025, 3, 10, 10))
        # when / then
        with pytest.raises(IntegrityError, match="timer_one_running_per_member"):
            Timer.objects.create(
                practice=practice,
                member=coordinator,
                patient=patient,
                started_at=ny(2025, 3, 10, 11),
            )


def test_the_running_timer_is_the_same_for_every_request(
    practice, coordinator, patient, in_practice
):
    # given
    with in_practice(practice):
        timer = _start(practice, coordinator, patient, ny(2025, 3, 10, 10))
        # when
        seen = [selectors.timer_running(practice=practice, member=coordinator) for _ in range(2)]
    # then
    assert [t.public_id for t in seen] == [timer.public_id, timer.public_id]
    assert [t.started_at for t in seen] == [timer.started_at, timer.started_at]


def test_a_timer_past_the_limit_asks_to_confirm_and_logs_nothing(
    practice, coordinator, patient, in_practice
):
    # given the default limit of 60 minutes
    with in_practice(practice):
        timer = _start(practice, coordinator, patient, ny(2025, 3, 10, 9, 0))
        before = counts()
        # when
        with pytest.raises(TimerConfirmationRequired) as asked:
            _stop(practice, coordinator, timer, ny(2025, 3, 10, 12, 30))
        # then
        assert counts() == before
        assert Timer.objects.get(pk=timer.pk).is_running
    assert asked.value.message == (
        "This timer has run for 3 h 30 min, longer than 60 minutes: confirm the end time or "
        "correct it."
    )


def test_a_long_timer_is_logged_when_confirmed(practice, coordinator, patient, in_practice):
    # given
    with in_practice(practice):
        timer = _start(practice, coordinator, patient, ny(2025, 3, 10, 9, 0))
        # when
        (entry,) = _stop(practice, coordinator, timer, ny(2025, 3, 10, 10, 30), confirmed=True)
    # then
    assert entry.minutes == 90


def test_a_timer_left_running_is_stopped_at_the_corrected_end(
    practice, coordinator, patient, in_practice
):
    # given left running overnight
    with in_practice(practice):
        timer = _start(practice, coordinator, patient, ny(2025, 3, 10, 16, 0))
        # when
        (entry,) = _stop(
            practice,
            coordinator,
            timer,
            ny(2025, 3, 11, 8, 0),
            end=ny(2025, 3, 10, 16, 25),
            confirmed=True,
        )
        audit = AuditLog.objects.get(event=AuditEvent.TIMER_STOPPED)
    # then
    assert entry.minutes == 25
    assert (audit.changes["corrected"], audit.changes["confirmed"]) == (True, True)


def test_the_limit_is_a_practice_setting(practice, coordinator, manager, patient, in_practice):
    # given
    with in_practice(practice):
        time_tracking_settings_update(
            practice=practice, actor=manager, timer_confirm_after_minutes=15
        )
        timer = _start(practice, coordinator, patient, ny(2025, 3, 10, 9, 0))
        # when / then
        with pytest.raises(TimerConfirmationRequired):
            _stop(practice, coordinator, timer, ny(2025, 3, 10, 9, 20))
        assert AuditLog.objects.get(event=AuditEvent.TIME_SETTINGS_UPDATED).changes == {
            "timer_confirm_after_minutes": [None, 15]
        }


def test_only_managers_change_the_limit(practice, coordinator, in_practice):
    # given
    with in_practice(practice):
        before = counts()
        # when / then
        with pytest.raises(PermissionDenied):
            time_tracking_settings_update(
                practice=practice, actor=coordinator, timer_confirm_after_minutes=15
            )
        assert counts() == before
        assert (
            selectors.time_tracking_settings_get(practice=practice).timer_confirm_after_minutes
            == 60
        )


def test_a_stopped_timer_cannot_be_stopped_again(practice, coordinator, patient, in_practice):
    # given
    with in_practice(practice):
        timer = _start(practice, coordinator, patient, ny(2025, 3, 10, 10))
        stale = Timer.objects.get(pk=timer.pk)
        _stop(practice, coordinator, timer, ny(2025, 3, 10, 10, 20))
        before = counts()
        # when (a second tab still shows the timer)
        with pytest.raises(Conflict, match="stopped already"):
            _stop(practice, coordinator, stale, ny(2025, 3, 10, 10, 21))
        # then
        assert counts() == before


def test_someone_elses_timer_is_not_found(practice, coordinator, physician, patient, in_practice):
    # given
    with in_practice(practice):
        timer = _start(practice, coordinator, patient, ny(2025, 3, 10, 10))
        # when / then
        with pytest.raises(NotFound):
            _stop(practice, physician, timer, ny(2025, 3, 10, 10, 20))
        assert Timer.objects.get(pk=timer.pk).is_running


def test_stopping_over_ones_own_manual_entry_is_a_conflict(
    practice, coordinator, patient, in_practice
):
    # given a manual entry logged while the timer ran
    with in_practice(practice):
        timer = _start(practice, coordinator, patient, ny(2025, 3, 10, 10))
        with time_machine.travel(ny(2025, 3, 10, 10, 30), tick=False):
            (manual,) = time_entry_log(
                practice=practice,
                actor=coordinator,
                patient=patient,
                start=ny(2025, 3, 10, 10, 5),
                end=ny(2025, 3, 10, 10, 15),
                activity="record_review",
            )
        # when
        with pytest.raises(OverlapConflict) as refused:
            _stop(practice, coordinator, timer, ny(2025, 3, 10, 10, 40))
        # then
        assert Timer.objects.get(pk=timer.pk).is_running
        assert TimeEntry.objects.count() == 1
    assert refused.value.entry == manual


def test_discarding_logs_nothing_and_keeps_the_timer_row(
    practice, coordinator, patient, in_practice
):
    # given
    with in_practice(practice):
        timer = _start(practice, coordinator, patient, ny(2025, 3, 10, 10))
        # when
        with time_machine.travel(ny(2025, 3, 10, 10, 1), tick=False):
            timer_discard(practice=practice, actor=coordinator, timer=timer)
        stored = Timer.objects.get(pk=timer.pk)
        # then
        assert (stored.outcome, stored.entry_id) == (TimerOutcome.DISCARDED, None)
        assert TimeEntry.objects.count() == 0
        assert AuditLog.objects.filter(event=AuditEvent.TIMER_DISCARDED).count() == 1


def test_timer_across_midnight_into_april_logs_two_entries(
    practice, coordinator, patient, in_practice
):
    # given
    with in_practice(practice):
        timer = _start(practice, coordinator, patient, ny(2025, 3, 31, 23, 45))
        # when
        march, april = _stop(practice, coordinator, timer, ny(2025, 4, 1, 0, 15))
        stored = Timer.objects.get(pk=timer.pk)
    # then
    assert [(e.service_month, e.minutes) for e in (march, april)] == [
        (MARCH, 15),
        (dt.date(2025, 4, 1), 15),
    ]
    assert stored.entry_id == march.pk


def test_managers_do_not_start_timers(practice, manager, patient, in_practice):
    # given
    with in_practice(practice):
        # when / then
        with pytest.raises(PermissionDenied):
            _start(practice, manager, patient, ny(2025, 3, 10, 10))
        assert Timer.objects.count() == 0
