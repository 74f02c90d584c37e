"""Time entries: log (split at month boundaries), correct with history, void with a reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from psycopg2.extras import DateTimeTZRange

from ccm.audit import AuditEvent, audit_record
from ccm.errors import Conflict, InvalidState, NotFound, PermissionDenied
from ccm.models import Membership, Practice
from ccm.permissions import Role, can_log_time, can_manage_practice
from patients.models import Patient
from timetracking.locks import hold_open_months
from timetracking.models import (
    MAX_ENTRY_DURATION,
    Activity,
    EntrySource,
    PartOf,
    RevisionKind,
    StaffRole,
    TimeEntry,
    TimeEntryRevision,
)
from timetracking.months import next_month, previous_month, service_month_of, split_by_month
from timetracking.services.month_time import patient_month_time_refresh

# Credentials of people who work as clinical staff under general supervision (R-WHO-3): their
# time counts. A coordinator without one of these is non-clinical (R-WHO-4). A physician or
# other practitioner working in the care-coordinator role is the practice's "care manager
# who never bills CCM" of AMB-15, and is counted as clinical staff too.
CLINICAL_STAFF_CREDENTIALS = frozenset(
    {
        "RN", "LPN", "LVN", "BSN", "MSN", "MA", "CMA", "RMA", "CCMA", "PHARMD", "RPH",
        "LCSW", "MSW", "RD", "RDN", "RRT", "NP", "APRN", "PA", "PA-C", "CNS", "CNM", "MD", "DO",
    }
)  # fmt: skip


class OverlapConflict(Conflict):
    """The interval overlaps another live entry of the same person (named in the message)."""

    def __init__(self, message: str, *, entry: TimeEntry) -> None:
        super().__init__(message, field="start", code="overlap")
        self.entry = entry


def staff_role_for(membership: Membership) -> StaffRole:
    """The role a member's time is logged under (SCENARIO_FORMAT ``time_entries[].role``)."""
    if membership.role == Role.PHYSICIAN:
        return StaffRole.PRACTITIONER
    credential = membership.credential.strip().upper().replace(".", "")
    if membership.role == Role.CARE_COORDINATOR and credential in CLINICAL_STAFF_CREDENTIALS:
        return StaffRole.CLINICAL_STAFF
    return StaffRole.NON_CLINICAL


