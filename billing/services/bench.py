"""The month-close benchmark's seed: one practice, thousands of enrolled patients, in bulk.

Only ``manage.py bench_month_close`` calls this, in a throwaway database that it drops
afterwards. It writes with ``bulk_create`` (inside the practice's context) and no audit rows,
which no real data may ever be written without. Every patient has what CCM needs (two attested
chronic conditions, an initiating visit, consent, a signed care plan and its copy) and
``entries_per_patient`` time entries in the month: one in ten logs too little time, the rest
reach 99490, many add 99439.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from psycopg2.extras import DateTimeTZRange

from careplans.models import CarePlan, CarePlanCopy, CarePlanVersion, CopyMethod, VersionStatus
from ccm import services as ccm_services
from ccm.models import Membership, Practice, User
from ccm.permissions import Role
from ccm.tenancy import practice_context
from patients.models import (
    Condition,
    Consent,
    ConsentMethod,
    EnrollmentStatus,
    Patient,
    Visit,
)
from timetracking.models import Activity, EntrySource, StaffRole, TimeEntry
from timetracking.months import month_bounds

BENCH_TIMEZONE = "America/New_York"
SLOT_MINUTES = 8  # each coordinator's entries follow one another in 8-minute slots
BATCH = 2000
NAMES = ("Reyes", "Okafor", "Lindqvist", "Nakamura", "Baptiste", "Haddad", "Novak", "Asante")
FIRST_NAMES = ("Ada", "Ben", "Cora", "Dev", "Edna", "Fay", "Gus", "Hal", "Ida", "Jon")
CONDITIONS = (("E11.9", "Type 2 diabetes mellitus"), ("I10", "Essential hypertension"))


@dataclass(frozen=True, slots=True)
class BenchMonth:
    practice: Practice
    service_month: dt.date
    patients: int
    entries: int
    coordinators: int


def _minutes(patient: int, entry: int) -> int:
    """An entry's length: 1 minute for one patient in ten (under 20 in all), else 2 to 7."""
    if patient % 10 == 0:
        return 1
    return 2 + (patient * 7 + entry * 3) % 6


