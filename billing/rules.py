"""Pure Medicare CCM month-close rules: the facts of one patient-month in, one decision out.

The procedure is RULES.md §13, step by step and in order (the first blocker wins), with the
readings that SCENARIO_FORMAT.md pins where RULES.md leaves room. Comments cite the rule IDs of
RULES.md (``R-*`` requirements, ``POL-*`` team policies, ``AMB-*`` chosen readings).

This module is pure: no Django, no app imports, no I/O, no money. POL-FAMILY compares the two
non-complex families through the ``FamilyPrices`` protocol that the caller passes in
(``billing.pricing.FeeSchedule`` implements it), so the fee data stays outside the decision.

Rules are versioned by the calendar year of service. ``decide`` dispatches on
``facts.service_month.year`` to a ``RuleSet`` in ``RULE_SETS``. Adding a year is adding one
``RuleSet`` value; where a rule changes in some year, that year's ``RuleSet`` gets a different
value (or one new small function) and the other years stay untouched.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import lru_cache
from itertools import accumulate
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

# --- Thresholds and caps (RULES.md §1.3). Minutes are whole minutes after flooring (POL-ROUND).
STAFF_BASE_MINUTES = 20  # R-CODE-1: 99490 reports the first 20 min of clinical-staff time
STAFF_ADDON_MINUTES = 20  # R-CODE-2: 99439 needs each *full* further 20 min (40, 60)
STAFF_ADDON_CAP = 2  # R-CODE-3, AMB-1: Medicare pays 99439 at most twice a month
PHYSICIAN_BASE_MINUTES = 30  # R-CODE-1, R-CODE-7: 99491, first 30 min personally by the biller
PHYSICIAN_ADDON_MINUTES = 30  # R-CODE-2: 99437 needs each full further 30 min (60, 90)
PHYSICIAN_ADDON_CAP = 2  # R-CODE-4, AMB-4, POL-CAP-99437: MUE of 2 units
COMPLEX_BASE_MINUTES = 60  # R-CODE-1: 99487, first 60 min of clinical-staff time
COMPLEX_ADDON_MINUTES = 30  # R-CODE-2: 99489 needs each full further 30 min (90, 120, ...)
COMPLEX_ADDON_CAP = 10  # R-CODE-5: no CMS frequency cap, MUE 10 units

MIN_CHRONIC_CONDITIONS = 2  # R-ELIG-1: two or more chronic conditions
INITIATING_LOOKBACK_DAYS = 365  # R-INIT-1 (pinned): not seen in the 365 days before commencement
NO_VISIT_WARNING_DAYS = 365  # AMB-12: warn when no qualifying visit in the last 365 days
CLAIM_DIAGNOSIS_SLOTS = 12  # R-DX-1: CMS-1500 item 21 holds diagnoses A-L [U]

US_PER_SECOND = 1_000_000
US_PER_MINUTE = 60 * US_PER_SECOND  # POL-ROUND: microseconds summed, then floored to minutes
_ONE_DAY = dt.timedelta(days=1)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# --- Code sets (RULES.md §1, §2, §5, §8).
CCM_CODES = frozenset({"99490", "99439", "99491", "99437", "99487", "99489"})  # R-CODE-1
HH_HOSPICE_CODES = frozenset({"G0181", "G0182"})  # R-CONC, AMB-8: care-plan oversight
ESRD_FIRST_CODE = 90951  # R-CONC, AMB-8: ESRD monthly services 90951-90970
ESRD_LAST_CODE = 90970
ESRD_CODES = frozenset(str(code) for code in range(ESRD_FIRST_CODE, ESRD_LAST_CODE + 1))
PCM_CODES = frozenset({"99424", "99425", "99426", "99427"})  # R-PCM, AMB-9
APCM_CODES = frozenset({"G0556", "G0557", "G0558"})  # R-APCM (from CY2025), AMB-10
# R-CONC "review" rows: care-plan oversight 99339/99340, 99374-99380; prolonged 99358/99359.
REVIEW_CODES = frozenset(
    {"99339", "99340", "99358", "99359", *(str(code) for code in range(99374, 99381))}
)
TCM_CODES = frozenset({"99495", "99496"})  # R-INIT-2: TCM face-to-face visit, accepted and flagged
# R-INIT-2: E/M levels 2-5 (new and established), AWV, IPPE, and the TCM face-to-face visit.
QUALIFYING_VISIT_CODES = frozenset(
    {
        "99202",
        "99203",
        "99204",
        "99205",
        "99212",
        "99213",
        "99214",
        "99215",
        "G0438",
        "G0439",
        "G0402",
        *TCM_CODES,
    }
)


# --- Enumerations of the scenario format (SCENARIO_FORMAT.md).
class Role(StrEnum):
    """Whose time a time entry records (R-WHO-3/4/5, POL-OTHER-PRACTITIONER)."""

    CLINICAL_STAFF = "clinical_staff"
    PRACTITIONER = "practitioner"
    NON_CLINICAL = "non_clinical"


class ConsentMethod(StrEnum):
    """How consent was given (R-CONS-2)."""

    VERBAL = "verbal"
    WRITTEN = "written"


class MedicalDecisionMaking(StrEnum):
    """MDM level attested for complex CCM (R-ELIG-4)."""

    MODERATE = "moderate"
    HIGH = "high"


class StayKind(StrEnum):
    """Facility stays whose days are excluded (R-TIME-7, POL-FACILITY)."""

    INPATIENT = "inpatient"
    SNF_PART_A = "snf_part_a"


class CarePlanCopyPolicy(StrEnum):
    """POL-COPY: what a missing patient copy of the care plan does (AMB-18)."""

    BLOCK = "block"
    WARN = "warn"


class FamilyChoice(StrEnum):
    """POL-FAMILY: how the staff and physician families are chosen between (AMB-5)."""

    HIGHER_PAYMENT = "higher_payment"
    STAFF = "staff"
    PHYSICIAN = "physician"


class DateOfServicePolicy(StrEnum):
    """POL-DOS: which date the claim carries (AMB-7)."""

    THRESHOLD = "threshold"
    MONTH_END = "month_end"


class Family(StrEnum):
    """The three mutually exclusive CCM code families (R-CODE-6)."""

    STAFF = "staff"
    PHYSICIAN = "physician"
    COMPLEX = "complex"


class NotBillableReason(StrEnum):
    """The one reason that blocks a patient-month, in RULES.md §13 order."""

    NB_ELIG_CONDITIONS = "NB_ELIG_CONDITIONS"
    NB_NOT_ELIGIBLE_COVERAGE = "NB_NOT_ELIGIBLE_COVERAGE"
    NB_CONFLICT_HH_HOSPICE_ESRD = "NB_CONFLICT_HH_HOSPICE_ESRD"
    NB_OTHER_CCM_PRACTITIONER = "NB_OTHER_CCM_PRACTITIONER"
    NB_CONFLICT_PCM_SAME_PRACTITIONER = "NB_CONFLICT_PCM_SAME_PRACTITIONER"
    NB_CONFLICT_APCM_SAME_PRACTITIONER = "NB_CONFLICT_APCM_SAME_PRACTITIONER"
    NB_CONSENT_MISSING = "NB_CONSENT_MISSING"
    NB_CONSENT_REVOKED = "NB_CONSENT_REVOKED"
    NB_INITIATING_VISIT = "NB_INITIATING_VISIT"
    NB_CARE_PLAN_MISSING = "NB_CARE_PLAN_MISSING"
    NB_CARE_PLAN_COPY_MISSING = "NB_CARE_PLAN_COPY_MISSING"
    NB_TIME_BELOW_THRESHOLD = "NB_TIME_BELOW_THRESHOLD"


class BillingWarning(StrEnum):
    """Warnings; they never change the claim lines (RULES.md §13)."""

    W_APCM_OTHER_PRACTITIONER = "W_APCM_OTHER_PRACTITIONER"
    W_NO_VISIT_12M = "W_NO_VISIT_12M"
    W_CARE_PLAN_INCOMPLETE = "W_CARE_PLAN_INCOMPLETE"
    W_CARE_PLAN_COPY_MISSING = "W_CARE_PLAN_COPY_MISSING"
    W_COMPLEX_UNDER_60 = "W_COMPLEX_UNDER_60"
    W_FACILITY_DAYS_EXCLUDED = "W_FACILITY_DAYS_EXCLUDED"
    W_CONSENT_OLDER_THAN_12M = "W_CONSENT_OLDER_THAN_12M"  # AMB-11: off by default, never emitted


# --- Facts: one patient-month, mirroring ``facts`` of SCENARIO_FORMAT.md.
@dataclass(frozen=True, slots=True)
class PracticePolicy:
    """The practice's settings: time zone (POL-TZ), POS (R-POS-1) and the pinned policies."""

    timezone: str
    place_of_service: str
    complex_requires_plan_revision: bool = True  # AMB-2
    care_plan_copy: CarePlanCopyPolicy = CarePlanCopyPolicy.BLOCK  # POL-COPY
    family_choice: FamilyChoice = FamilyChoice.HIGHER_PAYMENT  # POL-FAMILY
    date_of_service: DateOfServicePolicy = DateOfServicePolicy.THRESHOLD  # POL-DOS


