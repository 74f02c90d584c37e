"""Patient-months for the billing tests, built with the real services of each domain.

The clock of a billing test stands on 5 March 2025 (noon in New York): February 2025 has ended
and may be closed. Everything a patient needs before February (conditions, the initiating
visit, consent, enrollment, the signed care plan and its copy) is recorded on 20 January, by
travelling there; February's minutes are logged afterwards (back-dating into an open month is
allowed).
"""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import time_machine

from careplans.services.complexity import complexity_attest
from careplans.services.documents import care_plan_copy_record
from careplans.services.versions import care_plan_start, care_plan_version_sign
from ccm.models import Membership, Practice
from ccm.tenancy import practice_context
from patients.models import ConsentMethod, EnrollmentStatus, FacilityStayKind, Patient
from patients.services.condition import condition_add
from patients.services.consent import consent_record
from patients.services.encounter import (
    facility_stay_record,
    other_service_record,
    visit_record,
)
from patients.services.enrollment import enrollment_status_change, patient_enroll
from tests.factories import PatientFactory
from timetracking.models import Activity, PartOf
from timetracking.services.entries import time_entry_log

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
NOW = dt.datetime(2025, 3, 5, 17, 0, tzinfo=UTC)  # noon in New York, Wednesday 5 March 2025
SETUP = dt.datetime(2025, 1, 20, 15, 0, tzinfo=UTC)  # 10:00 in New York, 20 January 2025
SETUP_DAY = dt.date(2025, 1, 20)
FEBRUARY = dt.date(2025, 2, 1)
MARCH = dt.date(2025, 3, 1)
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's password
CHRONIC = (
    ("E11.9", "Type 2 diabetes mellitus without complications"),
    ("I10", "Essential (primary) hypertension"),
    ("N18.30", "Chronic kidney disease, stage 3 unspecified"),
)
_MRNS = itertools.count(1)


def local(day: dt.date, hour: int, minute: int = 0, tz: ZoneInfo = NEW_YORK) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def enrolled_patient(
    practice: Practice,
    physician: Membership,
    coordinator: Membership,
    *,
    chronic: int = 2,
    consent: bool = True,
    visit: bool = True,
    care_plan: bool = True,
    copy: bool = True,
    last_name: str | None = None,
    setup_at: dt.datetime = SETUP,
    **fields: object,
) -> Patient:
    """A patient of ``physician`` set up on 20 January with what CCM needs (all by default).

    Without ``consent`` the patient is only identified (not enrolled); the other switches
    leave out one element each.
    """
    number = next(_MRNS)
    with time_machine.travel(setup_at, tick=False), practice_context(practice.pk):
        today = setup_at.astimezone(practice.tz).date()
        extra = {"last_name": last_name} if last_name else {}
        patient = PatientFactory.create(
            practice=practice,
            mrn=f"B{number:05d}",
            mbi=f"1EG4TE5MK{number % 100:02d}",
            **extra,
            **fields,
        )
        for code, description in CHRONIC[:chronic]:
            condition_add(
                practice=practice,
                actor=physician,
                patient=patient,
                code=code,
                description=description,
                chronic_attested=True,
            )
        if visit:
            visit_record(
                practice=practice,
                actor=coordinator,
                patient=patient,
                date=today,
                code="99214",
                ccm_discussed=True,
                practitioner=physician,
            )
        if not consent:
            enrollment_status_change(
                practice=practice,
                actor=coordinator,
                patient=patient,
                to_status=EnrollmentStatus.IDENTIFIED,
            )
            return patient
        consent_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            practitioner=physician,
            obtained_on=today,
            method=ConsentMethod.VERBAL,
            explained_cost_sharing=True,
            explained_one_practitioner=True,
            explained_stop_anytime=True,
        )
        patient.refresh_from_db()
        patient_enroll(practice=practice, actor=coordinator, patient=patient)
        if care_plan:
            draft = care_plan_start(practice=practice, actor=physician, patient=patient)
            version = care_plan_version_sign(
                practice=practice,
                actor=physician,
                version=draft,
                substantial_revision=True,
                password=PASSWORD,
            )
            if copy:
                care_plan_copy_record(
                    practice=practice,
                    actor=coordinator,
                    version=version,
                    given_on=today,
                    method="in_person",
                )
        patient.refresh_from_db()
    return patient


