"""Closed months refuse time-entry changes until a manager reopens them."""

from __future__ import annotations

import pytest
import time_machine

from ccm.audit import AuditEvent
from ccm.errors import InvalidState, PermissionDenied
from ccm.models import AuditLog
from ccm.permissions import Role
from tests.timetracking.helpers import APRIL, MARCH, counts, ny
from timetracking import selectors
from timetracking.models import MonthLock
from timetracking.services.entries import time_entry_edit, time_entry_log, time_entry_void
from timetracking.services.months import month_lock, month_reopen


@pytest.fixture(autouse=True)
def _april_10_noon():
    with time_machine.travel(ny(2025, 4, 10, 12), tick=False):
        yield


def _log(practice, actor, patient, start, end):
    return time_entry_log(
        practice=practice, actor=actor, patient=patient, start=start, end=end, activity="care_plan"
    )


def _lock_march(practice, actor=None):
    return month_lock(practice=practice, actor=actor, service_month=MARCH)


def test_locked_month_is_reported_locked(practice, manager, in_practice):
    # given
    with in_practice(practice):
        # when
        _lock_march(practice, manager)
        # then
        assert selectors.service_month_is_locked(practice=practice, service_month=MARCH) is True
        assert selectors.service_month_is_locked(practice=practice, service_month=APRIL) is False
        audit = AuditLog.objects.get(event=AuditEvent.MONTH_LOCKED)
    assert (audit.actor_id, audit.changes) == (manager.pk, {"service_month": "2025-03-01"})


def test_locking_twice_changes_nothing(practice, in_practice):
    # given the month close ran once (as a task: no actor)
    with in_practice(practice):
        first = _lock_march(practice)
        before = (MonthLock.objects.count(), AuditLog.objects.count())
        # when
        second = _lock_march(practice)
        # then
        assert second == first
        assert (MonthLock.objects.count(), AuditLog.objects.count()) == before


def test_a_month_that_has_not_ended_cannot_be_locked(practice, manager, in_practice):
    # given
    with in_practice(practice):
        # when / then
        with pytest.raises(InvalidState, match="April 2025 has not ended yet in America/New_York"):
            month_lock(practice=practice, actor=manager, service_month=APRIL)
        assert MonthLock.objects.count() == 0


@pytest.mark.parametrize("role", [Role.CARE_COORDINATOR, Role.PHYSICIAN])
def test_only_managers_lock_months(practice, members, in_practice, role):
    # given
    with in_practice(practice):
        # when / then
        with pytest.raises(PermissionDenied):
            _lock_march(practice, members[role])
        assert MonthLock.objects.count() == 0


def test_closed_month_refuses_new_entries(practice, coordinator, patient, in_practice):
    # given
    with in_practice(practice):
        _lock_march(practice)
        before = counts()
        # when
        with pytest.raises(InvalidState) as refused:
            _log(practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 20))
        # then
        assert counts() == before
    assert refused.value.message == (
        "March 2025 is closed for billing: a manager must reopen it before its time entries change."
    )


def test_closed_month_refuses_the_march_part_of_an_entry_across_midnight(
    practice, coordinator, patient, in_practice
):
    # given
    with in_practice(practice):
        _lock_march(practice)
        before = counts()
        # when / then
        with pytest.raises(InvalidState, match="March 2025 is closed"):
            _log(practice, coordinator, patient, ny(2025, 3, 31, 23, 50), ny(2025, 4, 1, 0, 10))
        assert counts() == before


def test_closed_month_refuses_corrections_and_voids(practice, coordinator, patient, in_practice):
    # given
    with in_practice(practice):
        (entry,) = _log(
            practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 20)
        )
        _lock_march(practice)
        before = counts()
        # when / then
        with pytest.raises(InvalidState, match="March 2025 is closed"):
            time_entry_edit(
                practice=practice, actor=coordinator, entry=entry, reason="Late", note="x"
            )
        with pytest.raises(InvalidState, match="March 2025 is closed"):
            time_entry_void(practice=practice, actor=coordinator, entry=entry, reason="x")
        assert counts() == before


def test_an_open_entry_cannot_be_moved_into_a_closed_month(
    practice, coordinator, patient, in_practice
):
    # given
    with in_practice(practice):
        (entry,) = _log(practice, coordinator, patient, ny(2025, 4, 1, 10), ny(2025, 4, 1, 10, 20))
        _lock_march(practice)
        # when / then
        with pytest.raises(InvalidState, match="March 2025 is closed"):
            time_entry_edit(
                practice=practice,
                actor=coordinator,
                entry=entry,
                reason="Wrong day",
                start=ny(2025, 3, 31, 10),
                end=ny(2025, 3, 31, 10, 20),
            )


def test_manager_reopens_a_month_with_a_reason_and_entries_are_accepted_again(
    practice, manager, coordinator, patient, in_practice
):
    # given
    with in_practice(practice):
        lock = _lock_march(practice)
        # when
        month_reopen(
            practice=practice, actor=manager, service_month=MARCH, reason="Late fax from cardiology"
        )
        (entry,) = _log(
            practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 20)
        )
        lock.refresh_from_db()
        audit = AuditLog.objects.get(event=AuditEvent.MONTH_REOPENED)
        # then
        assert selectors.service_month_is_locked(practice=practice, service_month=MARCH) is False
    assert (lock.reopened_by_id, lock.reopen_reason) == (manager.pk, "Late fax from cardiology")
    assert audit.changes == {"service_month": "2025-03-01", "reason": "Late fax from cardiology"}
    assert entry.minutes == 20


def test_a_reopened_month_can_be_locked_again_keeping_its_history(practice, manager, in_practice):
    # given
    with in_practice(practice):
        _lock_march(practice)
        month_reopen(practice=practice, actor=manager, service_month=MARCH, reason="Fix")
        # when
        _lock_march(practice)
        # then
        assert MonthLock.objects.filter(service_month=MARCH).count() == 2
        assert selectors.service_month_is_locked(practice=practice, service_month=MARCH) is True


@pytest.mark.parametrize("role", [Role.CARE_COORDINATOR, Role.PHYSICIAN])
def test_only_managers_reopen(practice, members, in_practice, role):
    # given
    with in_practice(practice):
        _lock_march(practice)
        before = counts()
        # when / then
        with pytest.raises(PermissionDenied):
            month_reopen(
                practice=practice, actor=members[role], service_month=MARCH, reason="Please"
            )
        assert counts() == before
        assert selectors.service_month_is_locked(practice=practice, service_month=MARCH) is True


def test_reopening_needs_a_closed_month_and_a_reason(practice, manager, in_practice):
    # given
    with in_practice(practice):
        # when / then
        with pytest.raises(InvalidState, match=r"March 2025 is not closed\."):
            month_reopen(practice=practice, actor=manager, service_month=MARCH, reason="x")
        _lock_march(practice)
        with pytest.raises(InvalidState, match=r"Say why the month is reopened\."):
            month_reopen(practice=practice, actor=manager, service_month=MARCH, reason="")
        assert selectors.service_month_is_locked(practice=practice, service_month=MARCH) is True
