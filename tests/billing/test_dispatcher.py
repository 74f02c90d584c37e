"""The hourly dispatcher: which practice-months are due, in each practice's time zone."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings

from billing.services.months import billing_months_dispatch, billing_months_due
from billing.tasks import billing_months_dispatch_task
from ccm.models import Practice
from tests.billing.builders import FEBRUARY, UTC
from tests.billing.conftest import billing_state


@pytest.fixture
def no_grace(practice: Practice, other_practice: Practice) -> None:
    Practice.objects.filter(pk__in=[practice.pk, other_practice.pk]).update(close_grace_days=0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("now", "due"),
    [
        # UTC midnight: still February in New York (19:30) and Los Angeles (16:30).
        (dt.datetime(2025, 3, 1, 0, 30, tzinfo=UTC), set()),
        # 00:30 in New York, 21:30 the day before in Los Angeles.
        (dt.datetime(2025, 3, 1, 5, 30, tzinfo=UTC), {"maple"}),
        # 00:30 in Los Angeles.
        (dt.datetime(2025, 3, 1, 8, 30, tzinfo=UTC), {"maple", "harbor"}),
    ],
)
@pytest.mark.usefixtures("no_grace")
def test_a_month_is_due_when_it_has_ended_in_the_practices_own_time_zone(
    practice: Practice,
    other_practice: Practice,
    django_capture_on_commit_callbacks: object,
    now: dt.datetime,
    due: set[str],
) -> None:
    # given New York (maple) and Los Angeles (harbor) practices without grace days
    slugs = {practice.pk: "maple", other_practice.pk: "harbor"}
    # when the hourly task runs at ``now``
    with (
        time_machine.travel(now, tick=False),
        mock.patch("billing.services.months.billing_month_close_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),  # type: ignore[operator]
    ):
        billing_months_dispatch_task()
    # then
    assert {
        (slugs[call.kwargs["practice_id"]], call.kwargs["service_month"])
        for call in delay.call_args_list
    } == {(slug, "2025-02-01") for slug in due}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("now", "is_due"),
    [
        (dt.datetime(2025, 3, 4, 4, 59, tzinfo=UTC), False),  # 23:59 on 3 March in New York
        (dt.datetime(2025, 3, 4, 5, 0, tzinfo=UTC), True),  # midnight after three grace days
        # A week of local days (clocks went forward on 9 March): until midnight on 11 March.
        (dt.datetime(2025, 3, 11, 3, 59, tzinfo=UTC), True),
        (dt.datetime(2025, 3, 11, 4, 0, tzinfo=UTC), False),
    ],
)
def test_grace_days_delay_the_close_and_the_dispatcher_retries_for_a_week(
    practice: Practice, now: dt.datetime, is_due: bool
) -> None:
    # given the default three grace days
    # when
    found = billing_months_due(now=now)
    # then
    assert ((practice.pk, FEBRUARY) in found) is is_due


@pytest.mark.django_db
def test_inactive_practices_are_never_due(
    practice: Practice, other_practice: Practice, no_grace: None
) -> None:
    # given maple is inactive; both Februaries have ended
    Practice.objects.filter(pk=practice.pk).update(is_active=False)
    # when
    found = billing_months_due(now=dt.datetime(2025, 3, 2, 12, tzinfo=UTC))
    # then
    assert found == [(other_practice.pk, FEBRUARY)]


@pytest.mark.django_db
def test_dispatch_queues_one_automatic_close_per_due_practice_month_after_commit(
    practice: Practice,
    other_practice: Practice,
    no_grace: None,
    django_capture_on_commit_callbacks: object,
) -> None:
    # given it is 00:30 in New York on 1 March: only maple's February is due
    before = billing_state(practice)
    # when
    with (
        mock.patch("billing.services.months.billing_month_close_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True) as callbacks,  # type: ignore[operator]
    ):
        due = billing_months_dispatch(now=dt.datetime(2025, 3, 1, 5, 30, tzinfo=UTC))
    # then
    assert due == [(practice.pk, FEBRUARY)]
    assert len(callbacks) == 1
    delay.assert_called_once_with(
        practice_id=practice.pk, service_month="2025-02-01", automatic=True
    )
    assert billing_state(practice) == before


@pytest.mark.django_db
def test_dispatch_task_reads_the_clock_and_counts_what_it_queued(
    practice: Practice, other_practice: Practice, no_grace: None
) -> None:
    # given
    # when
    with (
        time_machine.travel(dt.datetime(2025, 3, 1, 8, 30, tzinfo=UTC), tick=False),
        mock.patch("billing.services.months.billing_month_close_task.delay") as delay,
    ):
        queued = billing_months_dispatch_task()
    # then (inside the test's transaction nothing is committed, so nothing is sent)
    assert queued == 2
    delay.assert_not_called()


def test_beat_runs_the_dispatcher_every_hour() -> None:
    # given / when
    entry = settings.CELERY_BEAT_SCHEDULE["billing-months-dispatch"]
    # then
    assert entry == {
        "task": "billing.tasks.billing_months_dispatch_task",
        "schedule": crontab(minute=5),
    }
