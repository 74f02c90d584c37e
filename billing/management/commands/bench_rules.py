"""``manage.py bench_rules``: decide seeded random patient-months on one core; print the rate.

The generated months look like a practice's panel: mostly enrolled patients with staff minutes
spread over the month, some physician time, some complex months, a few conflicts, stays,
revocations and deaths. Generation happens before the clock starts; only ``decide`` is timed.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from collections import Counter
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand

from billing.fees import default_fee_schedule
from billing.rules import (
    RULE_SETS,
    CarePlanVersion,
    Complexity,
    Condition,
    Consent,
    ConsentMethod,
    FacilityStay,
    MedicalDecisionMaking,
    OtherService,
    PatientMonthFacts,
    PatientStatus,
    PracticePolicy,
    Role,
    StayKind,
    TimeEntry,
    Visit,
    decide,
)

if TYPE_CHECKING:
    from argparse import ArgumentParser

_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
)
_DIAGNOSES = ("E11.9", "I10", "N18.30", "I50.22", "J44.9", "F32.9", "I48.91", "M81.0", "G30.9")
# Other services billed in the month: mostly compatible ones (TCM, RPM, BHI, AWV), a few conflicts.
_OTHER_CODES = (
    *("99495", "99457", "99454", "99484", "G0439", "99457", "99454", "99484"),
    *("99424", "G0557", "G0181", "99490", "99339"),
)
_BILLER = "dr-a"
_STAFF = ("rn-1", "rn-2", "ma-1", "lpn-1")

# Shares of the generated panel (rough proportions of a practice's CCM panel).
_STAFF_SHARE = 0.7  # entries by clinical staff; the rest by the biller, a colleague or NC staff
_BILLER_SHARE = 0.9
_COLLEAGUE_SHARE = 0.95
_TAGGED = 0.08  # entries that belong to another billed service
_REVOKED = 0.02
_COMPLEX = 0.15
_COPY_GIVEN = 0.98
_IN_HOSPITAL = 0.05
_DIED = 0.01
_PART_B = 0.99
_ELSEWHERE = 0.005
_CONSENTED = 0.98
_NEW_PATIENT = 0.05


def _month_days(first: dt.date) -> int:
    """Return the number of days in the month starting at ``first``."""
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return (following - first).days


def _entries(rng: random.Random, first: dt.date, tz: ZoneInfo) -> tuple[TimeEntry, ...]:
    """Return a month of time entries: staff calls, some physician time, a few tagged or NC."""
    days = _month_days(first)
    entries = []
    for _ in range(rng.choice((0, 1, 2, 3, 3, 4, 4, 5, 6, 8, 10))):
        day = first + dt.timedelta(days=rng.randrange(days))
        start = dt.datetime(
            day.year, day.month, day.day, rng.randrange(7, 19), rng.randrange(60), tzinfo=tz
        )
        end = start + dt.timedelta(minutes=rng.randrange(2, 41), seconds=rng.choice((0, 0, 30)))
        draw = rng.random()
        if draw < _STAFF_SHARE:
            by, role = rng.choice(_STAFF), Role.CLINICAL_STAFF
        elif draw < _BILLER_SHARE:
            by, role = _BILLER, Role.PRACTITIONER
        elif draw < _COLLEAGUE_SHARE:
            by, role = "dr-b", Role.PRACTITIONER
        else:
            by, role = "front-1", Role.NON_CLINICAL
        part_of = rng.choice(("99496", "99457", "visit")) if rng.random() < _TAGGED else None
        entries.append(TimeEntry(by, role, start, end, part_of))
    return tuple(entries)


def random_month(rng: random.Random) -> PatientMonthFacts:
    """Return one realistic random patient-month."""
    year = rng.choice(sorted(RULE_SETS))
    first = dt.date(year, rng.randrange(1, 13), 1)
    tz_name = rng.choice(_ZONES)
    enrolled = first - dt.timedelta(days=rng.randrange(0, 500))
    if rng.random() < _NEW_PATIENT:  # the initiating visit comes after consent
        seen = enrolled + dt.timedelta(days=rng.randrange(0, 10))
    else:
        seen = enrolled - dt.timedelta(days=rng.randrange(0, 300))
    revoked = first - dt.timedelta(days=rng.randrange(1, 60)) if rng.random() < _REVOKED else None
    complex_month = rng.random() < _COMPLEX
    plans = [
        CarePlanVersion(
            1, _BILLER, enrolled, enrolled if rng.random() < _COPY_GIVEN else None, False
        )
    ]
    if complex_month:
        revised = first + dt.timedelta(days=rng.randrange(5))
        plans.append(CarePlanVersion(2, _BILLER, revised, revised, True, ("caregiver assessment",)))
    others = tuple(
        OtherService(
            rng.choice(_OTHER_CODES), rng.choice((_BILLER, "dr-c")), first + dt.timedelta(days=3)
        )
        for _ in range(rng.choice((0, 0, 0, 0, 0, 0, 1, 1, 2)))
    )
    stays = (
        (
            FacilityStay(
                StayKind.INPATIENT, first + dt.timedelta(days=9), first + dt.timedelta(days=12)
            ),
        )
        if rng.random() < _IN_HOSPITAL
        else ()
    )
    death = first + dt.timedelta(days=rng.randrange(28)) if rng.random() < _DIED else None
    return PatientMonthFacts(
        service_month=first,
        practice=PracticePolicy(tz_name, rng.choice(("11", "11", "11", "22"))),
        billing_practitioner=_BILLER,
        patient=PatientStatus(rng.random() < _PART_B, death, rng.random() < _ELSEWHERE, False),
        conditions=tuple(
            Condition(code, True, True)
            for code in rng.sample(_DIAGNOSES, rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 5)))
        ),
        visits=(Visit(seen, rng.choice(("99213", "99214", "G0439")), _BILLER, True),),
        consents=(Consent(_BILLER, enrolled, revoked, ConsentMethod.VERBAL),)
        if rng.random() < _CONSENTED
        else (),
        care_plans=tuple(plans),
        complexity=Complexity(MedicalDecisionMaking.MODERATE, _BILLER) if complex_month else None,
        other_services=others,
        facility_stays=stays,
        time_entries=_entries(rng, first, ZoneInfo(tz_name)),
    )


class Command(BaseCommand):
    """Measure decisions per second of the pure rules engine on one core."""

    help = "Benchmark billing.rules.decide over seeded random patient-months (one core)."
    requires_system_checks = []  # pure computation: no database, no checks

    def add_arguments(self, parser: ArgumentParser) -> None:
        """Declare --n, --seed and --repeat."""
        parser.add_argument("--n", type=int, default=50_000, help="patient-months to decide")
        parser.add_argument("--seed", type=int, default=20_251_123, help="random seed")
        parser.add_argument(
            "--repeat", type=int, default=5, help="timed rounds; the best and the median are shown"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Generate the months, then time deciding all of them, several rounds."""
        count, seed, rounds = options["n"], options["seed"], max(1, options["repeat"])
        rng = random.Random(seed)  # noqa: S311 - reproducible test data, not cryptography
        months = [random_month(rng) for _ in range(count)]
        fees = default_fee_schedule()
        decide(months[0], fees)  # warm the per-month and time-zone caches like a running worker
        timings = []
        for _ in range(rounds):
            started = time.perf_counter()
            decisions = [decide(month, fees) for month in months]
            timings.append(time.perf_counter() - started)
        best, median = min(timings), statistics.median(timings)
        outcomes = Counter("billable" if d.billable else str(d.reason) for d in decisions)
        self.stdout.write(
            f"decided {count} patient-months (seed {seed}) in {best:.3f} s "
            f"(median of {rounds} rounds {median:.3f} s)"
        )
        self.stdout.write(f"{count / best:,.0f} decisions/s on one core (best of {rounds} rounds)")
        self.stdout.write(f"{count / median:,.0f} decisions/s on one core (median)")
        for outcome, number in outcomes.most_common():
            self.stdout.write(f"  {outcome}: {number}")
