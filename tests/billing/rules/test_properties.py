"""Invariants of the decision over generated patient-months (hypothesis)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.rules import (
    COMPLEX_FAMILY,
    PHYSICIAN_FAMILY,
    STAFF_FAMILY,
    CarePlanCopyPolicy,
    CarePlanVersion,
    CodeFamily,
    Consent,
    ConsentMethod,
    DateOfServicePolicy,
    FacilityStay,
    Family,
    FamilyChoice,
    MonthDecision,
    PatientMonthFacts,
    PatientStatus,
    PracticePolicy,
    Role,
    StayKind,
    TimeEntry,
    Visit,
    decide,
)
from tests.billing.rules.builders import BASELINE, BILLER, COMPLEXITY, FEES

PROPERTY_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Pacific/Honolulu")
FAMILIES: dict[Family, CodeFamily] = {
    Family.STAFF: STAFF_FAMILY,
    Family.PHYSICIAN: PHYSICIAN_FAMILY,
    Family.COMPLEX: COMPLEX_FAMILY,
}
PEOPLE = (
    ("rn-1", Role.CLINICAL_STAFF),
    ("ma-1", Role.CLINICAL_STAFF),
    (BILLER, Role.PRACTITIONER),
    ("dr-b", Role.PRACTITIONER),
    ("front-1", Role.NON_CLINICAL),
)


def month_bounds(first: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """Return the local start of the month and of the next month."""
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return (
        dt.datetime(first.year, first.month, 1, tzinfo=tz),
        dt.datetime(following.year, following.month, 1, tzinfo=tz),
    )


@st.composite
def entries(draw: st.DrawFn, start: dt.datetime, *, max_size: int = 12) -> tuple[TimeEntry, ...]:
    """Entries from two days before the month to three days after it, any length up to 4 h."""
    result = []
    for _ in range(draw(st.integers(0, max_size))):
        offset = dt.timedelta(minutes=draw(st.integers(-2 * 1440, 34 * 1440)))
        begin = (start.astimezone(dt.UTC) + offset).astimezone(start.tzinfo)
        length = dt.timedelta(seconds=draw(st.integers(0, 240 * 60)))
        by, role = draw(st.sampled_from(PEOPLE))
        part_of = draw(st.sampled_from((None, None, None, None, "99457", "visit")))
        result.append(TimeEntry(by, role, begin, begin + length, part_of))
    return tuple(result)


@st.composite
def patient_months(draw: st.DrawFn) -> PatientMonthFacts:
    """Any patient-month of CY2024-CY2026 with the baseline's eligibility."""
    first = dt.date(draw(st.sampled_from((2024, 2025, 2026))), draw(st.integers(1, 12)), 1)
    tz_name = draw(st.sampled_from(ZONES))
    start, _ = month_bounds(first, ZoneInfo(tz_name))
    enrolled = first + dt.timedelta(days=draw(st.integers(-120, 20)))
    revision_day = first + dt.timedelta(days=draw(st.integers(0, 27)))
    plans = (
        CarePlanVersion(1, BILLER, enrolled, enrolled, substantial_revision=False),
        *(
            (CarePlanVersion(2, BILLER, revision_day, revision_day, substantial_revision=True),)
            if draw(st.booleans())
            else ()
        ),
    )
    death = draw(st.none() | st.integers(-5, 35).map(lambda days: first + dt.timedelta(days=days)))
    stays = draw(
        st.lists(
            st.tuples(st.integers(-5, 30), st.integers(0, 10)).map(
                lambda pair: FacilityStay(
                    StayKind.INPATIENT,
                    first + dt.timedelta(days=pair[0]),
                    first + dt.timedelta(days=pair[0] + pair[1]),
                )
            ),
            max_size=1,
        )
    )
    return replace(
        BASELINE,
        service_month=first,
        practice=PracticePolicy(
            timezone=tz_name,
            place_of_service="11",
            complex_requires_plan_revision=draw(st.booleans()),
            care_plan_copy=draw(st.sampled_from(CarePlanCopyPolicy)),
            family_choice=draw(st.sampled_from(FamilyChoice)),
            date_of_service=draw(st.sampled_from(DateOfServicePolicy)),
        ),
        patient=PatientStatus(medicare_part_b=True, date_of_death=death),
        visits=(Visit(enrolled - dt.timedelta(days=30), "99214", BILLER, ccm_discussed=True),),
        consents=(Consent(BILLER, enrolled, None, ConsentMethod.VERBAL),),
        care_plans=plans,
        complexity=draw(st.sampled_from((None, COMPLEXITY))),
        facility_stays=tuple(stays),
        time_entries=draw(entries(start)),
    )


def pool_minutes(decision: MonthDecision) -> int:
    """Return the minutes the billed family counted: own minutes for 99491/99437."""
    if decision.family is Family.PHYSICIAN:
        return decision.practitioner_minutes
    return decision.counted_minutes


@PROPERTY_SETTINGS
@given(patient_months())
def test_no_line_is_billed_below_its_threshold(facts: PatientMonthFacts) -> None:
    # given
    month = facts

    # when
    decision = decide(month, FEES)

    # then
    if decision.billable:
        assert decision.family is not None
        family = FAMILIES[decision.family]
        addon_units = sum(line.units for line in decision.lines[1:])
        assert family.threshold_minutes(addon_units) <= pool_minutes(decision)


