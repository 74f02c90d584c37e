"""Month locks: the month close locks a service month; a manager may reopen it."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from ccm.audit import AuditEvent, audit_record
from ccm.errors import InvalidState, PermissionDenied
from ccm.models import Membership, Practice
from ccm.permissions import can_close_month
from timetracking.locks import lock_month_exclusively
from timetracking.models import (
    MonthLock,
)
from timetracking.months import next_month, service_month_of
from timetracking.services.entries import clean_or_invalid


def _check_month(service_month: date) -> None:
    if service_month.day != 1:
        raise InvalidState("A service month is given by its first day.", field="service_month")


@transaction.atomic
def month_lock(*, practice: Practice, actor: Membership | None, service_month: date) -> MonthLock:
    """Close ``service_month`` to new, edited and voided time entries.

    Called by the month close (``actor`` None when it runs as a task). Idempotent: a month
    locked already returns its lock unchanged. It waits for entry writes in flight for the
    month to commit, so the close sees every entry and no entry lands after it.
    """
    if actor is not None:
        if actor.practice_id != practice.pk:
            raise PermissionDenied
        if not can_close_month(actor):
            raise PermissionDenied("Only a practice manager or admin closes a month.")
    _check_month(service_month)
    if next_month(service_month) > service_month_of(timezone.now(), practice.tz):
        raise InvalidState(
            f"{service_month:%B %Y} has not ended yet in {practice.timezone}.",
            field="service_month",
        )
    lock_month_exclusively(practice, service_month)
    existing = (
        MonthLock.objects.for_practice(practice)
        .filter(service_month=service_month, reopened_at__isnull=True)
        .first()
    )
    if existing is not None:
        return existing
    lock = MonthLock(practice=practice, service_month=service_month, locked_by=actor)
    clean_or_invalid(lock)
    lock.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.MONTH_LOCKED,
        obj=lock,
        changes={"service_month": service_month.isoformat()},
    )
    return lock


@transaction.atomic
def month_reopen(
    *, practice: Practice, actor: Membership, service_month: date, reason: str
) -> MonthLock:
    """Reopen a closed month for time-entry changes (a manager's decision, with a reason)."""
    if actor.practice_id != practice.pk:
        raise PermissionDenied
    if not can_close_month(actor):
        raise PermissionDenied("Only a practice manager or admin reopens a month.")
    _check_month(service_month)
    reason = reason.strip()
    if not reason:
        raise InvalidState("Say why the month is reopened.", field="reason")
    lock_month_exclusively(practice, service_month)
    lock = (
        MonthLock.objects.for_practice(practice)
        .select_for_update()
        .filter(service_month=service_month, reopened_at__isnull=True)
        .first()
    )
    if lock is None:
        raise InvalidState(f"{service_month:%B %Y} is not closed.", field="service_month")
    lock.reopened_at = timezone.now()
    lock.reopened_by = actor
    lock.reopen_reason = reason
    lock.save(update_fields=["reopened_at", "reopened_by", "reopen_reason"])
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.MONTH_REOPENED,
        obj=lock,
        changes={"service_month": service_month.isoformat(), "reason": reason},
    )
    return lock
