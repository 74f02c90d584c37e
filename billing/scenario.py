"""Scenario files (SCENARIO_FORMAT.md): parse and validate, render decisions, compare them.

Parsing is strict: unknown fields, missing fields, wrong types, bad dates and unknown enum values
raise ScenarioError with the field path (``facts.time_entries[2].role``) and what is wrong. No
file I/O here: callers pass the file's text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from billing.rules import (
    BillingWarning,
    CarePlanCopyPolicy,
    CarePlanVersion,
    ClaimLine,
    Complexity,
    Condition,
    Consent,
    ConsentMethod,
    DateOfServicePolicy,
    FacilityStay,
    FamilyChoice,
    FamilyPrices,
    MedicalDecisionMaking,
    MonthDecision,
    NotBillableReason,
    OtherService,
    PatientMonthFacts,
    PatientStatus,
    PracticePolicy,
    Role,
    StayKind,
    TimeEntry,
    Visit,
    decide,
    format_lines,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from enum import StrEnum

SCENARIO_FORMAT = "ccm-scenario/1"

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})")
_LAST_MONTH = 12

_E = TypeVar("_E", bound="StrEnum")
_T = TypeVar("_T")


class ScenarioError(ValueError):
    """A scenario file is malformed; ``path`` names the field, ``problem`` says what is wrong."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path
        self.problem = problem


@dataclass(frozen=True, slots=True)
class ExpectedDecision:
    """The ``expected`` object of a scenario; ``counted_minutes`` is optional."""

    billable: bool
    lines: tuple[ClaimLine, ...]
    date_of_service: dt.date | None
    place_of_service: str | None
    reason: NotBillableReason | None
    warnings: frozenset[BillingWarning]
    counted_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    """One scenario file: its identity, the facts and, optionally, the expected decision."""

    id: str
    title: str
    rules: tuple[str, ...]
    facts: PatientMonthFacts
    expected: ExpectedDecision | None


# --- Primitive readers: each takes the raw JSON value and its path.
def _kind(value: object) -> str:
    """Name a JSON value's type the way a JSON author would."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _text(value: object, path: str) -> str:
    """Return a non-empty string."""
    if not isinstance(value, str):
        raise ScenarioError(path, f"expected a string, got {_kind(value)}")
    if not value.strip():
        raise ScenarioError(path, "must not be empty")
    return value


def _flag(value: object, path: str) -> bool:
    """Return a JSON boolean (not 0/1, not a string)."""
    if not isinstance(value, bool):
        raise ScenarioError(path, f"expected true or false, got {_kind(value)}")
    return value


def _whole(value: object, path: str, minimum: int) -> int:
    """Return an integer of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(path, f"expected a whole number, got {_kind(value)}")
    if value < minimum:
        raise ScenarioError(path, f"must be at least {minimum}, got {value}")
    return value


def _date(value: object, path: str) -> dt.date:
    """Return a ``YYYY-MM-DD`` date."""
    text = _text(value, path)
    if _DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise ScenarioError(path, f"{text!r} is not a date (YYYY-MM-DD)")


def _timestamp(value: object, path: str) -> dt.datetime:
    """Return an aware timestamp such as ``2025-03-10T09:00:00-04:00``."""
    text = _text(value, path)
    if _TIMESTAMP.fullmatch(text):
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError:
            pass
    raise ScenarioError(path, f"{text!r} is not a timestamp with a UTC offset")


def _date_or_timestamp(value: object, path: str) -> dt.date | dt.datetime:
    """Return a date, or an aware timestamp when the text has a time part (AMB-16)."""
    text = _text(value, path)
    if "T" in text:
        return _timestamp(text, path)
    return _date(text, path)


def _choice(value: object, path: str, enum: type[_E], what: str) -> _E:
    """Return a member of a string enumeration, naming the allowed values when it is unknown."""
    text = _text(value, path)
    try:
        return enum(text)
    except ValueError:
        allowed = ", ".join(sorted(member.value for member in enum))
        raise ScenarioError(path, f"unknown {what} {text!r} (expected one of {allowed})") from None


