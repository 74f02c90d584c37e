"""The content of a version, without the database: parsing, completeness, diff, digest."""

from __future__ import annotations

import datetime as dt

import pytest

from careplans.content import (
    ELEMENTS,
    TEXT_FIELD_NAMES,
    ContentError,
    PlanContent,
    content_digest,
    diff,
    missing_elements,
)

CONDITION = "8f7d2c3e-5d55-4a36-9a8e-0d2c8f1e6b11"
GOAL = {
    "key": "0b6b7a52-1b65-4b8e-9f0e-4bb0a1c3d001",
    "goal": "Keep blood sugar in a safe range",
    "measure": "HbA1c",
    "target": "Below 8.0 %",
    "target_date": "2025-06-10",
    "status": "in_progress",
    "condition": CONDITION,
}
INTERVENTION = {
    "key": "0b6b7a52-1b65-4b8e-9f0e-4bb0a1c3d002",
    "intervention": "Review the glucose log by phone",
    "responsible_role": "care_coordinator",
    "frequency": "Monthly",
}
PROBLEM = {
    "key": "0b6b7a52-1b65-4b8e-9f0e-4bb0a1c3d003",
    "condition": CONDITION,
    "code": "E11.9",
    "description": "Type 2 diabetes mellitus without complications",
}


def complete(**overrides: object) -> PlanContent:
    texts = {name: f"{name} text" for name in TEXT_FIELD_NAMES}
    raw: dict[str, object] = {
        "texts": texts,
        "next_review_on": "2025-06-10",
        "problems": [PROBLEM],
        "goals": [GOAL],
        "interventions": [INTERVENTION],
    }
    raw.update(overrides)
    return PlanContent.parse(**raw)  # type: ignore[arg-type]


def test_complete_content_misses_no_element():
    # when
    missing = missing_elements(complete())
    # then
    assert missing == []


def test_empty_content_misses_every_element_in_rule_order():
    # when
    missing = missing_elements(
        PlanContent.parse(texts={}, next_review_on=None, problems=[], goals=[], interventions=[])
    )
    # then
    assert missing == list(ELEMENTS)
    assert missing[:3] == [
        "problem list",
        "expected outcome and prognosis",
        "measurable treatment goals",
    ]


def test_plan_without_goals_is_flagged_for_measurable_goals():
    # when
    missing = missing_elements(complete(goals=[]))
    # then
    assert missing == ["measurable treatment goals"]


def test_an_element_of_two_fields_is_missing_when_either_is_blank():
    # given
    texts = dict.fromkeys(TEXT_FIELD_NAMES, "documented") | {"prognosis": "  "}
    # when
    missing = missing_elements(complete(texts=texts))
    # then
    assert missing == ["expected outcome and prognosis"]


@pytest.mark.parametrize(
    ("goal", "message"),
    [
        (GOAL | {"measure": ""}, "The goal “Keep blood sugar in a safe range” has no measure"),
        (GOAL | {"target": " "}, "The goal “Keep blood sugar in a safe range” has no target"),
        (GOAL | {"goal": ""}, "Each goal needs a description."),
        (GOAL | {"status": "done"}, "“done” is not a goal status."),
        (GOAL | {"target_date": "June"}, "target_date must be a date (YYYY-MM-DD)."),
    ],
)
def test_a_goal_that_cannot_be_measured_is_refused(goal, message):
    # when
    with pytest.raises(ContentError) as error:
        complete(goals=[goal])
    # then
    assert error.value.message.startswith(message)


def test_an_intervention_without_a_responsible_role_is_refused():
    # when
    with pytest.raises(ContentError) as error:
        complete(interventions=[INTERVENTION | {"responsible_role": ""}])
    # then
    assert error.value.message == "Say who is responsible for “Review the glucose log by phone”."
    assert error.value.field == "interventions"


def test_a_condition_listed_twice_is_refused():
    # when
    with pytest.raises(ContentError) as error:
        complete(problems=[PROBLEM, PROBLEM | {"key": None}])
    # then
    assert error.value.message == "A condition is on the problem list twice."


def test_diff_lists_field_changes_and_goals_added_removed_changed():
    # given
    before = complete()
    new_goal = GOAL | {"key": "0b6b7a52-1b65-4b8e-9f0e-4bb0a1c3d009", "goal": "Walk daily"}
    after = complete(
        texts={name: f"{name} text" for name in TEXT_FIELD_NAMES} | {"prognosis": "Better"},
        goals=[GOAL | {"target": "Below 7.5 %", "status": "met"}, new_goal],
        interventions=[],
    )
    # when
    changes = diff(before, after)
    # then
    assert [(c.name, c.before, c.after) for c in changes.fields] == [
        ("prognosis", "prognosis text", "Better")
    ]
    assert [(c.kind, c.item.key, c.fields) for c in changes.goals] == [
        ("changed", GOAL["key"], ("target", "status")),
        ("added", new_goal["key"], ()),
    ]
    assert [(c.kind, c.item.key) for c in changes.interventions] == [
        ("removed", INTERVENTION["key"])
    ]
    assert changes.problems == ()
    assert changes.summary() == {
        "fields": ["prognosis"],
        "problems": {"added": [], "removed": [], "changed": []},
        "goals": {"added": [new_goal["key"]], "removed": [], "changed": [GOAL["key"]]},
        "interventions": {"added": [], "removed": [INTERVENTION["key"]], "changed": []},
    }


def test_diff_of_identical_content_is_empty():
    # when
    changes = diff(complete(), complete())
    # then
    assert changes.is_empty is True


def test_digest_is_stable_and_covers_every_item():
    # given
    content = complete()
    # when
    same = content_digest(complete())
    other = content_digest(complete(goals=[GOAL | {"target": "Below 7.9 %"}]))
    # then
    assert content_digest(content) == same
    assert other != same
    assert len(same) == 64


def test_review_date_change_is_a_field_change():
    # when
    changes = diff(complete(), complete(next_review_on=dt.date(2025, 9, 1)))
    # then
    assert [(c.name, c.before, c.after) for c in changes.fields] == [
        ("next_review_on", "2025-06-10", "2025-09-01")
    ]