@dataclass(frozen=True, slots=True)
class PatientStatus:
    """Coverage and life status of the patient for the month (R-ELIG-5, R-WHO-2, POL-DOS)."""

    medicare_part_b: bool
    date_of_death: dt.date | None = None
    enrolled_elsewhere: bool = False
    blocked_by_model: bool = False


@dataclass(frozen=True, slots=True)
class Condition:
    """An ICD-10-CM diagnosis; ``chronic`` is the clinician's R-ELIG-1/2 attestation."""

    code: str
    chronic: bool
    active: bool


@dataclass(frozen=True, slots=True)
class Visit:
    """A face-to-face visit (R-INIT-2/3)."""

    date: dt.date
    code: str
    by: str
    ccm_discussed: bool


@dataclass(frozen=True, slots=True)
class Consent:
    """CCM consent given to one practitioner; ``obtained`` is a date or an aware timestamp."""

    practitioner: str
    obtained: dt.date | dt.datetime
    revoked: dt.date | None
    method: ConsentMethod


@dataclass(frozen=True, slots=True)
class CarePlanVersion:
    """One signed version of the comprehensive care plan (R-PLAN-1..6)."""

    version: int
    signed_by: str
    signed_on: dt.date
    patient_copy_on: dt.date | None
    substantial_revision: bool
    missing_elements: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Complexity:
    """Moderate or high MDM attested for the service month, and by whom (R-ELIG-4, R-WHO-6)."""

    mdm: MedicalDecisionMaking
    by: str


@dataclass(frozen=True, slots=True)
class OtherService:
    """Another service billed for the patient (R-CONC)."""

    code: str
    by: str
    date: dt.date


@dataclass(frozen=True, slots=True)
class FacilityStay:
    """An inpatient or Part A SNF stay; ``from_`` and ``to`` are local dates, both inclusive."""

    kind: StayKind
    from_: dt.date
    to: dt.date


@dataclass(frozen=True, slots=True)
class TimeEntry:
    """Logged time; ``start``/``end`` are aware; ``part_of`` names another billed service."""

    by: str
    role: Role
    start: dt.datetime
    end: dt.datetime
    part_of: str | None = None


