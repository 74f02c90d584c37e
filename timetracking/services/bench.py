"""The benchmark's seed: one practice with many coordinators, patients and entries, in bulk.

Only ``manage.py bench_timetracking`` calls this, in a throwaway database that it drops
afterwards; it writes with ``bulk_create`` (inside the practice's context) and no audit rows,
which no real data may ever be written without, then sums the month up for the worklist as
the entry services would have.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from psycopg2.extras import DateTimeTZRange

from ccm import services as ccm_services
from ccm.models import Membership, Practice, User
from ccm.permissions import Role
from ccm.tenancy import practice_context
from patients.models import EnrollmentStatus, Patient
from timetracking.models import Activity, EntrySource, StaffRole, TimeEntry
from timetracking.months import service_month_of
from timetracking.services.month_time import month_time_rebuild

ENTRIES_PER_PATIENT = 3
ENTRY_MINUTES = 10
FIRST_NAMES = ("Ada", "Ben", "Cora", "Dev", "Edna", "Fay", "Gus", "Hal", "Ida", "Jon")
LAST_NAMES = ("Reyes", "Okafor", "Lindqvist", "Nakamura", "Baptiste", "Haddad", "Novak")


@dataclass(frozen=True, slots=True)
class BenchPractice:
    practice: Practice
    coordinator_emails: list[str]
    patient_ids: list[str]
    entries: int
    #: Each coordinator's own free hours for manual entries: [start, end), UTC.
    manual_window: tuple[dt.datetime, dt.datetime]


@transaction.atomic
def bench_practice_seed(
    *, slug: str, patients: int, coordinators: int, password: str, now: dt.datetime
) -> BenchPractice:
    """Seed the benchmark's practice; entries fill the first half of the month so far."""
    practice = ccm_services.practice_create(
        name="Benchmark Family Medicine",
        slug=slug,
        timezone="America/New_York",
        npi="1234567893",
        tin="123456789",
        address_line1="1 Load Street",
        city="Albany",
        state="NY",
        postal_code="12207",
    )
    hashed = make_password(password)
    emails = [f"coordinator{index:03d}@bench.example" for index in range(coordinators)]
    users = User.objects.bulk_create(
        [
            User(email=email, full_name=f"Coordinator {i:03d}", password=hashed)
            for i, email in enumerate(emails)
        ]
        + [User(email="physician@bench.example", full_name="Dr. Bench", password=hashed)]
    )
    with practice_context(practice.pk):
        members = Membership.objects.bulk_create(
            [
                Membership(
                    practice=practice, user=user, role=Role.CARE_COORDINATOR, credential="RN"
                )
                for user in users[:-1]
            ]
            + [
                Membership(
                    practice=practice,
                    user=users[-1],
                    role=Role.PHYSICIAN,
                    npi="1234567893",
                    credential="MD",
                )
            ]
        )
        physician = members[-1]
        rows = Patient.objects.bulk_create(
            [
                Patient(
                    practice=practice,
                    mrn=f"B{index:06d}",
                    first_name=FIRST_NAMES[index % len(FIRST_NAMES)],
                    last_name=f"{LAST_NAMES[index % len(LAST_NAMES)]}{index:04d}",
                    date_of_birth=dt.date(1940 + index % 30, 1 + index % 12, 1 + index % 28),
                    medicare_part_b=True,
                    billing_practitioner=physician,
                    enrollment_status=EnrollmentStatus.ENROLLED,
                )
                for index in range(patients)
            ],
            batch_size=1000,
        )
        month = service_month_of(now, practice.tz)
        month_start = dt.datetime(month.year, month.month, 1, tzinfo=practice.tz).astimezone(dt.UTC)
        middle = month_start + (now - month_start) / 2
        entries = _entries(
            practice, rows, coordinators=members[:-1], month=month, start=month_start, end=middle
        )
        TimeEntry.objects.bulk_create(entries, batch_size=2000)
        month_time_rebuild(practice=practice, service_month=month)
    return BenchPractice(
        practice=practice,
        coordinator_emails=emails,
        patient_ids=[str(row.public_id) for row in rows],
        entries=len(entries),
        manual_window=(middle, now - dt.timedelta(hours=1)),
    )


def _entries(
    practice: Practice,
    patients: list[Patient],
    *,
    coordinators: list[Membership],
    month: dt.date,
    start: dt.datetime,
    end: dt.datetime,
) -> list[TimeEntry]:
    """Back-to-back 10-minute entries per coordinator, from the month's start to ``end``."""
    length = dt.timedelta(minutes=ENTRY_MINUTES)
    next_free = dict.fromkeys(range(len(coordinators)), start)
    entries = []
    for index, patient in enumerate(patients):
        for k in range(ENTRIES_PER_PATIENT):
            who = (index * ENTRIES_PER_PATIENT + k) % len(coordinators)
            begins = next_free[who]
            if begins + length > end:
                continue
            next_free[who] = begins + length
            entries.append(
                TimeEntry(
                    practice=practice,
                    patient=patient,
                    member=coordinators[who],
                    staff_role=StaffRole.CLINICAL_STAFF,
                    period=DateTimeTZRange(begins, begins + length, "[)"),
                    service_month=month,
                    activity=Activity.PATIENT_COMMUNICATION if k == 0 else Activity.CARE_PLAN,
                    source=EntrySource.MANUAL,
                )
            )
    return entries
