"""Pure pricing of CCM claim lines from a Physician Fee Schedule table (RULES.md §12, R-PAY-3).

National amount = total RVU x conversion factor, rounded half up to the cent (RULES.md §12). The
table is versioned by (service year, code, facility or non-facility setting); a year may have
several conversion-factor periods (CY2024 changed on 9 March) and, from CY2026, a separate
factor for qualifying APM participants. The date of service picks the period.

No Django and no I/O here: ``billing.fees`` reads the JSON file and calls
``fee_schedule_from_dict``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from billing.rules import ClaimLine

FEE_SCHEDULE_FORMAT = "ccm-fee-schedule/1"
_CENT = Decimal("0.01")
_CENTS_PER_DOLLAR = 100
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DECIMAL = re.compile(r"\d+(\.\d+)?")

# CMS place-of-service codes paid at the PFS *facility* rate; every other POS (office 11, home 12,
# ...) gets the non-facility rate (R-POS-1; POS 19/22 named there, the rest from the CMS POS list
# [U]).
FACILITY_PLACES_OF_SERVICE = frozenset(
    {"02", "19", "21", "22", "23", "24", "26", "31", "34", "41", "42", "51", "52", "53", "56", "61"}
)


class FeeScheduleError(ValueError):
    """The fee-schedule data is malformed; the message names the field path."""


class FeeNotAvailableError(LookupError):
    """The table has no amount for this code, year, setting or date."""


@dataclass(frozen=True, slots=True)
class ConversionFactorPeriod:
    """Conversion factors in force from ``first_day`` to ``last_day`` (both inclusive)."""

    first_day: dt.date
    last_day: dt.date
    conversion_factor: Decimal
    qualifying_apm_conversion_factor: Decimal


@dataclass(frozen=True, slots=True)
class CodeRvus:
    """Total national RVUs of one code in one year; ``facility`` is None where not loaded."""

    non_facility: Decimal
    facility: Decimal | None
    verified: bool


@dataclass(frozen=True, slots=True)
class FeeYear:
    """One service year's conversion-factor periods and RVUs."""

    year: int
    periods: tuple[ConversionFactorPeriod, ...]
    rvus: Mapping[str, CodeRvus]


@dataclass(frozen=True, slots=True)
class PricedLine:
    """A claim line with its unit amount and line total, in cents."""

    code: str
    units: int
    unit_cents: int
    total_cents: int


@dataclass(frozen=True, slots=True)
class PricedClaim:
    """Priced claim lines, the total, and the factor and setting that produced them."""

    lines: tuple[PricedLine, ...]
    total_cents: int
    conversion_factor: Decimal
    facility: bool


def amount_cents(rvu: Decimal, conversion_factor: Decimal) -> int:
    """Return RVU x CF rounded half up to the cent, as integer cents (RULES.md §12)."""
    dollars = (rvu * conversion_factor).quantize(_CENT, rounding=ROUND_HALF_UP)
    return int(dollars * _CENTS_PER_DOLLAR)


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """National PFS amounts by (year, code, setting), with the sources they came from."""

    source: str
    years: Mapping[int, FeeYear]
    _non_facility: dict[tuple[str, dt.date], int] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def period_on(self, on: dt.date) -> ConversionFactorPeriod:
        """Return the conversion-factor period in force on a date of service."""
        fee_year = self._year(on.year)
        for period in fee_year.periods:
            if period.first_day <= on <= period.last_day:
                return period
        message = f"no CY{on.year} conversion factor covers {on}"
        raise FeeNotAvailableError(message)

    def amount_cents(
        self, code: str, on: dt.date, *, facility: bool, qualifying_apm: bool = False
    ) -> int:
        """Return the national amount in cents of one unit of ``code`` on a date of service."""
        rvus = self._year(on.year).rvus.get(code)
        if rvus is None:
            message = f"CY{on.year} has no RVUs for {code}"
            raise FeeNotAvailableError(message)
        rvu = rvus.facility if facility else rvus.non_facility
        if rvu is None:
            message = f"CY{on.year} has no facility RVU for {code} (load the CMS PPRRVU file)"
            raise FeeNotAvailableError(message)
        period = self.period_on(on)
        factor = (
            period.qualifying_apm_conversion_factor if qualifying_apm else period.conversion_factor
        )
        return amount_cents(rvu, factor)

    def national_non_facility_cents(self, code: str, on: dt.date) -> int:
        """Return the national non-facility amount in cents (``billing.rules.FamilyPrices``).

        Memoised per (code, date): month close compares the same few codes on the same dates.
        """
        key = (code, on)
        cents = self._non_facility.get(key)
        if cents is None:
            cents = self._non_facility[key] = self.amount_cents(code, on, facility=False)
        return cents

    def _year(self, year: int) -> FeeYear:
        """Return one year's table, or raise FeeNotAvailableError."""
        try:
            return self.years[year]
        except KeyError:
            message = f"the fee schedule has no CY{year}"
            raise FeeNotAvailableError(message) from None


def is_facility_place_of_service(place_of_service: str) -> bool:
    """Return True when a POS code is paid at the facility rate (R-POS-1)."""
    return place_of_service in FACILITY_PLACES_OF_SERVICE