def log_minutes(
    practice: Practice,
    member: Membership,
    patient: Patient,
    *,
    minutes: int,
    day: dt.date = dt.date(2025, 2, 10),
    hour: int = 10,
    part_of: str = PartOf.NONE,
) -> None:
    """Log ``minutes`` of ``member``'s work for ``patient`` starting ``day`` at ``hour`` local."""
    start = local(day, hour, tz=practice.tz)
    with practice_context(practice.pk):
        time_entry_log(
            practice=practice,
            actor=member,
            patient=patient,
            start=start,
            end=start + dt.timedelta(minutes=minutes),
            activity=Activity.PATIENT_COMMUNICATION,
            note="Reviewed glucose log and medications by phone.",
            part_of=part_of,
        )


def record_other_service(
    practice: Practice, actor: Membership, patient: Patient, *, code: str, day: dt.date
) -> None:
    """A service billed by someone outside the practice (e.g. hospice oversight G0182)."""
    with practice_context(practice.pk):
        other_service_record(
            practice=practice,
            actor=actor,
            patient=patient,
            date=day,
            code=code,
            outside_practitioner_name="Dr. Outside Hospice",
            outside_practitioner_npi="1003000126",
        )


def demo_like_month(
    practice: Practice, physician: Membership, coordinator: Membership
) -> dict[str, Patient]:
    """February 2025 of a small panel with every kind of outcome, by label.

    Billed: 25, 45 and 70 minutes (99490, + 99439, + 99439 x2 with unpaid minutes), a shared
    call counted once, the billing practitioner's own 35 minutes (99491), a complex month
    (99487). Not billed: 12 minutes, no consent, no signed care plan, no patient copy, one
    chronic condition, a hospice oversight service. Plus a death mid-month (later minutes
    dropped), an inpatient stay (minutes during it dropped) and time inside a billed visit.
    """
    made: dict[str, Patient] = {}

    def patient(label: str, **options: object) -> Patient:
        made[label] = enrolled_patient(practice, physician, coordinator, **options)  # type: ignore[arg-type]
        return made[label]

    def minutes(
        label: str,
        count: int,
        *,
        day: int,
        hour: int = 9,
        by: Membership = coordinator,
        part_of: str = PartOf.NONE,
    ) -> None:
        log_minutes(
            practice,
            by,
            made[label],
            minutes=count,
            day=dt.date(2025, 2, day),
            hour=hour,
            part_of=part_of,
        )

    patient("twenty")
    minutes("twenty", 25, day=3)
    patient("forty")
    minutes("forty", 30, day=4)
    minutes("forty", 15, day=18, hour=15)
    patient("sixty")
    minutes("sixty", 40, day=5)
    minutes("sixty", 30, day=19, hour=15)
    patient("shared")
    minutes("shared", 30, day=6, hour=11)
    minutes("shared", 30, day=6, hour=11, by=physician)
    minutes("shared", 10, day=20, hour=15)
    patient("physician")
    minutes("physician", 35, day=7, hour=13, by=physician)
    patient("short")
    minutes("short", 12, day=10)
    patient("no consent", consent=False)
    minutes("no consent", 30, day=11)
    patient("no plan", care_plan=False)
    minutes("no plan", 25, day=12)
    patient("no copy", copy=False)
    minutes("no copy", 25, day=13)
    patient("one condition", chronic=1)
    minutes("one condition", 25, day=14)
    patient("hospice")
    minutes("hospice", 25, day=17)
    record_other_service(
        practice, coordinator, made["hospice"], code="G0182", day=dt.date(2025, 2, 3)
    )
    patient("died", date_of_death=dt.date(2025, 2, 15))
    minutes("died", 15, day=10, hour=15)
    minutes("died", 15, day=24, hour=15)
    patient("inpatient")
    minutes("inpatient", 22, day=10, hour=16)
    minutes("inpatient", 30, day=25, hour=9)
    with practice_context(practice.pk):
        facility_stay_record(
            practice=practice,
            actor=coordinator,
            patient=made["inpatient"],
            kind=FacilityStayKind.INPATIENT,
            from_date=dt.date(2025, 2, 24),
            to_date=dt.date(2025, 2, 27),
        )
    patient("visit time")
    minutes("visit time", 15, day=26, hour=9, part_of=PartOf.VISIT)
    minutes("visit time", 22, day=26, hour=11)
    patient("complex", setup_at=dt.datetime(2025, 2, 3, 15, 0, tzinfo=UTC))
    minutes("complex", 65, day=21, hour=9)
    with practice_context(practice.pk):
        complexity_attest(
            practice=practice,
            actor=physician,
            patient=made["complex"],
            service_month=FEBRUARY,
            mdm="high",
            note="Heart failure and CKD both unstable.",
        )
    return made
