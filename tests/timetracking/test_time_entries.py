"""Logging, correcting and voiding time entries (timetracking.services)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import DatabaseError, IntegrityError
from psycopg2.extras import DateTimeTZRange

from ccm.audit import AuditEvent
from ccm.errors import InvalidState, NotFound, PermissionDenied
from ccm.models import AuditLog
from ccm.permissions import Role
from tests.factories import MembershipFactory, PatientFactory
from tests.timetracking.helpers import APRIL, MARCH, UTC, counts, ny
from timetracking.models import (
    EntrySource,
    RevisionKind,
    StaffRole,
    TimeEntry,
    TimeEntryRevision,
)
from timetracking.services.entries import (
    OverlapConflict,
    time_entry_edit,
    time_entry_log,
    time_entry_void,
)


@pytest.fixture(autouse=True)
def _april_10_noon():
    with time_machine.travel(ny(2025, 4, 10, 12), tick=False):
        yield


def _log(practice, actor, patient, start, end, **fields):
    return time_entry_log(
        practice=practice,
        actor=actor,
        patient=patient,
        start=start,
        end=end,
        activity=fields.pop("activity", "patient_communication"),
        **fields,
    )


def test_entry_is_stored_in_utc_with_its_local_service_month_and_role(
    practice, coordinator, patient, in_practice
):
    # when
    with in_practice(practice):
        (entry,) = _log(
            practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 25)
        )
        stored = TimeEntry.objects.get(pk=entry.pk)
    # then
    assert stored.period == DateTimeTZRange(
        dt.datetime(2025, 3, 10, 14, 0, tzinfo=UTC),
        dt.datetime(2025, 3, 10, 14, 25, tzinfo=UTC),
        "[)",
    )
    assert (stored.service_month, stored.minutes, stored.staff_role, stored.source) == (
        MARCH,
        25,
        StaffRole.CLINICAL_STAFF,
        EntrySource.MANUAL,
    )


def test_logging_writes_an_audit_row_naming_the_patient(
    practice, coordinator, patient, in_practice
):
    # when
    with in_practice(practice):
        (entry,) = _log(
            practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 20)
        )
        audit = AuditLog.objects.get(event=AuditEvent.TIME_ENTRY_CREATED)
    # then
    assert (audit.actor_id, audit.patient_public_id, audit.object_public_id) == (
        coordinator.pk,
        patient.public_id,
        entry.public_id,
    )
    assert audit.changes == {
        "start": "2025-03-10T14:00:00+00:00",
        "end": "2025-03-10T14:20:00+00:00",
        "minutes": 20,
        "service_month": "2025-03-01",
        "activity": "patient_communication",
        "note": "",
        "part_of": "",
        "source": "manual",
        "staff_role": "clinical_staff",
    }


def test_entry_across_local_midnight_into_april_is_stored_as_two_entries(
    practice, coordinator, patient, in_practice
):
    # when
    with in_practice(practice):
        march, april = _log(
            practice, coordinator, patient, ny(2025, 3, 31, 23, 50), ny(2025, 4, 1, 0, 20)
        )
    # then
    midnight = ny(2025, 4, 1, 0).astimezone(UTC)
    assert (march.service_month, march.start.astimezone(UTC), march.end, march.minutes) == (
        MARCH,
        ny(2025, 3, 31, 23, 50).astimezone(UTC),
        midnight,
        10,
    )
    assert (april.service_month, april.start, april.minutes) == (APRIL, midnight, 20)


def test_evening_entry_in_los_angeles_belongs_to_march(
    other_practice, other_members, other_patient, in_practice
):
    # given 2025-03-31 20:00-20:30 PDT (03:00-03:30 UTC on April 1)
    coordinator = other_members[Role.CARE_COORDINATOR]
    start = dt.datetime(2025, 4, 1, 3, 0, tzinfo=UTC)
    # when
    with in_practice(other_practice):
        (entry,) = _log(
            other_practice, coordinator, other_patient, start, start + dt.timedelta(minutes=30)
        )
    # then
    assert entry.service_month == MARCH


def test_fall_back_half_past_one_twice_is_two_distinct_fifteen_minute_entries(
    practice, coordinator, patient, in_practice
):
    # given 01:30-01:45 EDT, then 01:30-01:45 EST on 2025-11-02
    with time_machine.travel(ny(2025, 11, 3, 9), tick=False), in_practice(practice):
        # when
        (first,) = _log(
            practice, coordinator, patient, ny(2025, 11, 2, 1, 30), ny(2025, 11, 2, 1, 45)
        )
        (second,) = _log(
            practice,
            coordinator,
            patient,
            ny(2025, 11, 2, 1, 30, fold=1),
            ny(2025, 11, 2, 1, 45, fold=1),
        )
    # then
    assert (first.start, second.start) == (
        dt.datetime(2025, 11, 2, 5, 30, tzinfo=UTC),
        dt.datetime(2025, 11, 2, 6, 30, tzinfo=UTC),
    )
    assert (first.minutes, second.minutes) == (15, 15)


def test_entry_across_spring_forward_counts_elapsed_minutes(
    practice, coordinator, patient, in_practice
):
    # given 01:50 EST to 03:10 EDT on 2025-03-09
    with in_practice(practice):
        # when
        (entry,) = _log(
            practice, coordinator, patient, ny(2025, 3, 9, 1, 50), ny(2025, 3, 9, 3, 10)
        )
    # then
    assert entry.minutes == 20


def test_overlap_with_ones_own_entry_is_a_conflict_naming_it_and_saves_nothing(
    practice, coordinator, patient, in_practice
):
    # given
    with in_practice(practice):
        (existing,) = _log(
            practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 30)
        )
        before = counts()
        # when
        with pytest.raises(OverlapConflict) as refused:
            _log(practice, coordinator, patient, ny(2025, 3, 10, 10, 20), ny(2025, 3, 10, 10, 40))
        # then
        assert counts() == before
    assert refused.value.entry == existing
    assert refused.value.message == (
        "This overlaps your entry for Ruth Alvarez on Mar 10, 10:00-10:30 EDT."
    )
    assert refused.value.field == "start"


def test_overlap_with_an_entry_of_the_next_month_is_found_after_a_time_zone_change(
    practice, coordinator, patient, in_practice
):
    # given an entry just after midnight of April 1 in New York (21:10 on March 31 in Los
    # Angeles), and the practice moved to Los Angeles since
    with in_practice(practice):
        (april,) = _log(
            practice, coordinator, patient, ny(2025, 4, 1, 0, 10), ny(2025, 4, 1, 0, 30)
        )
        practice.timezone = "America/Los_Angeles"
        practice.save(update_fields=["timezone"])
        before = counts()
        # when the same minutes are logged again, now in March
        with pytest.raises(OverlapConflict) as refused:
            _log(practice, coordinator, patient, ny(2025, 4, 1, 0, 15), ny(2025, 4, 1, 0, 25))
        # then
        assert counts() == before
    assert (april.service_month, refused.value.entry) == (APRIL, april)


def test_adjacent_entries_do_not_overlap(practice, coordinator, patient, in_practice):
    # given
    with in_practice(practice):
        _log(practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 30))
        # when
        (second,) = _log(
            practice, coordinator, patient, ny(2025, 3, 10, 10, 30), ny(2025, 3, 10, 10, 45)
        )
    # then
    assert second.minutes == 15


def test_two_people_may_log_the_same_interval(
    practice, coordinator, physician, patient, in_practice
):
    # given
    with in_practice(practice):
        _log(practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 30))
        # when
        _log(practice, physician, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 30))
        # then
        assert TimeEntry.objects.count() == 2


def test_database_refuses_an_overlap_that_bypasses_the_services(
    practice, coordinator, patient, in_practice
):
    # given
    with in_practice(practice):
        (entry,) = _log(
            practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 30)
        )
        clone = TimeEntry(
            practice=practice,
            patient=patient,
            member=coordinator,
            staff_role=entry.staff_role,
            period=DateTimeTZRange(ny(2025, 3, 10, 10, 29), ny(2025, 3, 10, 10, 50), "[)"),
            service_month=MARCH,
            activity="care_plan",
            source=EntrySource.MANUAL,
        )
        # when / then
        with pytest.raises(IntegrityError, match="time_entry_no_overlap_per_member"):
            clone.save()


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (ny(2025, 3, 10, 10), ny(2025, 3, 10, 9, 50), "The end must be after the start."),
        (ny(2025, 3, 10, 10), ny(2025, 3, 10, 10), "The end must be after the start."),
        (ny(2025, 4, 10, 11, 50), ny(2025, 4, 10, 12, 10), "An entry cannot end in the future."),
        (ny(2025, 3, 10, 6), ny(2025, 3, 10, 18, 1), "An entry cannot be longer than 12 hours."),
    ],
)
def test_bad_intervals_are_refused_and_nothing_is_saved(
    *, practice, coordinator, patient, in_practice, start, end, message
):
    # given
    with in_practice(practice):
        before = counts()
        # when
        with pytest.raises(InvalidState) as refused:
            _log(practice, coordinator, patient, start, end)
        # then
        assert counts() == before
    assert (refused.value.message, refused.value.field) == (message, "end")


def test_patient_of_another_practice_is_not_found(
    practice, coordinator, other_patient, in_practice
):
    # given
    with in_practice(practice):
        before = counts()
        # when / then
        with pytest.raises(NotFound):
            _log(practice, coordinator, other_patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 20))
        assert counts() == before


@pytest.mark.parametrize("role", [Role.PRACTICE_MANAGER, Role.PRACTICE_ADMIN])
def test_managers_do_not_log_time(practice, members, patient, in_practice, role):
    # given
    with in_practice(practice):
        before = counts()
        # when / then
        with pytest.raises(PermissionDenied):
            _log(practice, members[role], patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 20))
        assert counts() == before


@pytest.mark.parametrize(
    ("role", "credential", "staff_role"),
    [
        (Role.CARE_COORDINATOR, "RN", StaffRole.CLINICAL_STAFF),
        (Role.CARE_COORDINATOR, "lpn", StaffRole.CLINICAL_STAFF),
        (Role.CARE_COORDINATOR, "M.A.", StaffRole.CLINICAL_STAFF),
        (Role.CARE_COORDINATOR, "", StaffRole.NON_CLINICAL),
        (Role.CARE_COORDINATOR, "Scheduler", StaffRole.NON_CLINICAL),
        (Role.PHYSICIAN, "MD", StaffRole.PRACTITIONER),
        (Role.PHYSICIAN, "NP", StaffRole.PRACTITIONER),
    ],
)
def test_role_at_the_time_is_derived_from_the_membership(
    *, practice, patient, in_practice, role, credential, staff_role
):
    # given
    with in_practice(practice):
        member = MembershipFactory.create(practice=practice, role=role, credential=credential)
        # when
        (entry,) = _log(practice, member, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 20))
    # then
    assert entry.staff_role == staff_role


def test_role_stays_what_it_was_when_the_member_changes_credential(
    practice, coordinator, patient, in_practice
):
    # given
    with in_practice(practice):
        (entry,) = _log(
            practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 20)
        )
        coordinator.credential = ""
        coordinator.save(update_fields=["credential"])
        # when
        entry.refresh_from_db()
    # then
    assert entry.staff_role == StaffRole.CLINICAL_STAFF


def test_correction_keeps_before_after_who_and_why(practice, coordinator, patient, in_practice):
    # given
    with in_practice(practice):
        (entry,) = _log(
            practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 20)
        )
        # when
        time_entry_edit(
            practice=practice,
            actor=coordinator,
            entry=entry,
            reason="Call ended later than logged",
            end=ny(2025, 3, 10, 10, 35),
            note="Reviewed new meds",
        )
        stored = TimeEntry.objects.get(pk=entry.pk)
        revision = TimeEntryRevision.objects.get(entry=entry)
        audit = AuditLog.objects.get(event=AuditEvent.TIME_ENTRY_EDITED)
    # then
    assert (stored.minutes, stored.note) == (35, "Reviewed new meds")
    assert (revision.kind, revision.actor_id, revision.reason) == (
        RevisionKind.EDITED,
        coordinator.pk,
        "Call ended later than logged",
    )
    assert (revision.before["end"], revision.before["minutes"], revision.before["note"]) == (
        "2025-03-10T14:20:00+00:00",
        20,
        "",
    )
    assert (revision.after["end"], revision.after["minutes"], revision.after["note"]) == (
        "2025-03-10T14:35:00+00:00",
        35,
        "Reviewed new meds",
    )
    assert audit.changes == {
        "end": ["2025-03-10T14:20:00+00:00", "2025-03-10T14:35:00+00:00"],
        "minutes": [20, 35],
        "note": ["", "Reviewed new meds"],
        "reason": "Call ended later than logged",
    }


def test_correction_into_another_open_month_moves_the_service_month(
    practice, coordinator, patient, in_practice
):
    # given
    with in_practice(practice):
        (entry,) = _log(
            practice, coordinator, patient, ny(2025, 3, 31, 10), ny(2025, 3, 31, 10, 20)
        )
        # when
        time_entry_edit(
            practice=practice,
            actor=coordinator,
            entry=entry,
            reason="Wrong day",
            start=ny(2025, 4, 1, 10),
            end=ny(2025, 4, 1, 10, 20),
        )
        entry.refresh_from_db()
    # then
    assert entry.service_month == APRIL


def test_correction_that_would_cross_a_month_boundary_is_refused(
    practice, coordinator, patient, in_practice
):
    # given
    with in_practice(practice):
        (entry,) = _log(
            practice, coordinator, patient, ny(2025, 3, 31, 23), ny(2025, 3, 31, 23, 30)
        )
        before = counts()
        # when
        with pytest.raises(InvalidState) as refused:
            time_entry_edit(
                practice=practice,
                actor=coordinator,
                entry=entry,
                reason="Longer",
                end=ny(2025, 4, 1, 0, 10),
            )
        # then
        assert counts() == before
    assert refused.value.message == (
        "An entry cannot run into April: end it at midnight and log the rest as a new entry."
    )


@pytest.mark.parametrize(
    ("reason", "changes", "message"),
    [
        ("", {"note": "x"}, "Say why the entry is corrected."),
        ("Nothing", {}, "Nothing was changed."),
    ],
)
def test_correction_without_reason_or_change_is_refused(
    *, practice, coordinator, patient, in_practice, reason, changes, message
):
    # given
    with in_practice(practice):
        (entry,) = _log(
            practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 20)
        )
        before = counts()
        # when
        with pytest.raises(InvalidState, match=message):
            time_entry_edit(
                practice=practice, actor=coordinator, entry=entry, reason=reason, **changes
            )
        # then
        assert counts() == before


def test_only_the_person_who_logged_an_entry_corrects_it(
    practice, coordinator, physician, patient, in_practice
):
    # given
    with in_practice(practice):
        (entry,) = _log(
            practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 20)
        )
        before = counts()
        # when / then
        with pytest.raises(PermissionDenied):
            time_entry_edit(
                practice=practice, actor=physician, entry=entry, reason="Mine now", note="x"
            )
        assert counts() == before


def test_correction_overlapping_another_own_entry_is_a_conflict(
    practice, coordinator, patient, in_practice
):
    # given
    with in_practice(practice):
        (first,) = _log(
            practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 20)
        )
        (second,) = _log(
            practice, coordinator, patient, ny(2025, 3, 10, 11), ny(2025, 3, 10, 11, 20)
        )
        before = counts()
        # when
        with pytest.raises(OverlapConflict) as refused:
            time_entry_edit(
                practice=practice,
                actor=coordinator,
                entry=second,
                reason="Earlier",
                start=ny(2025, 3, 10, 10, 10),
            )
        # then
        assert counts() == before
    assert refused.value.entry == first


def test_void_keeps_the_entry_frees_its_interval_and_records_why(
    practice, coordinator, patient, in_practice
):
    # given
    with in_practice(practice):
        (entry,) = _log(
            practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 20)
        )
        # when
        time_entry_void(practice=practice, actor=coordinator, entry=entry, reason="Logged twice")
        (again,) = _log(
            practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 20)
        )
        stored = TimeEntry.objects.get(pk=entry.pk)
        revision = TimeEntryRevision.objects.get(entry=entry)
        audit = AuditLog.objects.get(event=AuditEvent.TIME_ENTRY_VOIDED)
    # then
    assert (stored.voided_by_id, stored.void_reason) == (coordinator.pk, "Logged twice")
    assert (revision.kind, revision.reason, revision.after["voided"]) == (
        RevisionKind.VOIDED,
        "Logged twice",
        True,
    )
    assert audit.changes == {"reason": "Logged twice", "minutes": 20}
    assert again.pk != entry.pk


def test_a_manager_may_void_anothers_entry(practice, coordinator, manager, patient, in_practice):
    # given
    with in_practice(practice):
        (entry,) = _log(
            practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 20)
        )
        # when
        time_entry_void(practice=practice, actor=manager, entry=entry, reason="Duplicate")
        entry.refresh_from_db()
    # then
    assert entry.voided_by_id == manager.pk


def test_another_coordinator_may_not_void_an_entry(practice, coordinator, patient, in_practice):
    # given
    with in_practice(practice):
        colleague = MembershipFactory.create(practice=practice, role=Role.CARE_COORDINATOR)
        (entry,) = _log(
            practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 20)
        )
        before = counts()
        # when / then
        with pytest.raises(PermissionDenied):
            time_entry_void(practice=practice, actor=colleague, entry=entry, reason="No")
        assert counts() == before


def test_voiding_twice_or_without_reason_is_refused(practice, coordinator, patient, in_practice):
    # given
    with in_practice(practice):
        (entry,) = _log(
            practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 20)
        )
        with pytest.raises(InvalidState, match=r"Say why the entry is voided\."):
            time_entry_void(practice=practice, actor=coordinator, entry=entry, reason=" ")
        time_entry_void(practice=practice, actor=coordinator, entry=entry, reason="Twice")
        before = counts()
        # when / then
        with pytest.raises(InvalidState, match=r"This entry was voided already\."):
            time_entry_void(practice=practice, actor=coordinator, entry=entry, reason="Again")
        assert counts() == before


def test_entries_are_never_deleted(practice, coordinator, patient, in_practice):
    # given
    with in_practice(practice):
        (entry,) = _log(
            practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 20)
        )
        # when / then
        with pytest.raises(Exception, match="never deleted"):
            entry.delete()
        with pytest.raises(Exception, match="never deleted"):
            TimeEntry.objects.filter(pk=entry.pk).delete()
        assert TimeEntry.objects.filter(pk=entry.pk).exists()


def test_revisions_are_append_only(practice, coordinator, patient, in_practice):
    # given
    with in_practice(practice):
        (entry,) = _log(
            practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 20)
        )
        time_entry_void(practice=practice, actor=coordinator, entry=entry, reason="Twice")
        # when / then
        with pytest.raises(DatabaseError, match=r"permission denied|append-only"):
            TimeEntryRevision.objects.filter(entry=entry).update(reason="Rewritten")


def test_patient_factory_patient_without_enrollment_can_have_time(
    practice, coordinator, in_practice
):
    # given a patient still in outreach (consent calls are care-management work too)
    with in_practice(practice):
        patient = PatientFactory.create(practice=practice)
        # when
        (entry,) = _log(practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 5))
    # then
    assert entry.minutes == 5
