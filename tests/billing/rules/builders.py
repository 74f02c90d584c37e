"""Facts for the rules tests: the baseline patient-month "B" of SCENARIOS.md §16.0, and entries."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from billing.fees import load_fee_schedule
from billing.rules import (
    CarePlanVersion,
    Complexity,
    Condition,
    Consent,
    ConsentMethod,
    MedicalDecisionMaking,
    PatientMonthFacts,
    PatientStatus,
    PracticePolicy,
    Role,
    TimeEntry,
    Visit,
)

NEW_YORK = ZoneInfo("America/New_York")
FEES = load_fee_schedule()
BILLER = "dr-a"

BASE_PLAN = CarePlanVersion(
    version=1,
    signed_by=BILLER,
    signed_on=dt.date(2025, 2, 3),
    patient_copy_on=dt.date(2025, 2, 3),
    substantial_revision=False,
)
REVISION = CarePlanVersion(
    version=2,
    signed_by=BILLER,
    signed_on=dt.date(2025, 3, 4),
    patient_copy_on=dt.date(2025, 3, 4),
    substantial_revision=True,
)
COMPLEXITY = Complexity(MedicalDecisionMaking.MODERATE, BILLER)

BASELINE = PatientMonthFacts(
    service_month=dt.date(2025, 3, 1),
    practice=PracticePolicy(timezone="America/New_York", place_of_service="11"),
    billing_practitioner=BILLER,
    patient=PatientStatus(medicare_part_b=True),
    conditions=(
        Condition("E11.9", chronic=True, active=True),
        Condition("I10", chronic=True, active=True),
        Condition("N18.30", chronic=True, active=True),
    ),
    visits=(Visit(dt.date(2025, 1, 15), "99214", BILLER, ccm_discussed=True),),
    consents=(Consent(BILLER, dt.date(2025, 2, 3), None, ConsentMethod.VERBAL),),
    care_plans=(BASE_PLAN,),
)


def at(day: int, clock: str = "09:00", *, month: int = 3, year: int = 2025) -> dt.datetime:
    """Return a New York wall-clock moment."""
    hours, minutes = (int(part) for part in clock.split(":"))
    return dt.datetime(year, month, day, hours, minutes, tzinfo=NEW_YORK)


def staff(
    day: int,
    minutes: float,
    *,
    clock: str = "09:00",
    by: str = "rn-1",
    role: Role = Role.CLINICAL_STAFF,
    part_of: str | None = None,
    month: int = 3,
    year: int = 2025,
) -> TimeEntry:
    """Return a clinical-staff entry of ``minutes`` real minutes from ``clock`` on ``day``."""
    start = at(day, clock, month=month, year=year)
    end = (start.astimezone(dt.UTC) + dt.timedelta(minutes=minutes)).astimezone(NEW_YORK)
    return TimeEntry(by=by, role=role, start=start, end=end, part_of=part_of)


def own(
    day: int, minutes: float, *, clock: str = "14:00", month: int = 3, year: int = 2025
) -> TimeEntry:
    """Return a time entry of the billing practitioner's own time."""
    return staff(
        day, minutes, clock=clock, by=BILLER, role=Role.PRACTITIONER, month=month, year=year
    )


def month_of(*entries: TimeEntry, **changes: Any) -> PatientMonthFacts:
    """Return the baseline month with these entries and any other fields replaced."""
    return replace(BASELINE, time_entries=entries, **changes)


def practice(**changes: Any) -> PracticePolicy:
    """Return the baseline practice with some policies changed."""
    return replace(BASELINE.practice, **changes)


def patient(**changes: Any) -> PatientStatus:
    """Return the baseline patient with some facts changed."""
    return replace(BASELINE.patient, **changes)
