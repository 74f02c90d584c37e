"""Parsing scenario files (SCENARIO_FORMAT.md), decisions as JSON, and comparing with expected."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from billing.rules import (
    BillingWarning,
    CarePlanCopyPolicy,
    ClaimLine,
    DateOfServicePolicy,
    FamilyChoice,
    NotBillableReason,
    Role,
    decide,
)
from billing.scenario import (
    ExpectedDecision,
    ScenarioError,
    check_scenario,
    decision_to_json,
    differences,
    parse_scenario,
    parse_scenario_text,
)
from tests.billing.rules.builders import FEES

VALID: dict[str, Any] = {
    "format": "ccm-scenario/1",
    "id": "T-1",
    "title": "twenty minutes",
    "rules": ["R-CODE-2"],
    "facts": {
        "service_month": "2025-03",
        "practice": {"timezone": "America/New_York", "place_of_service": "11"},
        "billing_practitioner": "dr-a",
        "patient": {
            "medicare_part_b": True,
            "date_of_death": None,
            "enrolled_elsewhere": False,
            "blocked_by_model": False,
        },
        "conditions": [
            {"code": "E11.9", "chronic": True, "active": True},
            {"code": "I10", "chronic": True, "active": True},
        ],
        "visits": [{"date": "2025-01-15", "code": "99214", "by": "dr-a", "ccm_discussed": True}],
        "consents": [
            {"practitioner": "dr-a", "obtained": "2025-02-03", "revoked": None, "method": "verbal"}
        ],
        "care_plans": [
            {
                "version": 1,
                "signed_by": "dr-a",
                "signed_on": "2025-02-03",
                "patient_copy_on": "2025-02-03",
                "substantial_revision": False,
                "missing_elements": [],
            }
        ],
        "complexity": None,
        "other_services": [],
        "facility_stays": [],
        "time_entries": [
            {
                "by": "rn-1",
                "role": "clinical_staff",
                "start": "2025-03-10T09:00:00-04:00",
                "end": "2025-03-10T09:20:00-04:00",
                "part_of": None,
            }
        ],
    },
    "expected": {
        "billable": True,
        "lines": [{"code": "99490", "units": 1}],
        "date_of_service": "2025-03-10",
        "place_of_service": "11",
        "reason": None,
        "warnings": [],
        "counted_minutes": 20,
    },
}


def changed(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    """Return a deep copy of the valid scenario with ``change`` applied."""
    data = copy.deepcopy(VALID)
    change(data)
    return data


def facts(data: dict[str, Any]) -> dict[str, Any]:
    """Return the facts object of a scenario."""
    result: dict[str, Any] = data["facts"]
    return result


def first_entry(data: dict[str, Any]) -> dict[str, Any]:
    """Return the first time entry of a scenario."""
    result: dict[str, Any] = data["facts"]["time_entries"][0]
    return result


def test_a_valid_scenario_parses_into_facts_with_default_policies() -> None:
    # given
    text = json.dumps(VALID)

    # when
    scenario = parse_scenario_text(text)

    # then
    assert scenario.id == "T-1"
    assert scenario.title == "twenty minutes"
    assert scenario.rules == ("R-CODE-2",)
    practice = scenario.facts.practice
    assert practice.complex_requires_plan_revision is True
    assert practice.care_plan_copy is CarePlanCopyPolicy.BLOCK
    assert practice.family_choice is FamilyChoice.HIGHER_PAYMENT
    assert practice.date_of_service is DateOfServicePolicy.THRESHOLD
    assert scenario.facts.time_entries[0].role is Role.CLINICAL_STAFF
    assert scenario.facts.service_month == dt.date(2025, 3, 1)
    assert scenario.expected == ExpectedDecision(
        billable=True,
        lines=(ClaimLine("99490", 1),),
        date_of_service=dt.date(2025, 3, 10),
        place_of_service="11",
        reason=None,
        warnings=frozenset(),
        counted_minutes=20,
    )


def test_title_rules_and_expected_are_optional_and_policies_can_be_set() -> None:
    # given
    def strip(data: dict[str, Any]) -> None:
        for key in ("title", "rules", "expected"):
            del data[key]
        facts(data)["practice"].update(
            complex_requires_plan_revision=False,
            care_plan_copy="warn",
            family_choice="physician",
            date_of_service="month_end",
        )
        facts(data)["consents"][0]["obtained"] = "2025-02-03T10:15:00Z"

    # when
    scenario = parse_scenario(changed(strip))

    # then
    assert (scenario.title, scenario.rules, scenario.expected) == ("", (), None)
    assert scenario.facts.practice.complex_requires_plan_revision is False
    assert scenario.facts.practice.care_plan_copy is CarePlanCopyPolicy.WARN
    assert scenario.facts.practice.family_choice is FamilyChoice.PHYSICIAN
    assert scenario.facts.practice.date_of_service is DateOfServicePolicy.MONTH_END
    assert scenario.facts.consents[0].obtained == dt.datetime(2025, 2, 3, 10, 15, tzinfo=dt.UTC)


def _set(path: tuple[Any, ...], value: object) -> Callable[[dict[str, Any]], None]:
    """Return a change that sets the value at ``path``."""

    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _drop(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    """Return a change that deletes the field at ``path``."""

    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


ENTRY = ("facts", "time_entries", 0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _set(("format",), "ccm-scenario/2"),
            "format: expected 'ccm-scenario/1', got 'ccm-scenario/2'",
        ),
        (_set(("expect",), {}), "expect: unknown field"),
        (_drop(("facts",)), "facts: missing field"),
        (_set(("id",), 7), "id: expected a string, got a number"),
        (_set(("id",), " "), "id: must not be empty"),
        (_set(("title",), None), "title: expected a string, got null"),
        (_set(("rules",), "R-CODE-2"), "rules: expected an array, got a string"),
        (
            _set(("facts", "service_month"), "2025-13"),
            "facts.service_month: '2025-13' is not a month (YYYY-MM)",
        ),
        (
            _set(("facts", "service_month"), "2025-3"),
            "facts.service_month: '2025-3' is not a month (YYYY-MM)",
        ),
        (
            _set(("facts", "practice", "time_zone"), "UTC"),
            "facts.practice.time_zone: unknown field",
        ),
        (
            _set(("facts", "practice", "timezone"), "Mars/Olympus"),
            "facts.practice.timezone: unknown IANA time zone 'Mars/Olympus'",
        ),
        (
            _set(("facts", "practice", "timezone"), "/etc/passwd"),
            "facts.practice.timezone: unknown IANA time zone '/etc/passwd'",
        ),
        (
            _set(("facts", "practice", "care_plan_copy"), "maybe"),
            "facts.practice.care_plan_copy: unknown care_plan_copy policy 'maybe' (expected one of "
            "block, warn)",
        ),
        (
            _set(("facts", "patient", "medicare_part_b"), 1),
            "facts.patient.medicare_part_b: expected true or false, got a number",
        ),
        (
            _drop(("facts", "patient", "date_of_death")),
            "facts.patient.date_of_death: missing field",
        ),
        (
            _set(("facts", "patient", "date_of_death"), "2025/03/18"),
            "facts.patient.date_of_death: '2025/03/18' is not a date (YYYY-MM-DD)",
        ),
        (_set(("facts", "conditions"), {}), "facts.conditions: expected an array, got an object"),
        (
            _set(("facts", "conditions", 1), []),
            "facts.conditions[1]: expected an object, got an array",
        ),
        (
            _set(("facts", "visits", 0, "date"), "2025-02-30"),
            "facts.visits[0].date: '2025-02-30' is not a date (YYYY-MM-DD)",
        ),
        (
            _set(("facts", "consents", 0, "revoked"), "2025-01-31"),
            "facts.consents[0].revoked: 2025-01-31 is before obtained 2025-02-03",
        ),
        (
            _set(("facts", "consents", 0, "method"), "email"),
            "facts.consents[0].method: unknown consent method 'email' (expected one of verbal, "
            "written)",
        ),
        (
            _set(("facts", "consents", 0, "obtained"), "2025-02-03T10:00"),
            "facts.consents[0].obtained: '2025-02-03T10:00' is not a timestamp with a UTC offset",
        ),
        (
            _set(("facts", "care_plans", 0, "version"), "1"),
            "facts.care_plans[0].version: expected a whole number, got a string",
        ),
        (
            _set(("facts", "care_plans", 0, "version"), True),
            "facts.care_plans[0].version: expected a whole number, got a boolean",
        ),
        (
            _set(("facts", "care_plans", 0, "version"), 0),
            "facts.care_plans[0].version: must be at least 1, got 0",
        ),
        (
            _set(("facts", "care_plans", 0, "missing_elements"), [1.5]),
            "facts.care_plans[0].missing_elements[0]: expected a string, got a number",
        ),
        (
            _set(("facts", "complexity"), {"mdm": "low", "by": "dr-a"}),
            "facts.complexity.mdm: unknown mdm level 'low' (expected one of high, moderate)",
        ),
        (
            _set(("facts", "other_services"), [{"code": "G0181", "by": "dr-a"}]),
            "facts.other_services[0].date: missing field",
        ),
        (
            _set(
                ("facts", "facility_stays"),
                [{"kind": "inpatient", "from": "2025-03-10", "to": "2025-03-09"}],
            ),
            "facts.facility_stays[0].to: 2025-03-09 is before from 2025-03-10",
        ),
        (
            _set(
                ("facts", "facility_stays"),
                [{"kind": "hospice", "from": "2025-03-10", "to": "2025-03-12"}],
            ),
            "facts.facility_stays[0].kind: unknown stay kind 'hospice' (expected one of inpatient, "
            "snf_part_a)",
        ),
        (
            _set((*ENTRY, "role"), "nurse"),
            "facts.time_entries[0].role: unknown role 'nurse' (expected one of clinical_staff, "
            "non_clinical, practitioner)",
        ),
        (
            _set((*ENTRY, "start"), "2025-03-10T09:00:00"),
            "facts.time_entries[0].start: '2025-03-10T09:00:00' is not a timestamp with a UTC "
            "offset",
        ),
        (
            _set((*ENTRY, "start"), "2025-03-10T25:00:00-04:00"),
            "facts.time_entries[0].start: '2025-03-10T25:00:00-04:00' is not a timestamp with a "
            "UTC offset",
        ),
        (
            _set((*ENTRY, "end"), "2025-03-10T08:59:00-04:00"),
            "facts.time_entries[0].end: 2025-03-10T08:59:00-04:00 is before start",
        ),
        (_drop((*ENTRY, "part_of")), "facts.time_entries[0].part_of: missing field"),
        (
            _set(("expected", "billable"), False),
            "expected.lines: billable is false but 1 lines are given",
        ),
        (
            _set(("expected", "reason"), "NB_SOMETHING"),
            "expected.reason: unknown reason 'NB_SOMETHING' (expected one of "
            + ", ".join(sorted(NotBillableReason))
            + ")",
        ),
        (
            _set(("expected", "warnings"), ["W_NOPE"]),
            "expected.warnings[0]: unknown warning 'W_NOPE' (expected one of "
            + ", ".join(sorted(BillingWarning))
            + ")",
        ),
        (
            _set(("expected", "counted_minutes"), -1),
            "expected.counted_minutes: must be at least 0, got -1",
        ),
        (
            _set(("expected", "lines", 0, "units"), 0),
            "expected.lines[0].units: must be at least 1, got 0",
        ),
    ],
)
def test_a_malformed_scenario_names_the_field_and_the_problem(
    change: Callable[[dict[str, Any]], None], message: str
) -> None:
    # given
    data = changed(change)

    # when
    with pytest.raises(ScenarioError) as raised:
        parse_scenario(data)

    # then
    assert str(raised.value) == message


def test_text_that_is_not_json_is_reported_with_its_position() -> None:
    # given
    text = '{"format": "ccm-scenario/1",\n  "id": }'

    # when
    with pytest.raises(ScenarioError) as raised:
        parse_scenario_text(text)

    # then
    assert str(raised.value) == "not valid JSON: Expecting value at line 2 column 9"


def test_a_field_given_twice_is_an_error() -> None:
    # given
    text = '{"format": "ccm-scenario/1", "id": "a", "id": "b"}'

    # when
    with pytest.raises(ScenarioError) as raised:
        parse_scenario_text(text)

    # then
    assert str(raised.value) == "duplicate field 'id' in one JSON object"


def test_a_top_level_array_is_not_a_scenario() -> None:
    # given
    text = "[]"

    # when
    with pytest.raises(ScenarioError) as raised:
        parse_scenario_text(text)

    # then
    assert str(raised.value) == "(top level): expected an object, got an array"


def test_a_decision_renders_as_the_documented_json_object() -> None:
    # given
    scenario = parse_scenario(changed(lambda _: None))

    # when
    rendered = decision_to_json(decide(scenario.facts, FEES), scenario.id)

    # then
    assert list(rendered) == [
        "id",
        "billable",
        "lines",
        "date_of_service",
        "place_of_service",
        "reason",
        "warnings",
        "counted_minutes",
        "unpaid_minutes",
        "diagnoses",
        "explanation",
    ]
    assert rendered["lines"] == [{"code": "99490", "units": 1}]
    assert rendered["date_of_service"] == "2025-03-10"
    assert rendered["diagnoses"] == ["E11.9", "I10"]
    assert json.loads(json.dumps(rendered))["reason"] is None


def test_a_blocked_decision_renders_nulls_and_its_reason() -> None:
    # given
    scenario = parse_scenario(changed(_set(("facts", "consents"), [])))

    # when
    rendered = decision_to_json(decide(scenario.facts, FEES))

    # then
    assert "id" not in rendered
    assert rendered["billable"] is False
    assert rendered["date_of_service"] is None
    assert json.loads(json.dumps(rendered))["reason"] == "NB_CONSENT_MISSING"


def test_what_differs_is_listed_field_by_field() -> None:
    # given
    scenario = parse_scenario(changed(_set(("facts", "consents"), [])))
    expected = ExpectedDecision(
        billable=True,
        lines=(ClaimLine("99490", 1),),
        date_of_service=dt.date(2025, 3, 10),
        place_of_service="11",
        reason=None,
        warnings=frozenset({BillingWarning.W_NO_VISIT_12M}),
        counted_minutes=20,
    )

    # when
    found = differences(decide(scenario.facts, FEES), expected)

    # then
    assert found == (
        "billable: expected true, got false",
        "lines: expected 99490 x1, got none",
        "date_of_service: expected 2025-03-10, got null",
        "place_of_service: expected 11, got null",
        "reason: expected null, got NB_CONSENT_MISSING",
        "warnings: missing W_NO_VISIT_12M",
        "counted_minutes: expected 20, got 0",
    )


def test_unexpected_warnings_are_listed_and_counted_minutes_are_optional() -> None:
    # given
    def warn_without_copy(data: dict[str, Any]) -> None:
        facts(data)["practice"]["care_plan_copy"] = "warn"
        facts(data)["care_plans"][0]["patient_copy_on"] = None
        del data["expected"]["counted_minutes"]

    scenario = parse_scenario(changed(warn_without_copy))

    # when
    decision, found = check_scenario(scenario, FEES)

    # then
    assert decision.warnings == {BillingWarning.W_CARE_PLAN_COPY_MISSING}
    assert found == ("warnings: unexpected W_CARE_PLAN_COPY_MISSING",)


def test_checking_a_scenario_without_expected_is_an_error() -> None:
    # given
    scenario = parse_scenario(changed(_drop(("expected",))))

    # when
    with pytest.raises(ValueError, match="T-1: no 'expected' object to check against"):
        check_scenario(scenario, FEES)

    # then
    assert scenario.expected is None
