"""Shared values for the time-tracking tests."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ccm.models import AuditLog
from timetracking.models import TimeEntry, TimeEntryRevision

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
UTC = dt.UTC
MARCH = dt.date(2025, 3, 1)
APRIL = dt.date(2025, 4, 1)


def ny(
    year: int, month: int, day: int, hour: int, minute: int = 0, *, second: int = 0, fold: int = 0
) -> dt.datetime:
    """A New York wall-clock time (``fold=1``: the second 01:xx of the fall-back night)."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=NEW_YORK, fold=fold)


def counts() -> tuple[int, int, int]:
    """(time entries, revisions, audit rows) visible in the current practice context."""
    return TimeEntry.objects.count(), TimeEntryRevision.objects.count(), AuditLog.objects.count()
