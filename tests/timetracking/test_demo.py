"""The demo's time entries: every worklist state, counted through the real services."""

from __future__ import annotations

import time_machine

from ccm.demo_data import DemoWorld, seed_members, seed_practices
from ccm.tenancy import practice_context
from patients.demo import seed_patients
from tests.timetracking.helpers import MARCH, ny
from timetracking import selectors
from timetracking.demo import seed_time_entries
from timetracking.models import TimeEntry


def _world() -> DemoWorld:
    world = DemoWorld()
    seed_practices(world)
    seed_members(world)
    seed_patients(world)
    return world


def test_demo_time_fills_the_worklist_and_a_second_run_adds_nothing(db):
    # given
    with time_machine.travel(ny(2025, 3, 20, 15), tick=False):
        world = _world()
        # when
        seed_time_entries(world)
        again = _world()
        seed_time_entries(again)
        maple = world.practices["maple"]
        coordinator = world.membership("maple", "coordinator@maple.example")
        with practice_context(maple.pk):
            worklist = selectors.worklist(
                practice=maple, member=coordinator, service_month=MARCH, now=ny(2025, 3, 20, 15)
            )
            voided = TimeEntry.objects.filter(voided_at__isnull=False).count()
            part_of = TimeEntry.objects.exclude(part_of="").count()
            february = TimeEntry.objects.filter(service_month="2025-02-01").count()
    # then
    assert world.created["time entries"] > 0
    assert again.created["time entries"] == 0
    assert worklist.total == 10
    reached = {row.progress.reached for row in worklist.rows}
    assert {0, 1, 2} <= reached
    assert any(row.progress.minutes == 0 for row in worklist.rows)
    assert (voided, part_of) == (2, 2)
    assert february > 0
