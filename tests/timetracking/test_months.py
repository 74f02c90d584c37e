"""Service months and wall-clock times in the practice's zone (pure, no database)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from timetracking.months import (
    AmbiguousLocalTime,
    MonthPart,
    NonexistentLocalTime,
    days_left,
    local_instant,
    month_bounds,
    parse_month,
    service_month_of,
    split_by_month,
)

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
UTC = dt.UTC


def test_evening_of_march_31_in_los_angeles_belongs_to_march_though_utc_is_april():
    # given 2025-03-31 20:00 PDT, which is 2025-04-01 03:00 UTC
    moment = dt.datetime(2025, 3, 31, 20, 0, tzinfo=LOS_ANGELES)
    # when
    month = service_month_of(moment, LOS_ANGELES)
    # then
    assert moment.astimezone(UTC).date() == dt.date(2025, 4, 1)
    assert month == dt.date(2025, 3, 1)


def test_month_bounds_are_local_midnights_in_utc():
    # when
    start, end = month_bounds(dt.date(2025, 3, 1), LOS_ANGELES)
    # then March starts in PST and ends in PDT
    assert start == dt.datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    assert end == dt.datetime(2025, 4, 1, 7, 0, tzinfo=UTC)


def test_interval_across_local_midnight_into_a_new_month_is_split_there():
    # given 23:50 on March 31 to 00:20 on April 1 in New York
    start = dt.datetime(2025, 3, 31, 23, 50, tzinfo=NEW_YORK)
    end = dt.datetime(2025, 4, 1, 0, 20, tzinfo=NEW_YORK)
    # when
    parts = split_by_month(start, end, NEW_YORK)
    # then
    midnight = dt.datetime(2025, 4, 1, 0, 0, tzinfo=NEW_YORK)
    assert parts == [
        MonthPart(dt.date(2025, 3, 1), start, midnight.astimezone(UTC)),
        MonthPart(dt.date(2025, 4, 1), midnight.astimezone(UTC), end),
    ]


def test_interval_across_an_ordinary_midnight_stays_whole():
    # given
    start = dt.datetime(2025, 3, 10, 23, 50, tzinfo=NEW_YORK)
    end = dt.datetime(2025, 3, 11, 0, 20, tzinfo=NEW_YORK)
    # when
    parts = split_by_month(start, end, NEW_YORK)
    # then
    assert parts == [MonthPart(dt.date(2025, 3, 1), start, end)]


def test_fall_back_half_past_one_happens_twice_as_two_instants_an_hour_apart():
    # when
    first = local_instant(dt.date(2025, 11, 2), dt.time(1, 30), NEW_YORK, fold=0)
    second = local_instant(dt.date(2025, 11, 2), dt.time(1, 30), NEW_YORK, fold=1)
    # then
    assert first == dt.datetime(2025, 11, 2, 5, 30, tzinfo=UTC)
    assert second == dt.datetime(2025, 11, 2, 6, 30, tzinfo=UTC)


def test_fall_back_time_without_an_occurrence_is_refused():
    # when / then
    with pytest.raises(AmbiguousLocalTime, match="01:30 happens twice on 2025-11-02"):
        local_instant(dt.date(2025, 11, 2), dt.time(1, 30), NEW_YORK)


def test_spring_forward_skipped_time_is_refused():
    # when / then
    with pytest.raises(NonexistentLocalTime, match="02:30 does not exist on 2025-03-09"):
        local_instant(dt.date(2025, 3, 9), dt.time(2, 30), NEW_YORK)


def test_duration_across_spring_forward_is_real_elapsed_time():
    # given 01:50 EST to 03:10 EDT: the clocks skip 02:00-03:00
    start = local_instant(dt.date(2025, 3, 9), dt.time(1, 50), NEW_YORK)
    end = local_instant(dt.date(2025, 3, 9), dt.time(3, 10), NEW_YORK)
    # then
    assert end - start == dt.timedelta(minutes=20)


def test_days_left_counts_today_and_stops_at_zero():
    # given
    march = dt.date(2025, 3, 1)
    # then
    assert days_left(march, NEW_YORK, dt.datetime(2025, 3, 31, 23, 0, tzinfo=NEW_YORK)) == 1
    assert days_left(march, NEW_YORK, dt.datetime(2025, 3, 1, 0, 5, tzinfo=NEW_YORK)) == 31
    assert days_left(march, NEW_YORK, dt.datetime(2025, 4, 1, 0, 5, tzinfo=NEW_YORK)) == 0


@pytest.mark.parametrize("value", ["2025-3", "March", "2025-03-01", ""])
def test_parse_month_refuses_anything_but_year_dash_month(value):
    # when / then
    with pytest.raises(ValueError, match="is not a month like 2025-03"):
        parse_month(value)
