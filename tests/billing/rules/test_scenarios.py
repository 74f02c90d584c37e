"""Every scenario file in billing/scenarios/ decides as its ``expected`` says."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from billing.scenario import check_scenario, parse_scenario_text
from tests.billing.rules.builders import FEES

SCENARIO_DIR = Path(__file__).resolve().parents[3] / "billing" / "scenarios"
SCENARIO_FILES = sorted(SCENARIO_DIR.glob("*.json"))


def test_the_repo_keeps_worked_and_hand_written_scenarios() -> None:
    # given
    stems = {path.stem for path in SCENARIO_FILES}

    # when
    worked = {stem for stem in stems if stem.startswith("SC-")}
    hand_written = {stem for stem in stems if stem.startswith("X-")}

    # then
    assert {"SC-02", "SC-13", "SC-27", "SC-28-march", "SC-28-april"} <= worked
    assert len(hand_written) >= 60
    assert stems == worked | hand_written


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[path.stem for path in SCENARIO_FILES])
def test_scenario_file_decides_as_expected(path: Path) -> None:
    # given
    scenario = parse_scenario_text(path.read_text(encoding="utf-8"))

    # when
    decision, differences = check_scenario(scenario, FEES)

    # then
    assert scenario.id == path.stem
    assert differences == (), "\n".join(decision.explanation)


def test_explain_month_check_passes_every_scenario_file() -> None:
    # given
    out = StringIO()

    # when
    call_command("explain_month", "--check", *map(str, SCENARIO_FILES), stdout=out)

    # then
    lines = out.getvalue().splitlines()
    assert lines[-1] == f"{len(SCENARIO_FILES)} passed, 0 failed"
    assert [line.split()[0] for line in lines[:-1]] == ["PASS"] * len(SCENARIO_FILES)