def _optional(value: object, path: str, read: Callable[[object, str], _T]) -> _T | None:
    """Return None for JSON null, else the value read by ``read``."""
    return None if value is None else read(value, path)


def _items(value: object, path: str) -> list[object]:
    """Return a JSON array."""
    if not isinstance(value, list):
        raise ScenarioError(path, f"expected an array, got {_kind(value)}")
    return value


class _Object:
    """A JSON object with known fields: unknown fields and missing required ones are errors."""

    __slots__ = ("data", "path")

    def __init__(
        self,
        value: object,
        path: str,
        required: frozenset[str],
        optional: frozenset[str] = frozenset(),
    ) -> None:
        if not isinstance(value, dict):
            raise ScenarioError(path or "(top level)", f"expected an object, got {_kind(value)}")
        unknown = sorted(set(value) - required - optional)
        if unknown:
            raise ScenarioError(self._join(path, unknown[0]), "unknown field")
        missing = sorted(required - set(value))
        if missing:
            raise ScenarioError(self._join(path, missing[0]), "missing field")
        self.data: dict[str, object] = value
        self.path = path

    @staticmethod
    def _join(path: str, key: str) -> str:
        """Return the path of a field inside an object."""
        return f"{path}.{key}" if path else key

    def at(self, key: str) -> tuple[object, str]:
        """Return a field's raw value and its path (None when an optional field is absent)."""
        return self.data.get(key), self._join(self.path, key)

    def has(self, key: str) -> bool:
        """Return True when the field is present."""
        return key in self.data


def _fields(*names: str) -> frozenset[str]:
    """Return a frozen set of field names."""
    return frozenset(names)


