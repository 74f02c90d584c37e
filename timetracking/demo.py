"""Demo time entries: this month's and last month's work on the enrolled demo patients.

``seed_time_entries`` is a step of ``ccm.demo_data.SEED_STEPS`` (after the patients). It logs
through the real services (audit rows included), inside each practice's context, at fixed
local times in the past, so the worklist shows every state: patients with nothing yet, a few
minutes short of 20, past 20 or 40, all thresholds reached; a call the coordinator and the
billing practitioner shared (counted once), time inside a billed visit (not counted) and a
voided duplicate. No timer is left running: a demo opened days later would find it long
past the confirmation limit. Idempotent: a practice that has time entries gets no more.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.utils import timezone

from ccm.models import Membership, Practice
from ccm.permissions import Role
from ccm.tenancy import practice_context
from patients.models import Patient
from timetracking import selectors
from timetracking.models import Activity, PartOf, TimeEntry
from timetracking.months import local_instant, previous_month, service_month_of
from timetracking.services.entries import time_entry_log, time_entry_void

if TYPE_CHECKING:
    from ccm.demo_data import DemoWorld

# The enrolled patient (by position) whose first call the billing practitioner joins.
SHARED_CALL_PATIENT = 2
# Minutes logged by the coordinator per enrolled patient (by position), over a month.
MINUTES_PLAN = (0, 18, 24, 35, 42, 61, 12, 0, 19, 27)
ACTIVITIES = (
    Activity.PATIENT_COMMUNICATION,
    Activity.MEDICATION_RECONCILIATION,
    Activity.CARE_PLAN,
    Activity.COORDINATION,
    Activity.RECORD_REVIEW,
    Activity.CAREGIVER_COMMUNICATION,
)
NOTES = (
    "Reviewed home blood pressure log; reinforced low-salt diet.",
    "Reconciled medications after pharmacy refill; removed duplicate statin.",
    "Updated care-plan goals with the patient.",
    "Called cardiology about the echo results; faxed the summary.",
    "Reviewed new lab results (A1c, eGFR) and flagged for the physician.",
    "Spoke with the daughter about transport to appointments.",
)


def seed_time_entries(world: DemoWorld) -> None:
    for slug, practice in world.practices.items():
        members = world.memberships[slug].values()
        coordinator = next(m for m in members if m.role == Role.CARE_COORDINATOR)
        with practice_context(practice.pk):
            if selectors.time_entry_list(practice=practice).exists():
                continue
            patients = list(selectors.enrolled_patient_list(practice=practice))
            world.created["time entries"] += _seed_practice(practice, coordinator, patients)


class _Slots:
    """Free quarter hours of one person's working days in a month (no entry overlaps another)."""

    def __init__(self, month: dt.date, days: int) -> None:
        self.month = month
        self.days = days
        self.taken: set[tuple[int, int, int]] = set()

    def take(self, *, day: int, hour: int) -> tuple[dt.date, dt.time]:
        for step in range(self.days * 8 * 4):
            slot = ((day + step // 32) % self.days, 8 + (hour + step // 4) % 8, step % 4)
            if slot not in self.taken:
                self.taken.add(slot)
                return self.month + dt.timedelta(days=slot[0]), dt.time(slot[1], 15 * slot[2])
        raise ValueError("the month is full")  # pragma: no cover  (10 patients never fill it)


def _seed_practice(practice: Practice, coordinator: Membership, patients: list[Patient]) -> int:
    tz = practice.tz
    now = timezone.now()
    this_month = service_month_of(now, tz)
    today = now.astimezone(tz).date()
    created = 0
    for month in (previous_month(this_month), this_month):
        if selectors.service_month_is_locked(practice=practice, service_month=month):
            continue
        # This month: only the days before today, and a share of the plan to match.
        days = (today - month).days if month == this_month else 28
        if days <= 0:
            continue
        slots = _Slots(month, days)
        for index, patient in enumerate(patients):
            planned = MINUTES_PLAN[index % len(MINUTES_PLAN)]
            minutes = planned if month != this_month else planned * min(days, 28) // 28
            created += _log_patient(
                practice, coordinator, patient, slots=slots, index=index, minutes=minutes
            )
    return created


def _log_patient(
    practice: Practice,
    coordinator: Membership,
    patient: Patient,
    *,
    slots: _Slots,
    index: int,
    minutes: int,
) -> int:
    """Split ``minutes`` into calls of up to 15 minutes on free quarter hours."""
    created = 0
    chunk = 0
    while minutes > 0:
        length = min(15, minutes)
        day, clock = slots.take(day=index * 3 + chunk * 5, hour=index)
        start = local_instant(day, clock, practice.tz, fold=0)
        (entry,) = time_entry_log(
            practice=practice,
            actor=coordinator,
            patient=patient,
            start=start,
            end=start + dt.timedelta(minutes=length),
            activity=ACTIVITIES[(index + chunk) % len(ACTIVITIES)],
            note=NOTES[(index + chunk) % len(NOTES)],
        )
        created += 1
        if index == SHARED_CALL_PATIENT and chunk == 0:
            created += _shared_and_other_time(practice, coordinator, patient, entry, slots)
        minutes -= length
        chunk += 1
    return created


def _shared_and_other_time(
    practice: Practice, coordinator: Membership, patient: Patient, call: TimeEntry, slots: _Slots
) -> int:
    """The billing practitioner joins a call (counted once), a visit's time and a duplicate."""
    physician = patient.billing_practitioner
    created = 0
    if physician is not None:
        time_entry_log(
            practice=practice,
            actor=physician,
            patient=patient,
            start=call.start + dt.timedelta(minutes=5),
            end=call.end + dt.timedelta(minutes=5),
            activity=Activity.PATIENT_COMMUNICATION,
            note="Joined the call to adjust the insulin dose.",
        )
        created += 1
    for part_of, note in (
        (PartOf.VISIT, "Care-plan review during the office visit (billed with the visit)."),
        (PartOf.NONE, ""),
    ):
        day, clock = slots.take(day=(call.start.astimezone(practice.tz).day), hour=3)
        start = local_instant(day, clock, practice.tz, fold=0)
        (entry,) = time_entry_log(
            practice=practice,
            actor=coordinator,
            patient=patient,
            start=start,
            end=start + dt.timedelta(minutes=10),
            activity=Activity.CARE_PLAN if part_of else Activity.RECORD_REVIEW,
            part_of=part_of,
            note=note,
        )
        created += 1
    time_entry_void(
        practice=practice,
        actor=coordinator,
        entry=entry,
        reason="Logged twice: the same review is in the care-plan entry.",
    )
    return created
