"""Fee table and pricing (RULES.md §12, R-PAY-3, R-POS-1)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from billing.fees import FEE_SCHEDULE_PATH, default_fee_schedule, load_fee_schedule
from billing.pricing import (
    ConversionFactorPeriod,
    FeeNotAvailableError,
    FeeSchedule,
    FeeScheduleError,
    FeeYear,
    PricedLine,
    fee_schedule_from_dict,
    is_facility_place_of_service,
    price_lines,
)
from billing.rules import ClaimLine, format_cents
from tests.billing.rules.builders import FEES

RAW = json.loads(FEE_SCHEDULE_PATH.read_text(encoding="utf-8"))
STAFF_CAPPED = (ClaimLine("99490", 1), ClaimLine("99439", 2))


def test_cy2024_prices_change_with_the_conversion_factor_on_9_march() -> None:
    # given
    before, after = dt.date(2024, 3, 8), dt.date(2024, 3, 9)

    # when
    early = price_lines(STAFF_CAPPED, FEES, before, facility=False)
    late = price_lines(STAFF_CAPPED, FEES, after, facility=False)

    # then
    assert early.lines == (PricedLine("99490", 1, 6156, 6156), PricedLine("99439", 2, 4715, 9430))
    assert early.total_cents == 15586
    assert early.conversion_factor == Decimal("32.7442")
    assert late.lines == (PricedLine("99490", 1, 6258, 6258), PricedLine("99439", 2, 4793, 9586))
    assert late.total_cents == 15844
    assert late.conversion_factor == Decimal("33.2875")


@pytest.mark.parametrize(
    ("on", "code", "cents"),
    [
        (dt.date(2024, 1, 2), "99487", 13196),
        (dt.date(2024, 1, 2), "99489", 7105),
        (dt.date(2024, 12, 31), "99487", 13415),
        (dt.date(2024, 12, 31), "99489", 7223),
        (dt.date(2025, 3, 1), "99490", 6049),
        (dt.date(2025, 3, 1), "99439", 4593),
        (dt.date(2025, 3, 1), "99487", 13165),
        (dt.date(2025, 3, 1), "99489", 7052),
        (dt.date(2025, 3, 1), "99491", 8216),
        (dt.date(2025, 3, 1), "99437", 5758),
        (dt.date(2026, 3, 1), "99490", 6613),
        (dt.date(2026, 3, 1), "99487", 14429),
        (dt.date(2026, 3, 1), "99489", 7816),
        (dt.date(2026, 3, 1), "99437", 6313),
    ],
)
def test_national_amounts_match_rules_md_section_12(on: dt.date, code: str, cents: int) -> None:
    # given
    schedule = FEES

    # when
    amount = schedule.national_non_facility_cents(code, on)

    # then
    assert amount == cents


def test_the_2025_family_totals_of_scenario_42_are_reproduced() -> None:
    # given
    on = dt.date(2025, 3, 20)

    # when
    staff = price_lines(STAFF_CAPPED, FEES, on, facility=False)
    physician = price_lines((ClaimLine("99491", 1), ClaimLine("99437", 1)), FEES, on, False)

    # then
    assert format_cents(staff.total_cents) == "$152.35"
    assert format_cents(physician.total_cents) == "$139.74"


def test_cy2026_qualifying_apm_participants_get_their_own_conversion_factor() -> None:
    # given
    on = dt.date(2026, 6, 1)

    # when
    priced = price_lines((ClaimLine("99490", 1),), FEES, on, facility=False, qualifying_apm=True)

    # then
    assert priced.total_cents == 6646
    assert priced.conversion_factor == Decimal("33.5675")


def test_facility_rates_are_used_for_a_facility_place_of_service() -> None:
    # given
    on = dt.date(2026, 6, 1)

    # when
    priced = price_lines((ClaimLine("99490", 1),), FEES, on, facility=True)

    # then
    assert priced.total_cents == 4376
    assert priced.facility


def test_a_facility_rate_that_is_not_loaded_is_an_error_not_a_guess() -> None:
    # given
    on = dt.date(2025, 6, 1)

    # when
    with pytest.raises(FeeNotAvailableError) as raised:
        price_lines((ClaimLine("99490", 1),), FEES, on, facility=True)

    # then
    assert str(raised.value) == ("CY2025 has no facility RVU for 99490 (load the CMS PPRRVU file)")


def test_unknown_codes_and_years_are_errors() -> None:
    # given
    on_2025, on_2023 = dt.date(2025, 6, 1), dt.date(2023, 6, 1)

    # when
    with pytest.raises(FeeNotAvailableError) as unknown_code:
        FEES.amount_cents("99424", on_2025, facility=False)
    with pytest.raises(FeeNotAvailableError) as unknown_year:
        FEES.national_non_facility_cents("99490", on_2023)

    # then
    assert str(unknown_code.value) == "CY2025 has no RVUs for 99424"
    assert str(unknown_year.value) == "the fee schedule has no CY2023"


def test_a_date_no_period_covers_is_an_error() -> None:
    # given
    half_year = FeeSchedule(
        source="test",
        years={
            2025: FeeYear(
                2025,
                (
                    ConversionFactorPeriod(
                        dt.date(2025, 1, 1), dt.date(2025, 6, 30), Decimal(30), Decimal(30)
                    ),
                ),
                {},
            )
        },
    )

    # when
    with pytest.raises(FeeNotAvailableError) as raised:
        half_year.period_on(dt.date(2025, 7, 1))

    # then
    assert str(raised.value) == "no CY2025 conversion factor covers 2025-07-01"


def test_repeated_family_comparisons_give_the_same_amount() -> None:
    # given
    on = dt.date(2025, 3, 31)

    # when
    first = FEES.national_non_facility_cents("99491", on)
    second = FEES.national_non_facility_cents("99491", on)

    # then
    assert first == second == 8216


@pytest.mark.parametrize(
    ("place", "facility"), [("11", False), ("12", False), ("19", True), ("22", True), ("31", True)]
)
def test_places_of_service_map_to_facility_or_non_facility(place: str, facility: bool) -> None:
    # given
    code = place

    # when
    result = is_facility_place_of_service(code)

    # then
    assert result is facility


def test_the_repo_fee_file_names_its_sources_and_covers_every_ccm_code() -> None:
    # given
    path = FEE_SCHEDULE_PATH

    # when
    schedule = load_fee_schedule(path)

    # then
    assert "RULES.md §12" in schedule.source
    assert sorted(schedule.years) == [2024, 2025, 2026]
    for fee_year in schedule.years.values():
        assert set(fee_year.rvus) == {"99490", "99439", "99491", "99437", "99487", "99489"}
    assert default_fee_schedule() is default_fee_schedule()


def _broken(change: Any) -> dict[str, Any]:
    """Return a deep copy of the repo fee data with ``change`` applied."""
    data = copy.deepcopy(RAW)
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="x"), "format: expected 'ccm-fee-schedule/1', got 'x'"),
        (lambda d: d.pop("source"), "fee_schedule.source: missing"),
        (lambda d: d.update(source=""), "fee_schedule.source: must not be empty"),
        (lambda d: d.update(years=[]), "fee_schedule.years: expected dict, got list"),
        (
            lambda d: d["years"].update(CY25={}),
            'years.CY25: expected a year such as "2025" with an object',
        ),
        (
            lambda d: d["years"]["2025"].update(conversion_factors=["x"]),
            "years.2025.conversion_factors[0]: expected object",
        ),
        (
            lambda d: d["years"]["2025"]["conversion_factors"][0].update(first_day="2025-1-1"),
            "years.2025.conversion_factors[0].first_day: '2025-1-1' is not a YYYY-MM-DD date",
        ),
        (
            lambda d: d["years"]["2025"]["conversion_factors"][0].update(last_day="2025-02-30"),
            "years.2025.conversion_factors[0].last_day: '2025-02-30' is not a YYYY-MM-DD date",
        ),
        (
            lambda d: d["years"]["2025"]["conversion_factors"][0].update(first_day="2025-01-02"),
            "years.2025.conversion_factors[0]: periods must run from 2025-01-01 without gaps or "
            "overlaps inside CY2025, got 2025-01-02..2025-12-31",
        ),
        (
            lambda d: d["years"]["2025"]["conversion_factors"][0].update(last_day="2025-11-30"),
            "years.2025.conversion_factors: the periods must cover all of CY2025",
        ),
        (
            lambda d: d["years"]["2025"]["conversion_factors"][0].update(conversion_factor=32.3),
            "years.2025.conversion_factors[0].conversion_factor: expected a decimal string such "
            'as "1.88", got 32.3',
        ),
        (
            lambda d: d["years"]["2025"]["rvus"].update({"99490": "1.87"}),
            "years.2025.rvus.99490: expected object",
        ),
        (
            lambda d: d["years"]["2025"]["rvus"]["99490"].update(facility="-1"),
            "years.2025.rvus.99490.facility: expected a decimal string such as \"1.88\", got '-1'",
        ),
        (
            lambda d: d["years"]["2025"]["rvus"]["99490"].pop("verified"),
            "years.2025.rvus.99490.verified: missing",
        ),
    ],
)
def test_malformed_fee_data_names_the_field(change: Any, message: str) -> None:
    # given
    data = _broken(change)

    # when
    with pytest.raises(FeeScheduleError) as raised:
        fee_schedule_from_dict(data)

    # then
    assert str(raised.value) == message


def test_a_fee_file_can_be_loaded_from_another_path(tmp_path: Path) -> None:
    # given
    path = tmp_path / "fees.json"
    path.write_text(json.dumps(_broken(lambda d: d["years"].pop("2024"))), encoding="utf-8")

    # when
    schedule = load_fee_schedule(path)

    # then
    assert sorted(schedule.years) == [2025, 2026]
