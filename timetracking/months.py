"""Service months and local clock times in the practice's time zone (DESIGN "Time and months").

Pure functions over aware datetimes; no database. Instants are compared and subtracted in UTC,
so a duration across a DST change is the real elapsed time (01:50 EST to 03:10 EDT is 20
minutes), and a wall-clock time that happens twice (01:30 on the night the clocks go back) is
resolved by ``fold`` into two distinct instants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


def service_month_of(moment: datetime, tz: ZoneInfo) -> date:
    """The first day of the local month that ``moment`` falls in (POL-TZ)."""
    local = moment.astimezone(tz)
    return date(local.year, local.month, 1)


def next_month(service_month: date) -> date:
    if service_month.month == 12:  # noqa: PLR2004  (December)
        return date(service_month.year + 1, 1, 1)
    return date(service_month.year, service_month.month + 1, 1)


def previous_month(service_month: date) -> date:
    if service_month.month == 1:
        return date(service_month.year - 1, 12, 1)
    return date(service_month.year, service_month.month - 1, 1)


def month_start(service_month: date, tz: ZoneInfo) -> datetime:
    """Local midnight of the month's first day, as a UTC instant."""
    return datetime(service_month.year, service_month.month, 1, tzinfo=tz).astimezone(UTC)


def month_bounds(service_month: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """``[start, end)`` of the local month, in UTC."""
    return month_start(service_month, tz), month_start(next_month(service_month), tz)


def days_left(service_month: date, tz: ZoneInfo, now: datetime) -> int:
    """Whole local days left in the month, today included (0 once the month has ended)."""
    today = now.astimezone(tz).date()
    end = next_month(service_month)
    if today >= end:
        return 0
    return (end - max(today, service_month)).days


@dataclass(frozen=True, slots=True)
class MonthPart:
    service_month: date
    start: datetime
    end: datetime


def split_by_month(start: datetime, end: datetime, tz: ZoneInfo) -> list[MonthPart]:
    """``[start, end)`` cut at each local month boundary it crosses (R-TIME-6).

    An entry from 23:50 on the 31st to 00:20 on the 1st becomes two parts, 10 and 20 minutes,
    one in each service month.
    """
    parts: list[MonthPart] = []
    cursor = start
    while cursor < end:
        month = service_month_of(cursor, tz)
        boundary = month_start(next_month(month), tz)
        part_end = min(end, boundary)
        parts.append(MonthPart(month, cursor, part_end))
        cursor = part_end
    return parts


def parse_month(value: str) -> date:
    """``"2025-03"`` → ``date(2025, 3, 1)``; ValueError for anything else."""
    match = _MONTH_PATTERN.match(value.strip())
    if match is None:
        raise ValueError(f"{value!r} is not a month like 2025-03")
    return date(int(match.group(1)), int(match.group(2)), 1)


class LocalTimeError(ValueError):
    """A wall-clock time that does not name exactly one instant in the zone."""


class AmbiguousLocalTime(LocalTimeError):  # noqa: N818  (named for what it is)
    pass


class NonexistentLocalTime(LocalTimeError):  # noqa: N818
    pass


def is_ambiguous(day: date, clock: time, tz: ZoneInfo) -> bool:
    first = datetime.combine(day, clock, tzinfo=tz)
    second = first.replace(fold=1)
    return first.utcoffset() != second.utcoffset() and _exists(first)


def _exists(moment: datetime) -> bool:
    naive = moment.replace(tzinfo=None, fold=0)
    return moment.astimezone(UTC).astimezone(moment.tzinfo).replace(tzinfo=None) == naive


def local_instant(day: date, clock: time, tz: ZoneInfo, *, fold: int | None = None) -> datetime:
    """The UTC instant of a wall-clock time in ``tz``.

    A time the clocks skip (02:30 on the spring-forward night) raises NonexistentLocalTime; a
    time that happens twice (01:30 on the fall-back night) raises AmbiguousLocalTime unless
    ``fold`` says which: 0 for the first occurrence (daylight time), 1 for the second.
    """
    moment = datetime.combine(day, clock.replace(tzinfo=None), tzinfo=tz)
    if not _exists(moment):
        raise NonexistentLocalTime(
            f"{clock:%H:%M} does not exist on {day:%Y-%m-%d} in {tz.key}: the clocks skip it."
        )
    if moment.utcoffset() != moment.replace(fold=1).utcoffset():
        if fold is None:
            raise AmbiguousLocalTime(
                f"{clock:%H:%M} happens twice on {day:%Y-%m-%d} in {tz.key}: "
                "say whether it is the first or the second time."
            )
        moment = moment.replace(fold=fold)
    return moment.astimezone(UTC)


def floor_minutes(duration: timedelta) -> int:
    """Whole minutes of a duration, seconds dropped (POL-ROUND)."""
    return int(duration.total_seconds() // 60)
