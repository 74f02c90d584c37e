"""``manage.py explain_month FILE.json [...]``: decide scenario files without a database.

Prints each decision and its explanation (text, or ``--format json``), or with ``--check``
compares each decision with the file's ``expected`` exactly as SCENARIO_FORMAT.md describes:
``PASS id`` / ``FAIL id: <what differs>`` / ``ERROR <file>: <what is wrong>``, then
``N passed, N failed``; exit status 1 when any failed, 2 when a file has no ``expected``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError

from billing.fees import default_fee_schedule
from billing.pricing import (
    FeeNotAvailableError,
    FeeSchedule,
    is_facility_place_of_service,
    price_lines,
)
from billing.rules import (
    ClaimLine,
    MonthDecision,
    UnsupportedServiceYearError,
    decide,
    format_cents,
    format_lines,
)
from billing.scenario import (
    Scenario,
    ScenarioError,
    decision_to_json,
    differences,
    parse_scenario_text,
)

if TYPE_CHECKING:
    from argparse import ArgumentParser

EXIT_FAILED = 1
EXIT_NO_EXPECTED = 2


@dataclass(frozen=True, slots=True)
class _Outcome:
    """One file's result: its scenario and decision, or why it could not be decided."""

    file: str
    scenario: Scenario | None = None
    decision: MonthDecision | None = None
    error: str | None = None


def _decide_file(path: str) -> _Outcome:
    """Read, parse and decide one file; malformed input becomes an error, never a traceback."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return _Outcome(path, error=f"cannot read the file: {error}")
    try:
        scenario = parse_scenario_text(text)
    except ScenarioError as error:
        return _Outcome(path, error=str(error))
    try:
        decision = decide(scenario.facts, default_fee_schedule())
    except (UnsupportedServiceYearError, FeeNotAvailableError) as error:
        return _Outcome(path, scenario=scenario, error=str(error))
    return _Outcome(path, scenario=scenario, decision=decision)


def _amount_line(
    lines: tuple[ClaimLine, ...], date_of_service: dt.date, place: str, fees: FeeSchedule
) -> str:
    """Describe the national amount of billed lines (RULES.md §12, R-POS-1)."""
    facility = is_facility_place_of_service(place)
    setting = "facility" if facility else "non-facility"
    try:
        priced = price_lines(lines, fees, date_of_service, facility)
    except FeeNotAvailableError as error:
        return f"not available ({error})"
    return (
        f"{format_cents(priced.total_cents)} (CY{date_of_service.year} national {setting}, "
        f"CF {priced.conversion_factor})"
    )


class Command(BaseCommand):
    """Explain or check scenario files; never touches the database."""

    help = "Decide CCM scenario files (SCENARIO_FORMAT.md) and explain or check the decisions."
    requires_system_checks = []  # no system checks: this command must run without a database
    requires_migrations_checks = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        """Declare the files and the output options."""
        parser.add_argument("files", nargs="+", metavar="FILE.json", help="scenario files")
        parser.add_argument(
            "--format", choices=("text", "json"), default="text", help="output format"
        )
        parser.add_argument(
            "--check", action="store_true", help="compare each decision with the file's expected"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Decide every file, then print text, JSON or the check report."""
        outcomes = [_decide_file(path) for path in options["files"]]
        if options["check"]:
            self._check(outcomes)
        elif options["format"] == "json":
            self._json(outcomes)
        else:
            self._text(outcomes)

    def _check(self, outcomes: list[_Outcome]) -> None:
        """Print PASS/FAIL/ERROR lines and the summary; exit 1 on failure, 2 without expected."""
        passed = failed = 0
        no_expected = False
        for outcome in outcomes:
            scenario, decision = outcome.scenario, outcome.decision
            if outcome.error is not None or scenario is None or decision is None:
                self.stdout.write(f"ERROR {outcome.file}: {outcome.error}")
                failed += 1
            elif scenario.expected is None:
                self.stdout.write(f"ERROR {outcome.file}: no 'expected' object to check against")
                no_expected = True
                failed += 1
            elif found := differences(decision, scenario.expected):
                self.stdout.write(f"FAIL {scenario.id}: {'; '.join(found)}")
                failed += 1
            else:
                self.stdout.write(f"PASS {scenario.id}")
                passed += 1
        self.stdout.write(f"{passed} passed, {failed} failed")
        if no_expected:
            message = "--check needs an 'expected' object in every file"
            raise CommandError(message, returncode=EXIT_NO_EXPECTED)
        if failed:
            message = f"{failed} of {len(outcomes)} scenario files failed"
            raise CommandError(message, returncode=EXIT_FAILED)

    def _json(self, outcomes: list[_Outcome]) -> None:
        """Print one JSON decision object per file; an array when there are several."""
        objects: list[dict[str, object]] = []
        for outcome in outcomes:
            scenario, decision = outcome.scenario, outcome.decision
            if outcome.error is not None or scenario is None or decision is None:
                objects.append({"file": outcome.file, "error": outcome.error})
            else:
                objects.append(decision_to_json(decision, scenario.id))
        payload: object = objects[0] if len(objects) == 1 else objects
        self.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False))
        self._fail_on_errors(outcomes)

    def _text(self, outcomes: list[_Outcome]) -> None:
        """Print a block a biller can read for each file."""
        fees = default_fee_schedule()
        for index, outcome in enumerate(outcomes):
            if index:
                self.stdout.write("")
            scenario, decision = outcome.scenario, outcome.decision
            if outcome.error is not None or scenario is None or decision is None:
                self.stdout.write(f"ERROR {outcome.file}: {outcome.error}")
                continue
            heading = f"{scenario.id}: {scenario.title}" if scenario.title else scenario.id
            self.stdout.write(f"{heading}  ({outcome.file})")
            date_of_service, place = decision.date_of_service, decision.place_of_service
            if date_of_service is not None and place is not None:  # billable
                amount = _amount_line(decision.lines, date_of_service, place, fees)
                self.stdout.write(
                    f"  decision:  {format_lines(decision.lines)}, DOS {date_of_service}, "
                    f"POS {place}"
                )
                self.stdout.write(f"  amount:    {amount}")
                self.stdout.write(f"  diagnoses: {', '.join(decision.diagnoses)}")
            else:
                self.stdout.write(f"  decision:  not billable ({decision.reason})")
            self.stdout.write(
                f"  minutes:   {decision.counted_minutes} counted "
                f"({decision.practitioner_minutes} the billing practitioner's own), "
                f"{decision.unpaid_minutes} unpaid"
            )
            self.stdout.write(f"  warnings:  {', '.join(sorted(decision.warnings)) or 'none'}")
            self.stdout.write("  why:")
            for sentence in decision.explanation:
                self.stdout.write(f"    - {sentence}")
        self._fail_on_errors(outcomes)

    @staticmethod
    def _fail_on_errors(outcomes: list[_Outcome]) -> None:
        """Exit 1 when any file could not be decided."""
        errors = sum(outcome.error is not None for outcome in outcomes)
        if errors:
            message = f"{errors} of {len(outcomes)} files could not be decided"
            raise CommandError(message, returncode=EXIT_FAILED)
