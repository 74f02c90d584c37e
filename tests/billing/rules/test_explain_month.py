"""``manage.py explain_month`` and ``manage.py bench_rules``: output, formats and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

REPO = Path(__file__).resolve().parents[3]
SCENARIOS = REPO / "billing" / "scenarios"
SC_02 = str(SCENARIOS / "SC-02.json")
SC_27 = str(SCENARIOS / "SC-27.json")


def run(*args: str) -> tuple[str, CommandError | None]:
    """Run explain_month; return its standard output and the CommandError it raised, if any."""
    out = StringIO()
    try:
        call_command("explain_month", *args, stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def write(tmp_path: Path, name: str, text: str) -> str:
    """Write a file under tmp_path and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def scenario_text(**changes: object) -> str:
    """Return SC-02's text with top-level fields changed (None deletes the field)."""
    data = json.loads(Path(SC_02).read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    return json.dumps(data)


def test_text_output_explains_a_billable_month_with_its_amount() -> None:
    # given
    files = (SC_02,)

    # when
    output, error = run(*files)

    # then
    assert error is None
    lines = output.splitlines()
    assert lines[0] == f"SC-02: exactly 20 minutes  ({SC_02})"
    assert lines[1:6] == [
        "  decision:  99490 x1, DOS 2025-03-10, POS 11",
        "  amount:    $60.49 (CY2025 national non-facility, CF 32.3465)",
        "  diagnoses: E11.9, I10, N18.30",
        "  minutes:   20 counted (0 the billing practitioner's own), 0 unpaid",
        "  warnings:  none",
    ]
    assert lines[6] == "  why:"
    assert "    - Billed 99490 x1 (staff family, R-CODE-1/2)." in lines


def test_text_output_says_why_a_month_is_not_billable() -> None:
    # given
    files = (SC_02, SC_27)

    # when
    output, error = run(*files)

    # then
    assert error is None
    assert "  decision:  not billable (NB_CONSENT_MISSING)" in output.splitlines()
    assert (
        "    - Not billable: no consent to dr-a is documented on or before 2025-03-31 "
        "(R-CONS-1/2)." in output.splitlines()
    )


def test_text_output_shows_when_a_fee_is_not_loaded(tmp_path: Path) -> None:
    # given
    data = json.loads(Path(SC_02).read_text(encoding="utf-8"))
    data["facts"]["practice"]["place_of_service"] = "22"
    del data["title"]
    path = write(tmp_path, "pos22.json", json.dumps(data))

    # when
    output, error = run(path)

    # then
    assert error is None
    assert output.splitlines()[0] == f"SC-02  ({path})"
    assert (
        "  amount:    not available (CY2025 has no facility RVU for 99490 (load the CMS PPRRVU "
        "file))" in output.splitlines()
    )


def test_json_output_is_one_object_for_one_file_and_an_array_for_several() -> None:
    # given
    one, several = (SC_02,), (SC_02, SC_27)

    # when
    single, _ = run("--format", "json", *one)
    many, _ = run("--format", "json", *several)

    # then
    assert json.loads(single)["id"] == "SC-02"
    assert json.loads(single)["lines"] == [{"code": "99490", "units": 1}]
    assert [item["id"] for item in json.loads(many)] == ["SC-02", "SC-27"]
    assert json.loads(many)[1]["reason"] == "NB_CONSENT_MISSING"


def test_json_output_reports_a_malformed_file_and_exits_1(tmp_path: Path) -> None:
    # given
    broken = write(tmp_path, "broken.json", "{")

    # when
    output, error = run("--format", "json", SC_02, broken)

    # then
    assert json.loads(output)[1] == {
        "file": broken,
        "error": "not valid JSON: Expecting property name enclosed in double quotes at line 1 "
        "column 2",
    }
    assert error is not None
    assert error.returncode == 1


def test_check_prints_pass_and_the_summary() -> None:
    # given
    files = (SC_02, SC_27)

    # when
    output, error = run("--check", *files)

    # then
    assert error is None
    assert output.splitlines() == ["PASS SC-02", "PASS SC-27", "2 passed, 0 failed"]


def test_check_prints_what_differs_and_exits_1(tmp_path: Path) -> None:
    # given
    wrong = write(
        tmp_path,
        "wrong.json",
        scenario_text(
            expected={
                "billable": True,
                "lines": [{"code": "99490", "units": 1}, {"code": "99439", "units": 1}],
                "date_of_service": "2025-03-10",
                "place_of_service": "11",
                "reason": None,
                "warnings": ["W_NO_VISIT_12M"],
            }
        ),
    )

    # when
    output, error = run("--check", SC_02, wrong)

    # then
    assert output.splitlines() == [
        "PASS SC-02",
        "FAIL SC-02: lines: expected 99490 x1 + 99439 x1, got 99490 x1; warnings: missing "
        "W_NO_VISIT_12M",
        "1 passed, 1 failed",
    ]
    assert error is not None
    assert error.returncode == 1
    assert str(error) == "1 of 2 scenario files failed"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "not valid JSON: Expecting value at line 1 column 1"),
        (scenario_text(extra=1), "extra: unknown field"),
        (scenario_text(facts=None), "facts: missing field"),
        (
            scenario_text(format="ccm-scenario/0"),
            "format: expected 'ccm-scenario/1', got 'ccm-scenario/0'",
        ),
    ],
)
def test_check_reports_a_malformed_file_as_an_error_that_counts_as_failed(
    tmp_path: Path, text: str, reason: str
) -> None:
    # given
    path = write(tmp_path, "bad.json", text)

    # when
    output, error = run("--check", path, SC_02)

    # then
    assert output.splitlines() == [f"ERROR {path}: {reason}", "PASS SC-02", "1 passed, 1 failed"]
    assert error is not None
    assert error.returncode == 1