@transaction.atomic
def bench_month_seed(
    *, slug: str, patients: int, entries_per_patient: int, service_month: dt.date
) -> BenchMonth:
    """Seed the benchmark's practice for ``service_month`` (a month that has ended)."""
    practice = ccm_services.practice_create(
        name="Benchmark Family Medicine",
        slug=slug,
        timezone=BENCH_TIMEZONE,
        npi="1234567893",
        tin="123456789",
        address_line1="1 Load Street",
        city="Albany",
        state="NY",
        postal_code="12207",
    )
    start, end = month_bounds(service_month, practice.tz)
    slots_per_member = int((end - start).total_seconds() // 60) // SLOT_MINUTES
    coordinators = max(1, -(-patients * entries_per_patient // slots_per_member))
    unusable = make_password(None)  # nobody signs in as these people
    users = User.objects.bulk_create(
        [
            User(
                email=f"c{index:03d}@bench.example",
                full_name=f"Coordinator {index:03d}",
                password=unusable,
            )
            for index in range(coordinators)
        ]
        + [
            User(
                email="physician@bench.example",
                full_name="Dr. Bench Physician",
                password=unusable,
            )
        ]
    )
    before = start - dt.timedelta(days=60)
    setup_day = before.astimezone(practice.tz).date()
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
        physician, staff = members[-1], members[:-1]
        rows = Patient.objects.bulk_create(
            [
                Patient(
                    practice=practice,
                    mrn=f"M{index:06d}",
                    first_name=FIRST_NAMES[index % len(FIRST_NAMES)],
                    last_name=f"{NAMES[index % len(NAMES)]}{index:05d}",
                    date_of_birth=dt.date(1940 + index % 30, 1 + index % 12, 1 + index % 28),
                    medicare_part_b=True,
                    mbi=f"1EG4TE5MK{index % 100:02d}",
                    billing_practitioner=physician,
                    enrollment_status=EnrollmentStatus.ENROLLED,
                    created_at=before,
                )
                for index in range(patients)
            ],
            batch_size=BATCH,
        )
        Condition.objects.bulk_create(
            [
                Condition(
                    practice=practice,
                    patient=patient,
                    code=code,
                    description=description,
                    chronic_attested=True,
                    attested_by=physician,
                    attested_on=setup_day,
                )
                for patient in rows
                for code, description in CONDITIONS
            ],
            batch_size=BATCH,
        )
        Visit.objects.bulk_create(
            [
                Visit(
                    practice=practice,
                    patient=patient,
                    date=setup_day,
                    code="99214",
                    practitioner=physician,
                    ccm_discussed=True,
                )
                for patient in rows
            ],
            batch_size=BATCH,
        )
        Consent.objects.bulk_create(
            [
                Consent(
                    practice=practice,
                    patient=patient,
                    practitioner=physician,
                    obtained_on=setup_day,
                    method=ConsentMethod.VERBAL,
                    obtained_by=staff[0],
                    explained_cost_sharing=True,
                    explained_one_practitioner=True,
                    explained_stop_anytime=True,
                )
                for patient in rows
            ],
            batch_size=BATCH,
        )
        plans = CarePlan.objects.bulk_create(
            [
                CarePlan(practice=practice, patient=patient, created_by=physician)
                for patient in rows
            ],
            batch_size=BATCH,
        )
        versions = CarePlanVersion.objects.bulk_create(
            [
                CarePlanVersion(
                    practice=practice,
                    care_plan=plan,
                    number=1,
                    status=VersionStatus.SIGNED,
                    problems=[
                        {
                            "key": str(uuid.uuid4()),
                            "condition": str(uuid.uuid4()),
                            "code": code,
                            "description": description,
                            "note": "",
                        }
                        for code, description in CONDITIONS
                    ],
                    goals=[
                        {
                            "key": str(uuid.uuid4()),
                            "goal": "Keep blood sugar in a safe range",
                            "measure": "HbA1c",
                            "target": "Below 8.0 %",
                            "target_date": None,
                            "status": "not_started",
                            "condition": "",
                        }
                    ],
                    drafted_by=physician,
                    updated_by=physician,
                    signed_by=physician,
                    signed_at=before,
                    signed_on=setup_day,
                    signature_method="password",
                    substantial_revision=True,
                    content_sha256="0" * 64,
                )
                for plan in plans
            ],
            batch_size=BATCH,
        )
        CarePlanCopy.objects.bulk_create(
            [
                CarePlanCopy(
                    practice=practice,
                    version=version,
                    given_on=setup_day,
                    method=CopyMethod.IN_PERSON,
                    given_by=staff[0],
                )
                for version in versions
            ],
            batch_size=BATCH,
        )
        entries = []
        for number in range(patients * entries_per_patient):
            patient, entry = divmod(number, entries_per_patient)
            member, slot = divmod(number, slots_per_member)
            begins = start + dt.timedelta(minutes=slot * SLOT_MINUTES)
            entries.append(
                TimeEntry(
                    practice=practice,
                    patient=rows[patient],
                    member=staff[member],
                    staff_role=StaffRole.CLINICAL_STAFF,
                    period=DateTimeTZRange(
                        begins, begins + dt.timedelta(minutes=_minutes(patient, entry))
                    ),
                    service_month=service_month,
                    activity=Activity.PATIENT_COMMUNICATION,
                    source=EntrySource.MANUAL,
                )
            )
        TimeEntry.objects.bulk_create(entries, batch_size=BATCH)
    return BenchMonth(
        practice=practice,
        service_month=service_month,
        patients=patients,
        entries=len(entries),
        coordinators=coordinators,
    )
