"""The practice's time-tracking settings."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ccm.audit import AuditEvent, audit_record
from ccm.errors import PermissionDenied
from ccm.models import Membership, Practice
from ccm.permissions import can_manage_practice
from timetracking.models import (
    TimeTrackingSettings,
)
from timetracking.services.entries import clean_or_invalid


@transaction.atomic
def time_tracking_settings_update(
    *, practice: Practice, actor: Membership, timer_confirm_after_minutes: int
) -> TimeTrackingSettings:
    if actor.practice_id != practice.pk:
        raise PermissionDenied
    if not can_manage_practice(actor):
        raise PermissionDenied("Only a practice manager or admin changes time-tracking settings.")
    settings = TimeTrackingSettings.objects.for_practice(
        practice
    ).select_for_update().first() or TimeTrackingSettings(practice=practice)
    before = settings.timer_confirm_after_minutes if settings.pk else None
    if before == timer_confirm_after_minutes:
        return settings
    settings.timer_confirm_after_minutes = timer_confirm_after_minutes
    settings.updated_at = timezone.now()
    clean_or_invalid(settings)
    settings.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.TIME_SETTINGS_UPDATED,
        obj=settings,
        changes={"timer_confirm_after_minutes": [before, timer_confirm_after_minutes]},
    )
    return settings