def test_check_reports_an_unreadable_file_and_an_unsupported_year(tmp_path: Path) -> None:
    # given
    missing = str(tmp_path / "missing.json")
    data = json.loads(Path(SC_02).read_text(encoding="utf-8"))
    data["facts"]["service_month"] = "2023-03"
    old = write(tmp_path, "old.json", json.dumps(data))

    # when
    output, error = run("--check", missing, old)

    # then
    lines = output.splitlines()
    assert lines[0].startswith(f"ERROR {missing}: cannot read the file: ")
    assert lines[1:] == [
        f"ERROR {old}: service year 2023 has no rule set (supported: CY2024, CY2025, CY2026)",
        "0 passed, 2 failed",
    ]
    assert error is not None
    assert error.returncode == 1


def test_check_without_expected_exits_2(tmp_path: Path) -> None:
    # given
    bare = write(tmp_path, "bare.json", scenario_text(expected=None))

    # when
    output, error = run("--check", bare, SC_02)

    # then
    assert output.splitlines() == [
        f"ERROR {bare}: no 'expected' object to check against",
        "PASS SC-02",
        "1 passed, 1 failed",
    ]
    assert error is not None
    assert error.returncode == 2


def test_text_output_lists_errors_and_exits_1(tmp_path: Path) -> None:
    # given
    broken = write(tmp_path, "broken.json", "[]")

    # when
    output, error = run(broken)

    # then
    assert output.splitlines() == [f"ERROR {broken}: (top level): expected an object, got an array"]
    assert error is not None
    assert str(error) == "1 of 1 files could not be decided"


def manage(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python manage.py explain_month ARGS`` in the repo, as a biller would."""
    command = [sys.executable, "manage.py", "explain_month", *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)


def test_manage_py_exit_codes_and_no_traceback(tmp_path: Path) -> None:
    # given
    bare = write(tmp_path, "bare.json", scenario_text(expected=None))
    broken = write(tmp_path, "broken.json", "{")

    # when
    passing = manage("--check", SC_02)
    failing = manage("--check", broken)
    no_expected = manage("--check", bare)

    # then
    assert (passing.returncode, passing.stdout) == (0, "PASS SC-02\n1 passed, 0 failed\n")
    assert failing.returncode == 1
    assert failing.stdout.splitlines()[-1] == "0 passed, 1 failed"
    assert no_expected.returncode == 2
    assert "Traceback" not in failing.stderr + no_expected.stderr


def test_bench_rules_reports_decisions_per_second() -> None:
    # given
    out = StringIO()

    # when
    call_command("bench_rules", "--n", "300", "--seed", "7", "--repeat", "2", stdout=out)

    # then
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("decided 300 patient-months (seed 7) in ")
    assert any(line.endswith("decisions/s on one core (best of 2 rounds)") for line in lines)
    assert any(line.startswith("  billable: ") for line in lines)