def clean_or_invalid(obj: Any) -> None:
    """``full_clean`` of the row's own fields, as InvalidState.

    Uniqueness, the one-running-timer rule and the overlap rule are the database's; the
    services query them where they can say more than the constraint (which entry): before
    the write, or, for a new entry, once the constraint refused it.
    References are the database's too (composite foreign keys within the practice): the
    services pass objects they already fetched, so one query per reference would prove nothing.
    """
    references = [field.name for field in obj._meta.fields if field.is_relation]
    try:
        obj.full_clean(exclude=references, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise InvalidState(messages[0], field=None if field == NON_FIELD_ERRORS else field) from exc


def check_same_practice(practice: Practice, *objects: Any) -> None:
    for obj in objects:
        if obj.practice_id != practice.pk:
            raise NotFound


def _check_period(start: datetime, end: datetime, *, now: datetime) -> None:
    if end <= start:
        raise InvalidState("The end must be after the start.", field="end")
    if end > now:
        raise InvalidState("An entry cannot end in the future.", field="end")
    if end - start > MAX_ENTRY_DURATION:
        raise InvalidState("An entry cannot be longer than 12 hours.", field="end")


def _describe(entry: TimeEntry, tz: Any) -> str:
    start = entry.start.astimezone(tz)
    end = entry.end.astimezone(tz)
    return (
        f"your entry for {entry.patient.full_name} on {start:%b %-d}, "
        f"{start:%H:%M}-{end:%H:%M} {end:%Z}"
    )


def _check_no_overlap(
    *, practice: Practice, member: Membership, periods: list[DateTimeTZRange], exclude: int | None
) -> None:
    for period in periods:
        month = service_month_of(period.lower, practice.tz)
        others = TimeEntry.objects.for_practice(practice).filter(
            member=member,
            voided_at__isnull=True,
            # Under row-level security PostgreSQL uses only leakproof conditions in an index
            # scan, and range overlap is not one: without the month the query would read
            # every entry the person ever logged. An overlapping entry is in the same local
            # month, or, had the practice changed time zone since, in one next to it.
            service_month__in=[previous_month(month), month, next_month(month)],
            period__overlap=period,
        )
        if exclude is not None:
            others = others.exclude(pk=exclude)
        other = others.select_related("patient").order_by("period").first()
        if other is not None:
            raise OverlapConflict(
                f"This overlaps {_describe(other, practice.tz)}.",
                entry=other,
            )


def _snapshot(entry: TimeEntry) -> dict[str, Any]:
    return {
        "start": entry.start.isoformat(),
        "end": entry.end.isoformat(),
        "minutes": entry.minutes,
        "service_month": entry.service_month.isoformat(),
        "activity": entry.activity,
        "note": entry.note,
        "part_of": entry.part_of,
    }


def _insert_entries(*, practice: Practice, entries: list[TimeEntry]) -> list[TimeEntry]:
    try:
        with transaction.atomic():
            created = TimeEntry.objects.bulk_create(entries)
    except IntegrityError as exc:
        # The exclusion constraint refused an overlap (it checks through its GiST index,
        # which a query under row-level security cannot use): name the entry it overlaps. The
        # member lock serialises the person's writes, so that entry is committed and found.
        first = entries[0]
        _check_no_overlap(
            practice=practice,
            member=first.member,
            periods=[entry.period for entry in entries],
            exclude=None,
        )
        raise Conflict("This entry collides with another one.", field="start") from exc
    return created


def log_entries(
    *,
    practice: Practice,
    actor: Membership,
    patient: Patient,
    start: datetime,
    end: datetime,
    activity: str,
    note: str,
    part_of: str,
    source: EntrySource,
    now: datetime,
    member_locked: bool = False,
) -> list[TimeEntry]:
    """Write ``actor``'s entries (one per local month), their summary and audit rows.

    ``member_locked``: the caller holds ``actor``'s lock already (the timer's stop).
    """
    _check_period(start, end, now=now)
    parts = split_by_month(start, end, practice.tz)
    hold_open_months(
        practice=practice,
        service_months=[part.service_month for part in parts],
        member=None if member_locked else actor,
    )
    periods = [DateTimeTZRange(part.start, part.end, "[)") for part in parts]
    staff_role = staff_role_for(actor)
    entries = []
    for part, period in zip(parts, periods, strict=True):
        entry = TimeEntry(
            practice=practice,
            patient=patient,
            member=actor,
            staff_role=staff_role,
            period=period,
            service_month=part.service_month,
            activity=activity,
            note=note.strip(),
            part_of=part_of,
            source=source,
            created_at=now,
            updated_at=now,
        )
        clean_or_invalid(entry)
        entries.append(entry)
    created = _insert_entries(practice=practice, entries=entries)
    patient_month_time_refresh(
        practice=practice,
        patient_id=patient.pk,
        service_months=[entry.service_month for entry in created],
    )
    for entry in created:
        audit_record(
            practice=practice,
            actor=actor,
            event=AuditEvent.TIME_ENTRY_CREATED,
            patient_public_id=patient.public_id,
            obj=entry,
            changes={**_snapshot(entry), "source": source.value, "staff_role": staff_role.value},
        )
    return created


def to_stored_instant(moment: datetime) -> datetime:
    """The instant in UTC, as stored and audited (a timer keeps its sub-second precision, so
    even a timer stopped within a second of its start logs a real, if short, interval)."""
    return moment.astimezone(UTC)


def check_logger(practice: Practice, actor: Membership) -> None:
    if actor.practice_id != practice.pk:
        raise PermissionDenied
    if not can_log_time(actor):
        raise PermissionDenied("Only care coordinators and physicians log care-management time.")


@transaction.atomic
def time_entry_log(
    *,
    practice: Practice,
    actor: Membership,
    patient: Patient,
    start: datetime,
    end: datetime,
    activity: Activity | str,
    note: str = "",
    part_of: PartOf | str = PartOf.NONE,
) -> list[TimeEntry]:
    """Log ``actor``'s work for ``patient`` from ``start`` to ``end`` (entered by hand).

    Back-dating is allowed within open months. An interval that crosses a local month
    boundary is stored as one entry per month, so it returns one or two entries.
    """
    check_logger(practice, actor)
    check_same_practice(practice, patient)
    return log_entries(
        practice=practice,
        actor=actor,
        patient=patient,
        start=to_stored_instant(start),
        end=to_stored_instant(end),
        activity=activity,
        note=note,
        part_of=part_of,
        source=EntrySource.MANUAL,
        now=timezone.now(),
    )


def _check_corrector(practice: Practice, actor: Membership, entry: TimeEntry) -> None:
    if actor.practice_id != practice.pk:
        raise PermissionDenied
    check_same_practice(practice, entry)
    if entry.member_id != actor.pk or not can_log_time(actor):
        raise PermissionDenied("Only the person who logged an entry corrects it.")
    if entry.is_voided:
        raise InvalidState("This entry was voided; it cannot change any more.")


@transaction.atomic
def time_entry_edit(
    *,
    practice: Practice,
    actor: Membership,
    entry: TimeEntry,
    reason: str,
    start: datetime | None = None,
    end: datetime | None = None,
    activity: Activity | str | None = None,
    note: str | None = None,
    part_of: PartOf | str | None = None,
) -> TimeEntry:
    """Correct one's own entry; the before, the after and the reason become a revision.

    An edited interval must stay inside one service month (the original's or another open
    one): log the rest of a longer interval as a new entry.
    """
    _check_corrector(practice, actor, entry)
    reason = reason.strip()
    if not reason:
        raise InvalidState("Say why the entry is corrected.", field="reason")
    now = timezone.now()
    new_start = to_stored_instant(start) if start is not None else entry.start
    new_end = to_stored_instant(end) if end is not None else entry.end
    _check_period(new_start, new_end, now=now)
    new_month = service_month_of(new_start, practice.tz)
    if service_month_of(new_end - timedelta(microseconds=1), practice.tz) != new_month:
        raise InvalidState(
            f"An entry cannot run into {next_month(new_month):%B}: end it at midnight and log "
            "the rest as a new entry.",
            field="end",
        )
    hold_open_months(
        practice=practice, service_months={entry.service_month, new_month}, member=actor
    )
    before = _snapshot(entry)
    old_month = entry.service_month
    period = DateTimeTZRange(new_start, new_end, "[)")
    _check_no_overlap(practice=practice, member=actor, periods=[period], exclude=entry.pk)
    entry.period = period
    entry.service_month = new_month
    entry.activity = activity if activity is not None else entry.activity
    entry.note = note.strip() if note is not None else entry.note
    entry.part_of = part_of if part_of is not None else entry.part_of
    after = _snapshot(entry)
    if after == before:
        raise InvalidState("Nothing was changed.")
    entry.updated_at = now
    clean_or_invalid(entry)
    entry.save(
        update_fields=["period", "service_month", "activity", "note", "part_of", "updated_at"]
    )
    patient_month_time_refresh(
        practice=practice, patient_id=entry.patient_id, service_months={old_month, new_month}
    )
    TimeEntryRevision.objects.create(
        practice=practice,
        entry=entry,
        kind=RevisionKind.EDITED,
        actor=actor,
        at=now,
        reason=reason,
        before=before,
        after=after,
    )
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.TIME_ENTRY_EDITED,
        patient_public_id=entry.patient.public_id,
        obj=entry,
        changes={
            **{key: [before[key], after[key]] for key in before if before[key] != after[key]},
            "reason": reason,
        },
    )
    return entry


