"""The server-side timer: start, stop (logging an entry) and discard."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from ccm.audit import AuditEvent, audit_record
from ccm.errors import Conflict, InvalidState, NotFound, PermissionDenied
from ccm.models import Membership, Practice
from patients.models import Patient
from timetracking.locks import hold_open_months, lock_member
from timetracking.models import (
    Activity,
    EntrySource,
    PartOf,
    TimeEntry,
    Timer,
    TimerOutcome,
)
from timetracking.months import floor_minutes, service_month_of
from timetracking.selectors import time_tracking_settings_get
from timetracking.services.entries import (
    check_logger,
    check_same_practice,
    clean_or_invalid,
    log_entries,
    to_stored_instant,
)


class TimerConfirmationRequired(InvalidState):
    """A timer that ran past the practice's limit is stopped only with a confirmed end."""

    def __init__(self, message: str, *, timer: Timer, elapsed: timedelta) -> None:
        super().__init__(message, field="end", code="confirm")
        self.timer = timer
        self.elapsed = elapsed


def _running_for_update(*, practice: Practice, member: Membership) -> Timer | None:
    return (
        Timer.objects.for_practice(practice)
        .select_for_update(of=("self",))
        .select_related("patient")
        .filter(member=member, stopped_at__isnull=True)
        .first()
    )


@transaction.atomic
def timer_start(*, practice: Practice, actor: Membership, patient: Patient) -> Timer:
    """Start ``actor``'s timer for ``patient`` now (at most one running timer per person)."""
    check_logger(practice, actor)
    check_same_practice(practice, patient)
    now = to_stored_instant(timezone.now())
    hold_open_months(
        practice=practice, service_months=[service_month_of(now, practice.tz)], member=actor
    )
    timer = Timer(practice=practice, member=actor, patient=patient, started_at=now)
    clean_or_invalid(timer)
    try:
        # The database allows one running timer per person; under the member's lock, a
        # refusal means one is running (committed), and it is named.
        with transaction.atomic():
            timer.save()
    except IntegrityError as exc:
        running = _running_for_update(practice=practice, member=actor)
        if running is None:
            raise Conflict("You already have a timer running.", code="timer_running") from exc
        raise Conflict(
            f"Your timer for {running.patient.full_name} is still running: stop it first.",
            code="timer_running",
        ) from exc
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.TIMER_STARTED,
        patient_public_id=patient.public_id,
        obj=timer,
        changes={"started_at": now.isoformat()},
    )
    return timer


def _locked_timer(*, practice: Practice, actor: Membership, timer: Timer) -> Timer:
    if actor.practice_id != practice.pk:
        raise PermissionDenied
    check_same_practice(practice, timer)
    if timer.member_id != actor.pk:
        raise NotFound
    lock_member(actor)
    locked = (
        Timer.objects.for_practice(practice)
        .select_for_update(of=("self",))
        .select_related("patient")
        .get(pk=timer.pk)
    )
    if not locked.is_running:
        raise Conflict("This timer was stopped already (in another tab?).", code="timer_stopped")
    return locked


@transaction.atomic
def timer_stop(
    *,
    practice: Practice,
    actor: Membership,
    timer: Timer,
    activity: Activity | str,
    note: str = "",
    part_of: PartOf | str = PartOf.NONE,
    end: datetime | None = None,
    confirmed: bool = False,
) -> list[TimeEntry]:
    """Stop the timer and log its time (one entry, or two across a month boundary).

    ``end`` corrects the end time (a timer left running); without it the timer ends now. A
    timer that ran longer than the practice's ``timer_confirm_after_minutes`` is never
    logged silently: without ``confirmed`` it raises TimerConfirmationRequired.
    """
    check_logger(practice, actor)
    locked = _locked_timer(practice=practice, actor=actor, timer=timer)
    now = timezone.now()
    stop_at = to_stored_instant(end) if end is not None else to_stored_instant(now)
    elapsed = stop_at - locked.started_at
    limit = timedelta(
        minutes=time_tracking_settings_get(practice=practice).timer_confirm_after_minutes
    )
    if elapsed > limit and not confirmed:
        raise TimerConfirmationRequired(
            f"This timer has run for {_hours_minutes(elapsed)}, longer than "
            f"{floor_minutes(limit)} minutes: confirm the end time or correct it.",
            timer=locked,
            elapsed=elapsed,
        )
    entries = log_entries(
        practice=practice,
        actor=actor,
        patient=locked.patient,
        start=locked.started_at,
        end=stop_at,
        activity=activity,
        note=note,
        part_of=part_of,
        source=EntrySource.TIMER,
        now=now,
        member_locked=True,  # by _locked_timer
    )
    locked.stopped_at = now
    locked.outcome = TimerOutcome.LOGGED
    locked.entry = entries[0]
    locked.save(update_fields=["stopped_at", "outcome", "entry"])
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.TIMER_STOPPED,
        patient_public_id=locked.patient.public_id,
        obj=locked,
        changes={
            "started_at": locked.started_at.isoformat(),
            "end": stop_at.isoformat(),
            "corrected": end is not None,
            "confirmed": confirmed,
            "entries": [str(entry.public_id) for entry in entries],
        },
    )
    timer.stopped_at, timer.outcome, timer.entry = locked.stopped_at, locked.outcome, locked.entry
    return entries


@transaction.atomic
def timer_discard(*, practice: Practice, actor: Membership, timer: Timer) -> Timer:
    """Stop a timer started by mistake without logging anything."""
    locked = _locked_timer(practice=practice, actor=actor, timer=timer)
    now = timezone.now()
    locked.stopped_at = now
    locked.outcome = TimerOutcome.DISCARDED
    locked.save(update_fields=["stopped_at", "outcome"])
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.TIMER_DISCARDED,
        patient_public_id=locked.patient.public_id,
        obj=locked,
        changes={"started_at": locked.started_at.isoformat(), "stopped_at": now.isoformat()},
    )
    return locked


def _hours_minutes(duration: timedelta) -> str:
    minutes = floor_minutes(duration)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"
