"""The time-tracking benchmark's seed and arithmetic (the HTTP load itself is run by hand)."""

from __future__ import annotations

import gc

import pytest
import time_machine

from ccm.tenancy import practice_context
from patients.models import Patient
from tests.timetracking.helpers import ny
from timetracking import selectors
from timetracking.management.commands.bench_timetracking import GcWatch, Pace, percentile
from timetracking.months import service_month_of
from timetracking.services.bench import bench_practice_seed

NOW = ny(2025, 3, 20, 15)


def test_seeded_worklist_shows_the_minutes_counted_from_the_entries(db):
    # given
    with time_machine.travel(NOW, tick=False):
        seeded = bench_practice_seed(
            slug="bench", patients=30, coordinators=3, password="x" * 20, now=NOW
        )
        practice = seeded.practice
        month = service_month_of(NOW, practice.tz)
        with practice_context(practice.pk):
            member = selectors.time_logger_list(practice=practice).first()
            counted = selectors.patient_month_minutes(practice=practice, service_month=month)
            public_ids = dict(Patient.objects.for_practice(practice).values_list("pk", "public_id"))
            # when
            worklist = selectors.worklist(
                practice=practice, member=member, service_month=month, now=NOW, page_size=30
            )
    # then
    assert seeded.entries == 90
    assert len(counted) == 30
    assert {row.patient.public_id: row.progress.minutes for row in worklist.rows} == {
        public_ids[patient_id]: minutes for patient_id, minutes in counted.items()
    }


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([5.0], 0.95, 5.0),
        ([float(value) for value in range(1, 101)], 0.95, 95.0),
        ([float(value) for value in range(1, 101)], 0.5, 50.0),
        ([3.0, 1.0, 2.0], 0.95, 3.0),
    ],
)
def test_percentile_is_the_nearest_rank(values, share, expected):
    assert percentile(values, share) == expected


def test_a_round_is_four_pauses_to_think_and_one_call():
    assert Pace(think=5, call=20, poll=10, rounds=5, warmup_rounds=1).round_seconds == 40


def test_the_bench_client_reports_its_own_garbage_collection_pauses():
    # given
    watch = GcWatch()
    # when a collection runs while it watches, and another after
    with watch.watching():
        gc.collect()
    gc.collect()
    # then only the first is counted, and the watch is unhooked
    assert len(watch.pauses) == 1
    assert watch.pauses[0] >= 0
    assert watch not in gc.callbacks