@PROPERTY_SETTINGS
@given(patient_months())
def test_add_on_units_stay_within_their_caps(facts: PatientMonthFacts) -> None:
    # given
    caps = {"99439": 2, "99437": 2, "99489": 10}

    # when
    decision = decide(facts, FEES)

    # then
    for line in decision.lines:
        assert 1 <= line.units <= caps.get(line.code, 1)


@PROPERTY_SETTINGS
@given(patient_months())
def test_one_family_per_month_base_code_first_add_on_only_with_its_base(
    facts: PatientMonthFacts,
) -> None:
    # given
    pairs = {family.addon_code: family.base_code for family in FAMILIES.values()}

    # when
    decision = decide(facts, FEES)

    # then
    codes = [line.code for line in decision.lines]
    assert len(codes) <= 2
    if codes:
        assert decision.family is not None
        family = FAMILIES[decision.family]
        assert codes[0] == family.base_code
        assert set(codes) <= {family.base_code, family.addon_code}
        for code in codes[1:]:
            assert pairs[code] == codes[0]
    else:
        assert decision.reason is not None


@PROPERTY_SETTINGS
@given(patient_months())
def test_date_of_service_is_inside_the_month_and_never_after_death(
    facts: PatientMonthFacts,
) -> None:
    # given
    first = facts.service_month
    start, end = month_bounds(first, ZoneInfo(facts.practice.timezone))

    # when
    decision = decide(facts, FEES)

    # then
    if decision.billable:
        assert decision.date_of_service is not None
        assert start.date() <= decision.date_of_service < end.date()
        death = facts.patient.date_of_death
        assert death is None or decision.date_of_service <= death
    else:
        assert decision.date_of_service is None


@PROPERTY_SETTINGS
@given(patient_months())
def test_counted_minutes_never_exceed_the_months_wall_clock_minutes(
    facts: PatientMonthFacts,
) -> None:
    # given
    start, end = month_bounds(facts.service_month, ZoneInfo(facts.practice.timezone))
    wall_clock_minutes = (end.astimezone(dt.UTC) - start.astimezone(dt.UTC)) // dt.timedelta(
        minutes=1
    )

    # when
    decision = decide(facts, FEES)

    # then
    assert 0 <= decision.practitioner_minutes <= decision.counted_minutes <= wall_clock_minutes
    assert decision.unpaid_minutes <= decision.counted_minutes


@PROPERTY_SETTINGS
@given(patient_months())
def test_deciding_twice_gives_the_same_decision(facts: PatientMonthFacts) -> None:
    # given
    first = decide(facts, FEES)

    # when
    second = decide(facts, FEES)

    # then
    assert first == second


@st.composite
def working_months(draw: st.DrawFn) -> PatientMonthFacts:
    """Baseline March 2025 with entries between 08:00 and 19:00, so 20:00 is always free."""
    tz = ZoneInfo("America/New_York")
    result = []
    for _ in range(draw(st.integers(0, 10))):
        begin = dt.datetime(2025, 3, draw(st.integers(1, 28)), draw(st.integers(8, 17)), tzinfo=tz)
        length = dt.timedelta(seconds=draw(st.integers(0, 60 * 60)))
        by, role = draw(st.sampled_from(PEOPLE[:3]))
        result.append(TimeEntry(by, role, begin, begin + length))
    complex_month = draw(st.booleans())
    return replace(
        BASELINE,
        practice=replace(BASELINE.practice, family_choice=draw(st.sampled_from(FamilyChoice))),
        complexity=COMPLEXITY if complex_month else None,
        care_plans=(
            *BASELINE.care_plans,
            CarePlanVersion(2, BILLER, dt.date(2025, 3, 4), dt.date(2025, 3, 4), True),
        ),
        time_entries=tuple(result),
    )


def amount_cents(decision: MonthDecision) -> int:
    """Return the national non-facility amount of the lines at March 2025 rates."""
    on = dt.date(2025, 3, 31)
    return sum(
        line.units * FEES.national_non_facility_cents(line.code, on) for line in decision.lines
    )


@PROPERTY_SETTINGS
@given(working_months(), st.integers(1, 28))
def test_adding_a_countable_minute_never_removes_a_line(facts: PatientMonthFacts, day: int) -> None:
    # given
    minute_start = dt.datetime(2025, 3, day, 20, 0, tzinfo=ZoneInfo("America/New_York"))
    extra = TimeEntry(
        "rn-9", Role.CLINICAL_STAFF, minute_start, minute_start + dt.timedelta(minutes=1)
    )
    before = decide(facts, FEES)

    # when
    after = decide(replace(facts, time_entries=(*facts.time_entries, extra)), FEES)

    # then
    assert after.counted_minutes == before.counted_minutes + 1
    assert after.billable or not before.billable
    if after.family is before.family:
        units_after = {line.code: line.units for line in after.lines}
        for line in before.lines:
            assert units_after.get(line.code, 0) >= line.units
    if facts.practice.family_choice is FamilyChoice.HIGHER_PAYMENT:
        assert amount_cents(after) >= amount_cents(before)