# --- Facts.
def _practice(value: object, path: str) -> PracticePolicy:
    """Read ``facts.practice``; the four policies default as SCENARIO_FORMAT.md says."""
    obj = _Object(
        value,
        path,
        _fields("timezone", "place_of_service"),
        _fields(
            "complex_requires_plan_revision", "care_plan_copy", "family_choice", "date_of_service"
        ),
    )
    timezone = _text(*obj.at("timezone"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScenarioError(obj.at("timezone")[1], f"unknown IANA time zone {timezone!r}") from None
    defaults = PracticePolicy(timezone=timezone, place_of_service="")
    return PracticePolicy(
        timezone=timezone,
        place_of_service=_text(*obj.at("place_of_service")),
        complex_requires_plan_revision=(
            _flag(*obj.at("complex_requires_plan_revision"))
            if obj.has("complex_requires_plan_revision")
            else defaults.complex_requires_plan_revision
        ),
        care_plan_copy=(
            _choice(*obj.at("care_plan_copy"), CarePlanCopyPolicy, "care_plan_copy policy")
            if obj.has("care_plan_copy")
            else defaults.care_plan_copy
        ),
        family_choice=(
            _choice(*obj.at("family_choice"), FamilyChoice, "family_choice policy")
            if obj.has("family_choice")
            else defaults.family_choice
        ),
        date_of_service=(
            _choice(*obj.at("date_of_service"), DateOfServicePolicy, "date_of_service policy")
            if obj.has("date_of_service")
            else defaults.date_of_service
        ),
    )


def _patient(value: object, path: str) -> PatientStatus:
    """Read ``facts.patient``."""
    obj = _Object(
        value,
        path,
        _fields("medicare_part_b", "date_of_death", "enrolled_elsewhere", "blocked_by_model"),
    )
    return PatientStatus(
        medicare_part_b=_flag(*obj.at("medicare_part_b")),
        date_of_death=_optional(*obj.at("date_of_death"), _date),
        enrolled_elsewhere=_flag(*obj.at("enrolled_elsewhere")),
        blocked_by_model=_flag(*obj.at("blocked_by_model")),
    )


def _condition(value: object, path: str) -> Condition:
    """Read one ``facts.conditions[]`` item."""
    obj = _Object(value, path, _fields("code", "chronic", "active"))
    return Condition(
        code=_text(*obj.at("code")),
        chronic=_flag(*obj.at("chronic")),
        active=_flag(*obj.at("active")),
    )


def _visit(value: object, path: str) -> Visit:
    """Read one ``facts.visits[]`` item."""
    obj = _Object(value, path, _fields("date", "code", "by", "ccm_discussed"))
    return Visit(
        date=_date(*obj.at("date")),
        code=_text(*obj.at("code")),
        by=_text(*obj.at("by")),
        ccm_discussed=_flag(*obj.at("ccm_discussed")),
    )


def _consent(value: object, path: str) -> Consent:
    """Read one ``facts.consents[]`` item; a revocation cannot precede the consent."""
    obj = _Object(value, path, _fields("practitioner", "obtained", "revoked", "method"))
    obtained = _date_or_timestamp(*obj.at("obtained"))
    revoked = _optional(*obj.at("revoked"), _date)
    obtained_day = obtained.date() if isinstance(obtained, dt.datetime) else obtained
    if revoked is not None and revoked < obtained_day:
        raise ScenarioError(obj.at("revoked")[1], f"{revoked} is before obtained {obtained_day}")
    return Consent(
        practitioner=_text(*obj.at("practitioner")),
        obtained=obtained,
        revoked=revoked,
        method=_choice(*obj.at("method"), ConsentMethod, "consent method"),
    )


def _care_plan(value: object, path: str) -> CarePlanVersion:
    """Read one ``facts.care_plans[]`` item."""
    obj = _Object(
        value,
        path,
        _fields(
            "version",
            "signed_by",
            "signed_on",
            "patient_copy_on",
            "substantial_revision",
            "missing_elements",
        ),
    )
    elements_value, elements_path = obj.at("missing_elements")
    return CarePlanVersion(
        version=_whole(*obj.at("version"), minimum=1),
        signed_by=_text(*obj.at("signed_by")),
        signed_on=_date(*obj.at("signed_on")),
        patient_copy_on=_optional(*obj.at("patient_copy_on"), _date),
        substantial_revision=_flag(*obj.at("substantial_revision")),
        missing_elements=tuple(
            _text(item, f"{elements_path}[{index}]")
            for index, item in enumerate(_items(elements_value, elements_path))
        ),
    )


def _complexity(value: object, path: str) -> Complexity:
    """Read ``facts.complexity`` when it is not null."""
    obj = _Object(value, path, _fields("mdm", "by"))
    return Complexity(
        mdm=_choice(*obj.at("mdm"), MedicalDecisionMaking, "mdm level"),
        by=_text(*obj.at("by")),
    )


def _other_service(value: object, path: str) -> OtherService:
    """Read one ``facts.other_services[]`` item."""
    obj = _Object(value, path, _fields("code", "by", "date"))
    return OtherService(
        code=_text(*obj.at("code")), by=_text(*obj.at("by")), date=_date(*obj.at("date"))
    )


def _facility_stay(value: object, path: str) -> FacilityStay:
    """Read one ``facts.facility_stays[]`` item; ``to`` cannot precede ``from``."""
    obj = _Object(value, path, _fields("kind", "from", "to"))
    first = _date(*obj.at("from"))
    last = _date(*obj.at("to"))
    if last < first:
        raise ScenarioError(obj.at("to")[1], f"{last} is before from {first}")
    return FacilityStay(kind=_choice(*obj.at("kind"), StayKind, "stay kind"), from_=first, to=last)


def _time_entry(value: object, path: str) -> TimeEntry:
    """Read one ``facts.time_entries[]`` item; ``end`` cannot precede ``start``."""
    obj = _Object(value, path, _fields("by", "role", "start", "end", "part_of"))
    start = _timestamp(*obj.at("start"))
    end = _timestamp(*obj.at("end"))
    if end < start:
        raise ScenarioError(obj.at("end")[1], f"{end.isoformat()} is before start")
    return TimeEntry(
        by=_text(*obj.at("by")),
        role=_choice(*obj.at("role"), Role, "role"),
        start=start,
        end=end,
        part_of=_optional(*obj.at("part_of"), _text),
    )


def _list_of(value: object, path: str, read: Callable[[object, str], _T]) -> tuple[_T, ...]:
    """Read a JSON array whose items are read by ``read``."""
    return tuple(read(item, f"{path}[{index}]") for index, item in enumerate(_items(value, path)))


def _service_month(value: object, path: str) -> dt.date:
    """Read ``YYYY-MM`` as the first day of the month."""
    text = _text(value, path)
    match = _MONTH.fullmatch(text)
    if match is None or not 1 <= int(match.group(2)) <= _LAST_MONTH:
        raise ScenarioError(path, f"{text!r} is not a month (YYYY-MM)")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def parse_facts(value: object, path: str = "facts") -> PatientMonthFacts:
    """Read a ``facts`` object into PatientMonthFacts; raise ScenarioError."""
    obj = _Object(
        value,
        path,
        _fields(
            "service_month",
            "practice",
            "billing_practitioner",
            "patient",
            "conditions",
            "visits",
            "consents",
            "care_plans",
            "complexity",
            "other_services",
            "facility_stays",
            "time_entries",
        ),
    )
    return PatientMonthFacts(
        service_month=_service_month(*obj.at("service_month")),
        practice=_practice(*obj.at("practice")),
        billing_practitioner=_text(*obj.at("billing_practitioner")),
        patient=_patient(*obj.at("patient")),
        conditions=_list_of(*obj.at("conditions"), _condition),
        visits=_list_of(*obj.at("visits"), _visit),
        consents=_list_of(*obj.at("consents"), _consent),
        care_plans=_list_of(*obj.at("care_plans"), _care_plan),
        complexity=_optional(*obj.at("complexity"), _complexity),
        other_services=_list_of(*obj.at("other_services"), _other_service),
        facility_stays=_list_of(*obj.at("facility_stays"), _facility_stay),
        time_entries=_list_of(*obj.at("time_entries"), _time_entry),
    )


# --- Expected decision.
def _claim_line(value: object, path: str) -> ClaimLine:
    """Read one ``expected.lines[]`` item."""
    obj = _Object(value, path, _fields("code", "units"))
    return ClaimLine(code=_text(*obj.at("code")), units=_whole(*obj.at("units"), minimum=1))


def _reason(value: object, path: str) -> NotBillableReason:
    """Read an NB_* reason code."""
    return _choice(value, path, NotBillableReason, "reason")


def _warning(value: object, path: str) -> BillingWarning:
    """Read a W_* warning code."""
    return _choice(value, path, BillingWarning, "warning")


def parse_expected(value: object, path: str = "expected") -> ExpectedDecision:
    """Read an ``expected`` object; ``billable`` must agree with ``lines``."""
    obj = _Object(
        value,
        path,
        _fields("billable", "lines", "date_of_service", "place_of_service", "reason", "warnings"),
        _fields("counted_minutes"),
    )
    billable = _flag(*obj.at("billable"))
    lines = _list_of(*obj.at("lines"), _claim_line)
    if billable != bool(lines):
        raise ScenarioError(
            obj.at("lines")[1], f"billable is {_show(billable)} but {len(lines)} lines are given"
        )
    counted_value, counted_path = obj.at("counted_minutes")
    return ExpectedDecision(
        billable=billable,
        lines=lines,
        date_of_service=_optional(*obj.at("date_of_service"), _date),
        place_of_service=_optional(*obj.at("place_of_service"), _text),
        reason=_optional(*obj.at("reason"), _reason),
        warnings=frozenset(_list_of(*obj.at("warnings"), _warning)),
        counted_minutes=(
            _whole(counted_value, counted_path, minimum=0) if obj.has("counted_minutes") else None
        ),
    )


# --- Whole files.
def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """JSON object hook: a key given twice is an error (the second would silently win)."""
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise ScenarioError("", f"duplicate field {key!r} in one JSON object")
        result[key] = value
    return result


def parse_scenario_text(text: str) -> Scenario:
    """Parse the text of a scenario file; raise ScenarioError for anything malformed."""
    try:
        data = json.loads(text, object_pairs_hook=_reject_duplicates)
    except json.JSONDecodeError as error:
        message = f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        raise ScenarioError("", message) from None
    return parse_scenario(data)


def parse_scenario(data: object) -> Scenario:
    """Read a decoded scenario object; ``format`` must be ``ccm-scenario/1``."""
    obj = _Object(data, "", _fields("format", "id", "facts"), _fields("title", "rules", "expected"))
    format_value, format_path = obj.at("format")
    if format_value != SCENARIO_FORMAT:
        raise ScenarioError(format_path, f"expected {SCENARIO_FORMAT!r}, got {format_value!r}")
    title_value, title_path = obj.at("title")
    rules_value, rules_path = obj.at("rules")
    expected_value, expected_path = obj.at("expected")
    return Scenario(
        id=_text(*obj.at("id")),
        title=_text(title_value, title_path) if obj.has("title") else "",
        rules=_list_of(rules_value, rules_path, _text) if obj.has("rules") else (),
        facts=parse_facts(*obj.at("facts")),
        expected=parse_expected(expected_value, expected_path) if obj.has("expected") else None,
    )


# --- Decisions out, and comparison with ``expected``.
def decision_to_json(decision: MonthDecision, scenario_id: str | None = None) -> dict[str, object]:
    """Return the decision as the JSON object SCENARIO_FORMAT.md describes."""
    result: dict[str, object] = {} if scenario_id is None else {"id": scenario_id}
    date_of_service = decision.date_of_service
    result.update(
        {
            "billable": decision.billable,
            "lines": [{"code": line.code, "units": line.units} for line in decision.lines],
            "date_of_service": None if date_of_service is None else date_of_service.isoformat(),
            "place_of_service": decision.place_of_service,
            "reason": decision.reason,
            "warnings": sorted(decision.warnings),
            "counted_minutes": decision.counted_minutes,
            "unpaid_minutes": decision.unpaid_minutes,
            "diagnoses": list(decision.diagnoses),
            "explanation": list(decision.explanation),
        }
    )
    return result


def _show(value: object) -> str:
    """Render a compared value the way the JSON file writes it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def differences(decision: MonthDecision, expected: ExpectedDecision) -> tuple[str, ...]:
    """Return what differs between a decision and ``expected``; empty when they agree.

    Warnings are compared as a set; ``counted_minutes`` only when ``expected`` gives it.
    """
    found: list[str] = []
    if decision.billable != expected.billable:
        found.append(
            f"billable: expected {_show(expected.billable)}, got {_show(decision.billable)}"
        )
    if decision.lines != expected.lines:
        found.append(
            f"lines: expected {format_lines(expected.lines)}, got {format_lines(decision.lines)}"
        )
    compared: tuple[tuple[str, object, object], ...] = (
        ("date_of_service", expected.date_of_service, decision.date_of_service),
        ("place_of_service", expected.place_of_service, decision.place_of_service),
        ("reason", expected.reason, decision.reason),
    )
    found.extend(
        f"{name}: expected {_show(wanted)}, got {_show(got)}"
        for name, wanted, got in compared
        if wanted != got
    )
    missing = sorted(expected.warnings - decision.warnings)
    unexpected = sorted(decision.warnings - expected.warnings)
    if missing or unexpected:
        parts = [f"missing {', '.join(missing)}"] if missing else []
        parts += [f"unexpected {', '.join(unexpected)}"] if unexpected else []
        found.append(f"warnings: {'; '.join(parts)}")
    wanted_minutes = expected.counted_minutes
    if wanted_minutes is not None and wanted_minutes != decision.counted_minutes:
        found.append(f"counted_minutes: expected {wanted_minutes}, got {decision.counted_minutes}")
    return tuple(found)


def check_scenario(
    scenario: Scenario, prices: FamilyPrices
) -> tuple[MonthDecision, tuple[str, ...]]:
    """Decide a scenario and compare with its ``expected``; raise ValueError when it has none."""
    if scenario.expected is None:
        message = f"{scenario.id}: no 'expected' object to check against"
        raise ValueError(message)
    decision = decide(scenario.facts, prices)
    return decision, differences(decision, scenario.expected)


# --- Facts out (the inverse of ``parse_facts``), for exporting a real month.
def _moment(value: dt.date | dt.datetime, tz: ZoneInfo) -> str:
    """A date as ``YYYY-MM-DD``; a timestamp in the practice's zone, with its UTC offset."""
    if isinstance(value, dt.datetime):
        return value.astimezone(tz).isoformat()
    return value.isoformat()


def facts_to_json(facts: PatientMonthFacts) -> dict[str, object]:
    """Return the ``facts`` object of SCENARIO_FORMAT.md; ``parse_facts`` reads it back equal."""
    practice = facts.practice
    tz = ZoneInfo(practice.timezone)
    complexity = facts.complexity
    return {
        "service_month": f"{facts.service_month:%Y-%m}",
        "practice": {
            "timezone": practice.timezone,
            "place_of_service": practice.place_of_service,
            "complex_requires_plan_revision": practice.complex_requires_plan_revision,
            "care_plan_copy": practice.care_plan_copy.value,
            "family_choice": practice.family_choice.value,
            "date_of_service": practice.date_of_service.value,
        },
        "billing_practitioner": facts.billing_practitioner,
        "patient": {
            "medicare_part_b": facts.patient.medicare_part_b,
            "date_of_death": _optional_iso(facts.patient.date_of_death),
            "enrolled_elsewhere": facts.patient.enrolled_elsewhere,
            "blocked_by_model": facts.patient.blocked_by_model,
        },
        "conditions": [
            {"code": c.code, "chronic": c.chronic, "active": c.active} for c in facts.conditions
        ],
        "visits": [
            {
                "date": v.date.isoformat(),
                "code": v.code,
                "by": v.by,
                "ccm_discussed": v.ccm_discussed,
            }
            for v in facts.visits
        ],
        "consents": [
            {
                "practitioner": c.practitioner,
                "obtained": _moment(c.obtained, tz),
                "revoked": _optional_iso(c.revoked),
                "method": c.method.value,
            }
            for c in facts.consents
        ],
        "care_plans": [
            {
                "version": p.version,
                "signed_by": p.signed_by,
                "signed_on": p.signed_on.isoformat(),
                "patient_copy_on": _optional_iso(p.patient_copy_on),
                "substantial_revision": p.substantial_revision,
                "missing_elements": list(p.missing_elements),
            }
            for p in facts.care_plans
        ],
        "complexity": (
            None if complexity is None else {"mdm": complexity.mdm.value, "by": complexity.by}
        ),
        "other_services": [
            {"code": s.code, "by": s.by, "date": s.date.isoformat()} for s in facts.other_services
        ],
        "facility_stays": [
            {"kind": s.kind.value, "from": s.from_.isoformat(), "to": s.to.isoformat()}
            for s in facts.facility_stays
        ],
        "time_entries": [
            {
                "by": e.by,
                "role": e.role.value,
                "start": _moment(e.start, tz),
                "end": _moment(e.end, tz),
                "part_of": e.part_of,
            }
            for e in facts.time_entries
        ],
    }


def _optional_iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def scenario_to_json(
    *,
    scenario_id: str,
    title: str,
    facts: PatientMonthFacts,
    expected: MonthDecision | None = None,
) -> dict[str, object]:
    """Return a whole scenario object; ``expected`` (when given) is that decision's outcome."""
    result: dict[str, object] = {
        "format": SCENARIO_FORMAT,
        "id": scenario_id,
        "title": title,
        "facts": facts_to_json(facts),
    }
    if expected is not None:
        result["expected"] = {
            key: value
            for key, value in decision_to_json(expected).items()
            if key
            in {
                "billable",
                "lines",
                "date_of_service",
                "place_of_service",
                "reason",
                "warnings",
                "counted_minutes",
            }
        }
    return result