@dataclass(frozen=True, slots=True)
class PatientMonthFacts:
    """Everything the rules read about one patient and one service month."""

    service_month: dt.date  # the first day of the month, taken in practice.timezone (POL-TZ)
    practice: PracticePolicy
    billing_practitioner: str
    patient: PatientStatus
    conditions: tuple[Condition, ...] = ()
    visits: tuple[Visit, ...] = ()
    consents: tuple[Consent, ...] = ()
    care_plans: tuple[CarePlanVersion, ...] = ()
    complexity: Complexity | None = None
    other_services: tuple[OtherService, ...] = ()
    facility_stays: tuple[FacilityStay, ...] = ()
    time_entries: tuple[TimeEntry, ...] = ()


# --- The decision.
@dataclass(frozen=True, slots=True)
class ClaimLine:
    """One claim line: a code and its units (R-UNITS-1)."""

    code: str
    units: int


@dataclass(frozen=True, slots=True)
class MonthDecision:
    """The outcome of one patient-month: claim lines, or the one reason why not, plus warnings."""

    lines: tuple[ClaimLine, ...]
    date_of_service: dt.date | None
    place_of_service: str | None
    reason: NotBillableReason | None
    warnings: frozenset[BillingWarning]
    counted_minutes: int
    unpaid_minutes: int
    diagnoses: tuple[str, ...]
    explanation: tuple[str, ...]
    family: Family | None = None
    practitioner_minutes: int = 0  # the billing practitioner's own counted minutes (R-WHO-5)

    @property
    def billable(self) -> bool:
        """Return True when the month has claim lines."""
        return bool(self.lines)


class FamilyPrices(Protocol):
    """National non-facility amounts, as POL-FAMILY compares the families (RULES.md §12)."""

    def national_non_facility_cents(self, code: str, on: dt.date) -> int:
        """Return the national non-facility amount in cents of one unit of ``code`` on ``on``."""


class UnsupportedServiceYearError(ValueError):
    """The service year has no rule set (RULES.md covers CY2024-CY2026)."""