@transaction.atomic
def time_entry_void(
    *, practice: Practice, actor: Membership, entry: TimeEntry, reason: str
) -> TimeEntry:
    """Void an entry with a reason: it stays, but no longer counts or blocks its interval.

    The person who logged it may void it, and so may a practice manager or admin (an entry
    logged twice by someone who has left).
    """
    if actor.practice_id != practice.pk:
        raise PermissionDenied
    check_same_practice(practice, entry)
    if not (entry.member_id == actor.pk and can_log_time(actor)) and not can_manage_practice(actor):
        raise PermissionDenied("Only the person who logged an entry, or a manager, voids it.")
    if entry.is_voided:
        raise InvalidState("This entry was voided already.")
    reason = reason.strip()
    if not reason:
        raise InvalidState("Say why the entry is voided.", field="reason")
    hold_open_months(practice=practice, service_months=[entry.service_month], member=entry.member)
    now = timezone.now()
    before = _snapshot(entry)
    entry.voided_at = now
    entry.voided_by = actor
    entry.void_reason = reason
    entry.updated_at = now
    entry.save(update_fields=["voided_at", "voided_by", "void_reason", "updated_at"])
    patient_month_time_refresh(
        practice=practice, patient_id=entry.patient_id, service_months=[entry.service_month]
    )
    TimeEntryRevision.objects.create(
        practice=practice,
        entry=entry,
        kind=RevisionKind.VOIDED,
        actor=actor,
        at=now,
        reason=reason,
        before=before,
        after={**before, "voided": True},
    )
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.TIME_ENTRY_VOIDED,
        patient_public_id=entry.patient.public_id,
        obj=entry,
        changes={"reason": reason, "minutes": entry.minutes},
    )
    return entry