def price_lines(
    lines: Iterable[ClaimLine],
    fee_schedule: FeeSchedule,
    date_of_service: dt.date,
    facility: bool,
    *,
    qualifying_apm: bool = False,
) -> PricedClaim:
    """Price claim lines at the national amounts in force on the date of service (R-PAY-3)."""
    period = fee_schedule.period_on(date_of_service)
    priced = []
    for line in lines:
        unit = fee_schedule.amount_cents(
            line.code, date_of_service, facility=facility, qualifying_apm=qualifying_apm
        )
        priced.append(PricedLine(line.code, line.units, unit, unit * line.units))
    return PricedClaim(
        lines=tuple(priced),
        total_cents=sum(line.total_cents for line in priced),
        conversion_factor=(
            period.qualifying_apm_conversion_factor if qualifying_apm else period.conversion_factor
        ),
        facility=facility,
    )


# --- Building the table from parsed JSON (pure: the caller reads the file).
def _field(data: Mapping[str, object], key: str, kind: type, path: str) -> object:
    """Return ``data[key]`` checked against ``kind``, or raise FeeScheduleError naming the path."""
    if key not in data:
        message = f"{path}.{key}: missing"
        raise FeeScheduleError(message)
    value = data[key]
    if not isinstance(value, kind):
        message = f"{path}.{key}: expected {kind.__name__}, got {type(value).__name__}"
        raise FeeScheduleError(message)
    return value


def _mapping(data: Mapping[str, object], key: str, path: str) -> Mapping[str, object]:
    """Return a nested JSON object."""
    return cast("Mapping[str, object]", _field(data, key, dict, path))


def _text(data: Mapping[str, object], key: str, path: str) -> str:
    """Return a non-empty string field."""
    value = str(_field(data, key, str, path))
    if not value:
        message = f"{path}.{key}: must not be empty"
        raise FeeScheduleError(message)
    return value


def _date(data: Mapping[str, object], key: str, path: str) -> dt.date:
    """Return a ``YYYY-MM-DD`` date field."""
    value = _text(data, key, path)
    if _DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    message = f"{path}.{key}: {value!r} is not a YYYY-MM-DD date"
    raise FeeScheduleError(message)


def _decimal(value: object, path: str) -> Decimal:
    """Return a positive decimal written as a JSON string such as ``"1.88"``."""
    if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
        message = f'{path}: expected a decimal string such as "1.88", got {value!r}'
        raise FeeScheduleError(message)
    return Decimal(value)


def _periods(
    year: int, data: Mapping[str, object], path: str
) -> tuple[ConversionFactorPeriod, ...]:
    """Return a year's conversion-factor periods; they must tile the year without gaps."""
    raw = cast("list[object]", _field(data, "conversion_factors", list, path))
    periods = []
    expected_first = dt.date(year, 1, 1)
    for index, item in enumerate(raw):
        item_path = f"{path}.conversion_factors[{index}]"
        if not isinstance(item, dict):
            message = f"{item_path}: expected object"
            raise FeeScheduleError(message)
        first_day = _date(item, "first_day", item_path)
        last_day = _date(item, "last_day", item_path)
        if first_day != expected_first or last_day < first_day or last_day.year != year:
            message = (
                f"{item_path}: periods must run from {expected_first} without gaps or overlaps "
                f"inside CY{year}, got {first_day}..{last_day}"
            )
            raise FeeScheduleError(message)
        factor = _decimal(item.get("conversion_factor"), f"{item_path}.conversion_factor")
        qualifying = item.get("qualifying_apm_conversion_factor", item.get("conversion_factor"))
        periods.append(
            ConversionFactorPeriod(
                first_day,
                last_day,
                factor,
                _decimal(qualifying, f"{item_path}.qualifying_apm_conversion_factor"),
            )
        )
        expected_first = last_day + dt.timedelta(days=1)
    if expected_first != dt.date(year + 1, 1, 1):
        message = f"{path}.conversion_factors: the periods must cover all of CY{year}"
        raise FeeScheduleError(message)
    return tuple(periods)


def _rvus(data: Mapping[str, object], path: str) -> Mapping[str, CodeRvus]:
    """Return a year's RVUs by code."""
    rvus = {}
    for code, item in _mapping(data, "rvus", path).items():
        item_path = f"{path}.rvus.{code}"
        if not isinstance(item, dict):
            message = f"{item_path}: expected object"
            raise FeeScheduleError(message)
        facility = item.get("facility")
        rvus[code] = CodeRvus(
            non_facility=_decimal(item.get("non_facility"), f"{item_path}.non_facility"),
            facility=None if facility is None else _decimal(facility, f"{item_path}.facility"),
            verified=bool(_field(item, "verified", bool, item_path)),
        )
    return MappingProxyType(rvus)


def fee_schedule_from_dict(data: Mapping[str, object]) -> FeeSchedule:
    """Build a FeeSchedule from the parsed ``fee_schedule.json``; raise FeeScheduleError."""
    if data.get("format") != FEE_SCHEDULE_FORMAT:
        message = f"format: expected {FEE_SCHEDULE_FORMAT!r}, got {data.get('format')!r}"
        raise FeeScheduleError(message)
    source = _text(data, "source", "fee_schedule")
    years = {}
    for key, year_data in _mapping(data, "years", "fee_schedule").items():
        path = f"years.{key}"
        if not key.isdigit() or not isinstance(year_data, dict):
            message = f'{path}: expected a year such as "2025" with an object'
            raise FeeScheduleError(message)
        year = int(key)
        years[year] = FeeYear(year, _periods(year, year_data, path), _rvus(year_data, path))
    return FeeSchedule(source=source, years=MappingProxyType(years))