# --- Per-year rule sets.
@dataclass(frozen=True, slots=True)
class CodeFamily:
    """A base code with its add-on: thresholds, increment and cap (RULES.md §1.3 formulas)."""

    family: Family
    base_code: str
    addon_code: str
    base_minutes: int
    addon_minutes: int
    addon_cap: int
    lines_by_addon_units: tuple[tuple[ClaimLine, ...], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        """Precompute the claim lines for every add-on unit count, base code first."""
        base = ClaimLine(self.base_code, 1)
        lines = tuple(
            (base,) if units == 0 else (base, ClaimLine(self.addon_code, units))
            for units in range(self.addon_cap + 1)
        )
        object.__setattr__(self, "lines_by_addon_units", lines)

    def addon_units(self, minutes: int) -> int:
        """Return the add-on units that ``minutes`` (at least the base threshold) earn, capped."""
        # R-CODE-2: only full increments count; the CPT midpoint rule does not apply.
        return min(self.addon_cap, (minutes - self.base_minutes) // self.addon_minutes)

    def threshold_minutes(self, addon_units: int) -> int:
        """Return the cumulative minutes at which the given number of add-on units is reached."""
        return self.base_minutes + addon_units * self.addon_minutes

    def describe(self) -> str:
        """Return the family's codes for sentences, e.g. ``99490/99439``."""
        return f"{self.base_code}/{self.addon_code}"


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules of one service year: families, code sets and look-back windows."""

    year: int
    staff: CodeFamily
    physician: CodeFamily
    complex: CodeFamily
    ccm_codes: frozenset[str]
    hh_hospice_esrd_codes: frozenset[str]
    pcm_codes: frozenset[str]
    apcm_codes: frozenset[str]
    review_codes: frozenset[str]
    qualifying_visit_codes: frozenset[str]
    flagged_visit_codes: frozenset[str]
    min_chronic_conditions: int = MIN_CHRONIC_CONDITIONS
    initiating_lookback_days: int = INITIATING_LOOKBACK_DAYS
    no_visit_warning_days: int = NO_VISIT_WARNING_DAYS


STAFF_FAMILY = CodeFamily(
    Family.STAFF, "99490", "99439", STAFF_BASE_MINUTES, STAFF_ADDON_MINUTES, STAFF_ADDON_CAP
)
PHYSICIAN_FAMILY = CodeFamily(
    Family.PHYSICIAN,
    "99491",
    "99437",
    PHYSICIAN_BASE_MINUTES,
    PHYSICIAN_ADDON_MINUTES,
    PHYSICIAN_ADDON_CAP,
)
COMPLEX_FAMILY = CodeFamily(
    Family.COMPLEX,
    "99487",
    "99489",
    COMPLEX_BASE_MINUTES,
    COMPLEX_ADDON_MINUTES,
    COMPLEX_ADDON_CAP,
)

CY2024 = RuleSet(
    year=2024,
    staff=STAFF_FAMILY,
    physician=PHYSICIAN_FAMILY,
    complex=COMPLEX_FAMILY,
    ccm_codes=CCM_CODES,
    hh_hospice_esrd_codes=HH_HOSPICE_CODES | ESRD_CODES,
    pcm_codes=PCM_CODES,
    apcm_codes=frozenset(),  # R-APCM: G0556-G0558 exist only from 1 Jan 2025
    review_codes=REVIEW_CODES,
    qualifying_visit_codes=QUALIFYING_VISIT_CODES,
    flagged_visit_codes=TCM_CODES,
)
CY2025 = replace(CY2024, year=2025, apcm_codes=APCM_CODES)  # R-APCM: created by 89 FR 97710
CY2026 = replace(CY2025, year=2026)  # §1.5: no structural change to the CCM codes in 2026

RULE_SETS: Mapping[int, RuleSet] = MappingProxyType({2024: CY2024, 2025: CY2025, 2026: CY2026})


def rule_set_for(year: int) -> RuleSet:
    """Return the rule set of a service year, or raise UnsupportedServiceYearError."""
    try:
        return RULE_SETS[year]
    except KeyError:
        supported = ", ".join(f"CY{known}" for known in sorted(RULE_SETS))
        message = f"service year {year} has no rule set (supported: {supported})"
        raise UnsupportedServiceYearError(message) from None


# --- Time helpers.
@dataclass(frozen=True, slots=True)
class _MonthFrame:
    """The service month's local bounds as epoch microseconds (R-TIME-6, POL-TZ)."""

    tz: ZoneInfo
    label: str
    first_day: dt.date
    last_day: dt.date
    start_us: int
    end_us: int


def _us(moment: dt.datetime) -> int:
    """Return an aware datetime as integer epoch microseconds (exact at microsecond precision)."""
    return round(moment.timestamp() * US_PER_SECOND)


@lru_cache(maxsize=16384)
def _midnight_us(day: dt.date, tz: ZoneInfo) -> int:
    """Return the instant of local midnight starting ``day`` in ``tz``, in epoch microseconds."""
    return _us(dt.datetime(day.year, day.month, day.day, tzinfo=tz))


def _local_date(instant_us: int, tz: ZoneInfo) -> dt.date:
    """Return the local date in ``tz`` of an instant given in epoch microseconds."""
    return (_EPOCH + dt.timedelta(microseconds=instant_us)).astimezone(tz).date()


@lru_cache(maxsize=4096)
def _month_frame(timezone: str, year: int, month: int) -> _MonthFrame:
    """Return the local bounds ``[first day 00:00, next month 00:00)`` of a month (POL-TZ)."""
    tz = ZoneInfo(timezone)
    first_day = dt.date(year, month, 1)
    next_first = dt.date(year + month // 12, month % 12 + 1, 1)
    return _MonthFrame(
        tz=tz,
        label=f"{year:04d}-{month:02d}",
        first_day=first_day,
        last_day=next_first - _ONE_DAY,
        start_us=_midnight_us(first_day, tz),
        end_us=_midnight_us(next_first, tz),
    )


def _merge(intervals: list[tuple[int, int]]) -> tuple[list[tuple[int, int]], int]:
    """Return the union of intervals, sorted, and its total length (R-TIME-5, POL-OVERLAP)."""
    if not intervals:
        return [], 0
    intervals.sort()
    merged: list[tuple[int, int]] = []
    total = 0
    current_start, current_end = intervals[0]
    for start, end in intervals:
        if start > current_end:
            merged.append((current_start, current_end))
            total += current_end - current_start
            current_start, current_end = start, end
        elif end > current_end:
            current_end = end
    merged.append((current_start, current_end))
    return merged, total + current_end - current_start


def _threshold_instant(merged: list[tuple[int, int]], minutes: int) -> int:
    """Return the instant the merged pool's running total first reaches ``minutes`` (POL-DOS)."""
    needed = minutes * US_PER_MINUTE
    running = list(accumulate(end - start for start, end in merged))
    index = bisect_left(running, needed)
    return merged[index][1] - (running[index] - needed)


def _plural(count: int, word: str) -> str:
    """Return ``count`` with ``word``, pluralised with an ``s`` when needed."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def format_lines(lines: Iterable[ClaimLine]) -> str:
    """Return claim lines as text, e.g. ``99490 x1 + 99439 x2``, or ``none``."""
    return " + ".join(f"{line.code} x{line.units}" for line in lines) or "none"


def format_cents(cents: int) -> str:
    """Return an amount in cents as dollars, e.g. ``$152.35``."""
    return f"${cents // 100:,}.{cents % 100:02d}"


# --- The decision procedure (RULES.md §13).
class _BlockedError(Exception):
    """Internal: a step found the month's blocking reason (the first blocker wins)."""

    def __init__(self, reason: NotBillableReason, sentence: str) -> None:
        super().__init__(reason, sentence)
        self.reason = reason
        self.sentence = sentence


@dataclass(frozen=True, slots=True)
class _Tally:
    """Merged counted time of the month (§13 step 7)."""

    pooled: list[tuple[int, int]]
    pooled_us: int
    own: list[tuple[int, int]]
    own_us: int
    dropped_us: tuple[int, ...]


# Why an entry was dropped, in the pinned order of SCENARIO_FORMAT.md, with the rule it follows.
_DROP_CAUSES = (
    "before the consent moment (POL-CONSENT)",
    "before the initiating visit's day (POL-INIT)",
    "during an inpatient or Part A SNF stay (POL-FACILITY)",
    "after the date of death",
    "tagged to another billed service or visit (R-TIME-3/4)",
    "by non-clinical staff (R-WHO-4)",
    "by a practitioner other than the billing practitioner (POL-OTHER-PRACTITIONER)",
)
_BEFORE_CONSENT, _BEFORE_VISIT, _IN_FACILITY, _AFTER_DEATH, _PART_OF, _NON_CLINICAL, _OTHER = range(
    len(_DROP_CAUSES)
)


def decide(facts: PatientMonthFacts, prices: FamilyPrices) -> MonthDecision:
    """Decide one patient-month following RULES.md §13 with the rules of its service year.

    ``prices`` gives the service year's national non-facility amounts for POL-FAMILY. Raises
    UnsupportedServiceYearError for a year without a rule set, and ZoneInfoNotFoundError for an
    unknown practice time zone. Datetimes in ``facts`` must be aware.
    """
    # Step 1: service month in the practice time zone; rules come from the service year (POL-TZ).
    rules = rule_set_for(facts.service_month.year)
    return _decide(rules, facts, prices)


def _decide(rules: RuleSet, facts: PatientMonthFacts, prices: FamilyPrices) -> MonthDecision:
    """Run §13 steps 2-9 for one patient-month under one year's rules."""
    practice = facts.practice
    frame = _month_frame(practice.timezone, facts.service_month.year, facts.service_month.month)
    warnings: list[BillingWarning] = []
    notes = [f"CY{rules.year} rules; service month {frame.label} in {practice.timezone} (POL-TZ)."]
    diagnoses = tuple(
        dict.fromkeys(c.code for c in facts.conditions if c.chronic and c.active)
    )  # R-DX-1, AMB-20: every active attested chronic diagnosis, first mention first
    try:
        _check_eligibility(rules, facts, diagnoses)
        _check_conflicts(rules, facts, frame, warnings, notes)
        consent_us, commencement = _check_consent(facts, frame)
        visit_us = _check_initiating_visit(
            rules=rules,
            facts=facts,
            frame=frame,
            commencement=commencement,
            warnings=warnings,
            notes=notes,
        )
        _check_care_plan(facts, frame, warnings, notes)
    except _BlockedError as blocked:
        notes.append(blocked.sentence)
        return _not_billable(blocked.reason, warnings, notes, 0, 0)

    # Step 7: countable time, merged across people, floored to minutes (POL-ROUND).
    tally = _count_time(facts, frame, consent_us, visit_us)
    counted = tally.pooled_us // US_PER_MINUTE
    own = tally.own_us // US_PER_MINUTE
    _note_counting(tally, counted, own, notes)
    if tally.dropped_us[_IN_FACILITY]:
        warnings.append(BillingWarning.W_FACILITY_DAYS_EXCLUDED)  # POL-FACILITY, AMB-14

    # Step 8: choose the family.
    family = _choose_family(
        rules=rules,
        facts=facts,
        frame=frame,
        counted=counted,
        own=own,
        prices=prices,
        warnings=warnings,
        notes=notes,
    )
    if family is None:
        notes.append(_below_threshold_sentence(rules, facts, frame, counted, own))
        return _not_billable(
            NotBillableReason.NB_TIME_BELOW_THRESHOLD, warnings, notes, counted, own
        )

    # Step 9: units with caps, date of service, place of service, diagnoses.
    if family.family is Family.PHYSICIAN:
        pool, pool_minutes = tally.own, own  # R-CODE-7: the biller's personal minutes only
    else:
        pool, pool_minutes = tally.pooled, counted
    addon_units = family.addon_units(pool_minutes)
    lines = family.lines_by_addon_units[addon_units]
    reached = family.threshold_minutes(addon_units)
    cap_minutes = family.threshold_minutes(family.addon_cap)
    unpaid = max(0, pool_minutes - cap_minutes)
    notes.append(f"Billed {format_lines(lines)} ({family.family} family, R-CODE-1/2).")
    if unpaid:
        notes.append(
            f"{_plural(unpaid, 'counted minute')} beyond {cap_minutes} are unpaid: "
            f"{family.addon_code} is capped at {family.addon_cap} units (RULES.md §1.3)."
        )
    elif addon_units < family.addon_cap:
        more = family.threshold_minutes(addon_units + 1) - pool_minutes
        notes.append(
            f"{_plural(more, 'more minute')} would reach another {family.addon_code} "
            f"({family.threshold_minutes(addon_units + 1)} minutes)."
        )
    date_of_service = _date_of_service(facts, frame, pool, reached, notes)
    return MonthDecision(
        lines=lines,
        date_of_service=date_of_service,
        place_of_service=practice.place_of_service,  # R-POS-1: the billing location
        reason=None,
        warnings=frozenset(warnings),
        counted_minutes=counted,
        unpaid_minutes=unpaid,
        diagnoses=diagnoses[:CLAIM_DIAGNOSIS_SLOTS],
        explanation=tuple(notes),
        family=family.family,
        practitioner_minutes=own,
    )


def _not_billable(
    reason: NotBillableReason,
    warnings: list[BillingWarning],
    notes: list[str],
    counted: int,
    own: int,
) -> MonthDecision:
    """Return the decision for a blocked month: no lines, no DOS, no POS, no diagnoses."""
    return MonthDecision(
        lines=(),
        date_of_service=None,
        place_of_service=None,
        reason=reason,
        warnings=frozenset(warnings),
        counted_minutes=counted,
        unpaid_minutes=0,
        diagnoses=(),
        explanation=tuple(notes),
        practitioner_minutes=own,
    )


def _check_eligibility(
    rules: RuleSet, facts: PatientMonthFacts, diagnoses: tuple[str, ...]
) -> None:
    """Step 2: two active chronic conditions, then Part B FFS and no excluding model."""
    if len(diagnoses) < rules.min_chronic_conditions:  # R-ELIG-1/2
        listed = ", ".join(diagnoses) or "none"
        raise _BlockedError(
            NotBillableReason.NB_ELIG_CONDITIONS,
            f"Not billable: {_plural(len(diagnoses), 'active attested chronic condition')} "
            f"({listed}); CCM needs at least {rules.min_chronic_conditions} (R-ELIG-1/2).",
        )
    patient = facts.patient
    if not patient.medicare_part_b:  # R-ELIG-5: Original Medicare Part B FFS only
        raise _BlockedError(
            NotBillableReason.NB_NOT_ELIGIBLE_COVERAGE,
            "Not billable: the patient is not a Medicare Part B fee-for-service beneficiary "
            "(R-ELIG-5).",
        )
    if patient.blocked_by_model:  # R-ELIG-5: attributed to a CMS model that excludes CCM
        raise _BlockedError(
            NotBillableReason.NB_NOT_ELIGIBLE_COVERAGE,
            "Not billable: the patient is attributed to a CMS model that excludes CCM (R-ELIG-5).",
        )


def _check_conflicts(
    rules: RuleSet,
    facts: PatientMonthFacts,
    frame: _MonthFrame,
    warnings: list[BillingWarning],
    notes: list[str],
) -> None:
    """Step 3: services billed this month that exclude CCM, in the §13 order (R-CONC)."""
    biller = facts.billing_practitioner
    first_day, last_day = frame.first_day, frame.last_day
    services = [s for s in facts.other_services if first_day <= s.date <= last_day]
    if not services and not facts.patient.enrolled_elsewhere:
        return
    blocking = sorted({s.code for s in services if s.code in rules.hh_hospice_esrd_codes})
    if blocking:  # R-CONC, AMB-8: G0181/G0182/ESRD by anyone (conservative)
        raise _BlockedError(
            NotBillableReason.NB_CONFLICT_HH_HOSPICE_ESRD,
            f"Not billable: {', '.join(blocking)} billed this month; home-health or hospice "
            "oversight and ESRD monthly services exclude CCM (R-CONC, AMB-8).",
        )
    others = sorted({s.by for s in services if s.code in rules.ccm_codes and s.by != biller})
    if facts.patient.enrolled_elsewhere or others:  # R-WHO-2: one CCM practitioner a month
        who = f"CCM is billed by {', '.join(others)}" if others else "enrolled elsewhere"
        raise _BlockedError(
            NotBillableReason.NB_OTHER_CCM_PRACTITIONER,
            f"Not billable: {who} this month; only one practitioner is paid for CCM (R-WHO-2).",
        )
    own_codes = {s.code for s in services if s.by == biller}
    if own_codes & rules.pcm_codes:  # R-PCM, AMB-9: same practitioner only
        raise _BlockedError(
            NotBillableReason.NB_CONFLICT_PCM_SAME_PRACTITIONER,
            f"Not billable: {biller} bills PCM this month; the same practitioner cannot bill "
            "PCM and CCM (R-PCM, AMB-9).",
        )
    if own_codes & rules.apcm_codes:  # R-APCM, AMB-10: same practitioner blocks
        raise _BlockedError(
            NotBillableReason.NB_CONFLICT_APCM_SAME_PRACTITIONER,
            f"Not billable: {biller} bills APCM this month; APCM bundles CCM (R-APCM, AMB-10).",
        )
    if any(s.code in rules.apcm_codes and s.by != biller for s in services):  # AMB-10: warn
        warnings.append(BillingWarning.W_APCM_OTHER_PRACTITIONER)
        notes.append("Warning: another practitioner bills APCM this month (AMB-10).")
    review = sorted(own_codes & rules.review_codes)
    if review:  # R-CONC review rows: allowed, but a person should look
        notes.append(
            f"Review: {biller} also bills {', '.join(review)} this month; CCM minutes must not "
            "overlap its countable time (R-CONC)."
        )


def _consent_moment(obtained: dt.date | dt.datetime, tz: ZoneInfo) -> tuple[dt.date, int]:
    """Return the local date and the instant from which a consent counts (POL-CONSENT, AMB-16)."""
    if isinstance(obtained, dt.datetime):  # a timestamp: only minutes at or after it count
        return obtained.astimezone(tz).date(), _us(obtained)
    return obtained, _midnight_us(obtained, tz)  # a date only: minutes on that date count


def _check_consent(facts: PatientMonthFacts, frame: _MonthFrame) -> tuple[int, dt.date]:
    """Step 4: consent to this biller on file by the month's end and not revoked earlier.

    Returns the consent moment (epoch microseconds) and the commencement date, which is the
    earliest consent to the billing practitioner (pinned reading).
    """
    biller = facts.billing_practitioner
    on_file = [
        (*_consent_moment(consent.obtained, frame.tz), consent.revoked)
        for consent in facts.consents
        if consent.practitioner == biller  # R-CONS-4/5: consent is per billing practitioner
    ]
    on_file = [entry for entry in on_file if entry[0] <= frame.last_day]  # R-CONS-1
    if not on_file:
        raise _BlockedError(
            NotBillableReason.NB_CONSENT_MISSING,
            f"Not billable: no consent to {biller} is documented on or before {frame.last_day} "
            "(R-CONS-1/2).",
        )
    # POL-REVOKE, AMB-17: a revocation takes effect at the end of its month.
    in_force = [
        moment for _, moment, revoked in on_file if revoked is None or revoked >= frame.first_day
    ]
    if not in_force:
        raise _BlockedError(
            NotBillableReason.NB_CONSENT_REVOKED,
            f"Not billable: consent to {biller} was revoked before {frame.first_day} and no new "
            "consent exists (POL-REVOKE).",
        )
    return min(in_force), min(day for day, _, _ in on_file)


def _check_initiating_visit(
    *,
    rules: RuleSet,
    facts: PatientMonthFacts,
    frame: _MonthFrame,
    commencement: dt.date,
    warnings: list[BillingWarning],
    notes: list[str],
) -> int:
    """Step 5: the initiating visit (R-INIT-1..3, POL-INIT, AMB-12).

    Returns the instant before which entries are dropped: local midnight of the initiating visit
    when one is required, else 0 (no cut-off).
    """
    biller = facts.billing_practitioner
    qualifying = [
        v for v in facts.visits if v.by == biller and v.code in rules.qualifying_visit_codes
    ]  # R-INIT-2/3: a qualifying visit furnished by the billing practitioner
    lookback_start = commencement - dt.timedelta(days=rules.initiating_lookback_days)
    if any(lookback_start <= v.date < commencement for v in qualifying):  # R-INIT-1: not required
        recent_start = frame.last_day - dt.timedelta(days=rules.no_visit_warning_days)
        if not any(recent_start <= v.date <= frame.last_day for v in qualifying):  # AMB-12
            warnings.append(BillingWarning.W_NO_VISIT_12M)
            notes.append(
                f"Warning: {biller} has not seen the patient in the {rules.no_visit_warning_days} "
                f"days up to {frame.last_day} (AMB-12)."
            )
        return 0
    initiating = [
        v for v in qualifying if v.ccm_discussed and commencement <= v.date <= frame.last_day
    ]
    if not initiating:  # R-INIT-1/3: new, or not seen in the year before CCM commencement
        raise _BlockedError(
            NotBillableReason.NB_INITIATING_VISIT,
            f"Not billable: {biller} had no qualifying visit in the "
            f"{rules.initiating_lookback_days} days before CCM began on {commencement}, and no "
            "qualifying visit with CCM "
            f"discussed from then to {frame.last_day} (R-INIT-1/2/3).",
        )
    visit = min(initiating, key=lambda v: v.date)
    notes.append(
        f"Initiating visit {visit.code} on {visit.date}; earlier minutes do not count (POL-INIT)."
    )
    if visit.code in rules.flagged_visit_codes:  # R-INIT-2 [U]: TCM visit accepted and flagged
        notes.append(f"Review: the initiating visit is the TCM visit {visit.code} (R-INIT-2 [U]).")
    return _midnight_us(visit.date, frame.tz)


def _check_care_plan(
    facts: PatientMonthFacts,
    frame: _MonthFrame,
    warnings: list[BillingWarning],
    notes: list[str],
) -> None:
    """Step 6: the care plan in effect, its patient copy and its elements (R-PLAN, POL-COPY)."""
    biller = facts.billing_practitioner
    in_effect: CarePlanVersion | None = None
    for plan in facts.care_plans:  # pinned: highest version signed by the biller by month end
        if (
            plan.signed_by == biller
            and plan.signed_on <= frame.last_day
            and (in_effect is None or plan.version > in_effect.version)
        ):
            in_effect = plan
    if in_effect is None:  # R-PLAN-1, R-PLAN-5
        raise _BlockedError(
            NotBillableReason.NB_CARE_PLAN_MISSING,
            f"Not billable: no care plan signed by {biller} on or before {frame.last_day} "
            "(R-PLAN-1).",
        )
    copy_on = in_effect.patient_copy_on
    if copy_on is None or copy_on > frame.last_day:  # R-PLAN-4, POL-COPY, AMB-18
        if facts.practice.care_plan_copy == CarePlanCopyPolicy.BLOCK:
            raise _BlockedError(
                NotBillableReason.NB_CARE_PLAN_COPY_MISSING,
                f"Not billable: no patient copy of care plan version {in_effect.version} is "
                f"documented on or before {frame.last_day} (R-PLAN-4, POL-COPY).",
            )
        warnings.append(BillingWarning.W_CARE_PLAN_COPY_MISSING)
        notes.append(
            f"Warning: no patient copy of care plan version {in_effect.version} is documented "
            "(POL-COPY configured to warn)."
        )
    if in_effect.missing_elements:  # R-PLAN-2: typical elements warn, never block
        warnings.append(BillingWarning.W_CARE_PLAN_INCOMPLETE)
        notes.append(
            f"Warning: care plan version {in_effect.version} lacks "
            f"{', '.join(in_effect.missing_elements)} (R-PLAN-2)."
        )


def _count_time(
    facts: PatientMonthFacts, frame: _MonthFrame, consent_us: int, visit_us: int
) -> _Tally:
    """Step 7: clip entries to the month, drop the ones that do not count, merge the rest.

    Each entry is judged by its clipped start, in the pinned order of SCENARIO_FORMAT.md.
    """
    tz = frame.tz
    month_start, month_end = frame.start_us, frame.end_us
    stays = [
        (_midnight_us(stay.from_, tz), _midnight_us(stay.to + _ONE_DAY, tz))
        for stay in facts.facility_stays
    ]
    death = facts.patient.date_of_death
    death_end = month_end if death is None else _midnight_us(death + _ONE_DAY, tz)
    biller = facts.billing_practitioner
    practitioner, non_clinical = Role.PRACTITIONER, Role.NON_CLINICAL  # looked up once per month
    pooled: list[tuple[int, int]] = []
    own: list[tuple[int, int]] = []
    dropped = [0] * len(_DROP_CAUSES)
    for entry in facts.time_entries:
        # R-TIME-6: only the part inside the month counts (``_us`` inlined: this is the hot loop).
        start = max(round(entry.start.timestamp() * US_PER_SECOND), month_start)
        end = min(round(entry.end.timestamp() * US_PER_SECOND), month_end)
        if end <= start:  # R-TIME-1: outside this month
            continue
        role = entry.role
        if start < consent_us:  # POL-CONSENT
            cause = _BEFORE_CONSENT
        elif start < visit_us:  # POL-INIT
            cause = _BEFORE_VISIT
        elif stays and any(low <= start < high for low, high in stays):  # R-TIME-7
            cause = _IN_FACILITY
        elif start >= death_end:  # no service after the date of death
            cause = _AFTER_DEATH
        elif entry.part_of is not None:  # R-TIME-3/4, POL-F2F
            cause = _PART_OF
        elif role == non_clinical:  # R-WHO-4
            cause = _NON_CLINICAL
        elif role == practitioner and entry.by != biller:  # POL-OTHER-PRACTITIONER, AMB-15
            cause = _OTHER
        else:
            pooled.append((start, end))
            if role == practitioner:  # R-WHO-5: the billing practitioner's own time
                own.append((start, end))
            continue
        dropped[cause] += end - start
    pooled_merged, pooled_us = _merge(pooled)  # R-TIME-5, POL-OVERLAP
    own_merged, own_us = _merge(own)
    return _Tally(pooled_merged, pooled_us, own_merged, own_us, tuple(dropped))


def _note_counting(tally: _Tally, counted: int, own: int, notes: list[str]) -> None:
    """Explain what was counted and what was left out."""
    notes.append(
        f"Counted {_plural(counted, 'minute')} of clinical-staff and billing-practitioner time "
        f"(overlaps counted once, R-TIME-5; seconds summed then floored, POL-ROUND), "
        f"{own} of them the billing practitioner's own."
    )
    excluded = [
        f"{dropped_us // US_PER_MINUTE} min {cause}"
        for cause, dropped_us in zip(_DROP_CAUSES, tally.dropped_us, strict=True)
        if dropped_us
    ]
    if excluded:
        notes.append(f"Not counted: {'; '.join(excluded)}.")


def _complex_attested(facts: PatientMonthFacts, frame: _MonthFrame) -> bool:
    """Return True when complex CCM's extra elements are met this month (R-ELIG-4, AMB-2)."""
    complexity = facts.complexity
    biller = facts.billing_practitioner
    if complexity is None or complexity.by != biller:  # R-WHO-6: MDM by the reporting practitioner
        return False
    if not facts.practice.complex_requires_plan_revision:  # AMB-2 switched off by the practice
        return True
    return any(  # R-PLAN-6: established or substantially revised in the month, by the biller
        plan.substantial_revision
        and plan.signed_by == biller
        and frame.first_day <= plan.signed_on <= frame.last_day
        for plan in facts.care_plans
    )


def _choose_family(
    *,
    rules: RuleSet,
    facts: PatientMonthFacts,
    frame: _MonthFrame,
    counted: int,
    own: int,
    prices: FamilyPrices,
    warnings: list[BillingWarning],
    notes: list[str],
) -> CodeFamily | None:
    """Step 8: complex when attested and at 60 min, else the staff or the physician family."""
    complex_attested = _complex_attested(facts, frame)
    if complex_attested and counted >= rules.complex.base_minutes:  # POL-COMPLEX, AMB-6
        notes.append(
            "Complex criteria met (moderate/high MDM and care-plan revision as required) with "
            f"{counted} minutes: complex CCM is reported (POL-COMPLEX, AMB-6)."
        )
        return rules.complex
    staff_reached = counted >= rules.staff.base_minutes
    physician_reached = own >= rules.physician.base_minutes
    choice = facts.practice.family_choice
    if physician_reached and (
        choice == FamilyChoice.PHYSICIAN
        or not staff_reached
        or (
            choice == FamilyChoice.HIGHER_PAYMENT
            and _physician_pays_more(
                rules=rules, counted=counted, own=own, prices=prices, on=frame.last_day, notes=notes
            )
        )
    ):  # POL-FAMILY, AMB-5: one family only, never the same minute twice (R-WHO-5)
        family = rules.physician
    elif staff_reached:
        family = rules.staff
    else:
        return None
    if choice != FamilyChoice.HIGHER_PAYMENT and physician_reached:
        notes.append(f"The practice pins the {choice} family where it is reached (POL-FAMILY).")
    if complex_attested:  # POL-FALLBACK, AMB-3: complex attested but under 60 minutes
        warnings.append(BillingWarning.W_COMPLEX_UNDER_60)
        notes.append(
            f"Warning: complex criteria are met but only {counted} minutes were counted; the "
            f"non-complex family is billed instead (POL-FALLBACK, AMB-3)."
        )
    return family


def _physician_pays_more(
    *,
    rules: RuleSet,
    counted: int,
    own: int,
    prices: FamilyPrices,
    on: dt.date,
    notes: list[str],
) -> bool:
    """POL-FAMILY: True when the physician family pays more than the staff family (staff on tie)."""
    staff_lines = rules.staff.lines_by_addon_units[rules.staff.addon_units(counted)]
    physician_lines = rules.physician.lines_by_addon_units[rules.physician.addon_units(own)]
    staff_cents = sum(
        line.units * prices.national_non_facility_cents(line.code, on) for line in staff_lines
    )
    physician_cents = sum(
        line.units * prices.national_non_facility_cents(line.code, on) for line in physician_lines
    )
    physician_wins = physician_cents > staff_cents
    winner, loser = (
        ((physician_lines, physician_cents), (staff_lines, staff_cents))
        if physician_wins
        else ((staff_lines, staff_cents), (physician_lines, physician_cents))
    )
    verb = "pays more than" if winner[1] != loser[1] else "ties with (staff family wins)"
    notes.append(
        f"{format_lines(winner[0])} ({format_cents(winner[1])}) {verb} "
        f"{format_lines(loser[0])} ({format_cents(loser[1])}) at CY{rules.year} national "
        "non-facility rates (POL-FAMILY, AMB-5)."
    )
    return physician_wins


def _below_threshold_sentence(
    rules: RuleSet, facts: PatientMonthFacts, frame: _MonthFrame, counted: int, own: int
) -> str:
    """Explain NB_TIME_BELOW_THRESHOLD with the minutes still missing (R-CODE-2, AMB-21)."""
    staff = rules.staff
    sentence = (
        f"Not billable: {_plural(counted, 'minute')} counted; "
        f"{_plural(staff.base_minutes - counted, 'more minute')} would reach {staff.base_code} "
        f"({staff.base_minutes} minutes) (R-CODE-2, AMB-21)."
    )
    if own:
        physician = rules.physician
        sentence += (
            f" The billing practitioner's own {own} minutes are "
            f"{physician.base_minutes - own} short of {physician.base_code}."
        )
    if _complex_attested(facts, frame):
        sentence += (
            f" Complex CCM ({rules.complex.base_code}) would need {rules.complex.base_minutes}."
        )
    return sentence


def _date_of_service(
    facts: PatientMonthFacts,
    frame: _MonthFrame,
    pool: list[tuple[int, int]],
    reached_minutes: int,
    notes: list[str],
) -> dt.date:
    """Step 9: POL-DOS, always inside the month and never after the date of death."""
    death = facts.patient.date_of_death
    if facts.practice.date_of_service == DateOfServicePolicy.MONTH_END:
        day = frame.last_day
        why = "the month's last day (POL-DOS month_end)"
    else:
        # A threshold completed exactly at local midnight belongs to the day that ended.
        instant = _threshold_instant(pool, reached_minutes)
        day = _local_date(instant - 1, frame.tz)
        why = f"the day the {reached_minutes}-minute threshold of the last billed unit was reached"
    if death is not None and death < day:  # POL-DOS: never after the patient's death
        day = death
        why += ", capped at the date of death"
    notes.append(f"Date of service {day}: {why} (POL-DOS).")
    return day
