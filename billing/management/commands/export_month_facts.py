"""``manage.py export_month_facts --practice SLUG --month YYYY-MM [--patient MRN] [--output DIR]``.

Writes the facts of a real practice-month as scenario files (SCENARIO_FORMAT.md), one per
patient, so that any month can be replayed without the database: ``explain_month FILE.json``.
Each file's ``expected`` is the decision the database path reaches on the same facts, so
``explain_month --check DIR/*.json`` proves that the JSON path decides the same.

With ``--patient`` and no ``--output`` the one scenario is printed. Person ids are
``m-<membership id>`` (members) and ``npi-<NPI>`` (outside practitioners); the files hold the
patient's MRN and clinical facts (no name): treat them as PHI. The export is audited.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.management.base import CommandError

from billing.facts import month_facts
from billing.fees import default_fee_schedule
from billing.rules import UnsupportedServiceYearError, decide
from billing.scenario import scenario_to_json
from ccm.audit import AuditEvent, audit_read
from ccm.commands import PracticeCommand
from timetracking.months import parse_month

if TYPE_CHECKING:
    from argparse import ArgumentParser

    from ccm.models import Practice


class Command(PracticeCommand):
    help = "Write a practice-month's facts as scenario JSON files (one per patient)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--month", required=True, help="the service month, YYYY-MM")
        parser.add_argument(
            "--patient", action="append", default=None, metavar="MRN", help="only this patient"
        )
        parser.add_argument("--output", help="folder to write <MRN>.json files into")
        parser.add_argument(
            "--no-expected",
            action="store_true",
            help="leave out each file's expected decision",
        )

    def handle_practice(self, practice: Practice, **options: Any) -> str | None:
        try:
            service_month = parse_month(options["month"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        mrns = options["patient"]
        output = options["output"]
        if output is None and (mrns is None or len(mrns) != 1):
            raise CommandError("Give --output DIR, or one --patient MRN to print its scenario.")
        facts = month_facts(practice=practice, service_month=service_month, mrns=mrns)
        if mrns is not None:
            missing = sorted(set(mrns) - {month.mrn for month in facts.patients})
            if missing:
                raise CommandError(f"No patient with MRN {', '.join(missing)} in {practice.slug}.")
        fees = default_fee_schedule()
        label = f"{service_month:%Y-%m}"
        scenarios = []
        for month in facts.patients:
            try:
                expected = None if options["no_expected"] else decide(month.facts, fees)
            except UnsupportedServiceYearError as exc:
                raise CommandError(str(exc)) from exc
            scenarios.append(
                (
                    month.mrn,
                    scenario_to_json(
                        scenario_id=f"{practice.slug}-{label}-{month.mrn}",
                        title=f"{practice.name}, {label}, patient {month.mrn}",
                        facts=month.facts,
                        expected=expected,
                    ),
                )
            )
        audit_read(
            practice=practice,
            actor=None,
            event=AuditEvent.BILLING_FACTS_EXPORTED,
            patient_public_ids=[month.patient_public_id for month in facts.patients],
        )
        if output is None:
            self.stdout.write(json.dumps(scenarios[0][1], indent=2))
            return None
        folder = Path(output)
        folder.mkdir(parents=True, exist_ok=True)
        for mrn, scenario in scenarios:
            path = folder / f"{label}-{_safe(mrn)}.json"
            path.write_text(json.dumps(scenario, indent=2) + "\n", encoding="utf-8")
        self.stdout.write(f"Wrote {len(scenarios)} scenario files to {folder}")
        return None


def _safe(mrn: str) -> str:
    """An MRN as a file name: letters, digits, dash and underscore only."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in mrn)
