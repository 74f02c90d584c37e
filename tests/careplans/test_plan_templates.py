"""The built-in care-plan templates (data files) and how they match conditions."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from careplans.content import ResponsibleRole
from careplans.plan_templates import (
    TEMPLATE_DIR,
    builtin_templates,
    templates_matching,
)

REQUIRED = {
    "builtin:diabetes",
    "builtin:hypertension",
    "builtin:chronic_kidney_disease",
    "builtin:heart_failure",
    "builtin:copd",
    "builtin:asthma",
    "builtin:atrial_fibrillation",
    "builtin:depression",
    "builtin:dementia",
    "builtin:osteoarthritis",
}


def test_ten_common_chronic_conditions_have_a_template():
    # when
    keys = {template.key for template in builtin_templates()}
    # then
    assert keys == REQUIRED


@pytest.mark.parametrize("path", sorted(TEMPLATE_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_each_data_file_is_complete(path):
    # when
    raw = json.loads(path.read_text(encoding="utf-8"))
    # then
    assert raw["format"] == "ccm-care-plan-template/1"
    assert raw["key"] == path.stem
    assert raw["icd10_prefixes"]
    assert raw["symptom_management"].strip()
    assert len(raw["goals"]) >= 3
    assert all(goal["measure"].strip() and goal["target"].strip() for goal in raw["goals"])
    assert len(raw["interventions"]) >= 3
    assert {item["responsible_role"] for item in raw["interventions"]} <= set(
        ResponsibleRole.values
    )
    assert all(source["name"] and source["url"].startswith("https://") for source in raw["sources"])


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (["E11.9"], ["diabetes"]),
        (["I11.0"], ["heart_failure", "hypertension"]),
        (["N18.31", "E11.65"], ["chronic_kidney_disease", "diabetes"]),
        (["F33.1", "G30.9"], ["depression", "dementia"]),
        (["M17.11"], ["osteoarthritis"]),
        (["J44.9", "J45.40", "I48.91"], ["copd", "asthma", "atrial_fibrillation"]),
        (["Z79.4"], []),
    ],
)
def test_templates_match_by_icd10_prefix_in_the_order_of_the_codes(codes, expected):
    # when
    matched = templates_matching(builtin_templates(), codes)
    # then
    assert [template.key.removeprefix("builtin:") for template in matched] == expected


def test_template_goals_get_a_target_date_from_today():
    # given
    diabetes = next(t for t in builtin_templates() if t.key == "builtin:diabetes")
    # when
    goals = diabetes.goals_for(condition="c-1", today=dt.date(2025, 3, 10))
    # then
    assert [(g.measure, g.target_date, g.condition) for g in goals[:2]] == [
        ("HbA1c", dt.date(2025, 6, 8), "c-1"),
        ("Readings below 70 mg/dL reported in the month", dt.date(2025, 4, 9), "c-1"),
    ]
