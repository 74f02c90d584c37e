"""``manage.py bench_month_close --patients 5000 --entries-per-patient 10``: time the close.

In a throwaway database (created as the tables' owner, migrated, analysed, dropped at the
end) it seeds one practice in bulk (``billing.services.bench``), then runs the month close
exactly as the scheduled task does and prints its wall time and SQL query count, then renders
the billing report PDF of the first ``--pdf-lines`` claim lines and prints that time. Needs
``DATABASE_OWNER_URL``.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import reports, selectors
from billing.fees import default_fee_schedule
from billing.services.bench import BENCH_TIMEZONE, bench_month_seed
from billing.services.months import billing_month_close
from ccm.management.benchdb import analyze, throwaway_database
from ccm.tenancy import practice_context
from timetracking.months import previous_month, service_month_of

if TYPE_CHECKING:
    from argparse import ArgumentParser

    from billing.selectors import BillingReportData

TARGET_SECONDS = 3.0
TARGET_QUERIES = 20
TARGET_PDF_SECONDS = 9.0


class Command(BaseCommand):
    help = "Benchmark the month close (and the billing PDF) on a bulk-seeded practice."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--patients", type=int, default=5000)
        parser.add_argument("--entries-per-patient", type=int, default=10)
        parser.add_argument("--pdf-lines", type=int, default=2000, help="0 skips the PDF")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DATABASE_OWNER_URL:
            raise CommandError("Set DATABASE_OWNER_URL: the benchmark creates its own database.")
        name = f"ccm_bench_close_{secrets.token_hex(4)}"
        with throwaway_database(name):
            self.stdout.write(f"Database {name}: migrating and seeding…")
            call_command("migrate", verbosity=0, interactive=False)
            started = time.perf_counter()
            now = timezone.now()
            service_month = previous_month(service_month_of(now, ZoneInfo(BENCH_TIMEZONE)))
            seeded = bench_month_seed(
                slug="bench-close",
                patients=options["patients"],
                entries_per_patient=options["entries_per_patient"],
                service_month=service_month,
            )
            self.stdout.write(
                f"Seeded {seeded.patients} enrolled patients, {seeded.entries} time entries, "
                f"{seeded.coordinators} coordinators for {service_month:%B %Y} in "
                f"{time.perf_counter() - started:.1f} s."
            )
            connections.close_all()
            analyze(name)
            practice = seeded.practice
            default_fee_schedule()  # read once per worker process, not part of a close
            started = time.perf_counter()
            # As the task runs it: the practice context commits on exit (timed, not counted).
            with practice_context(practice.pk):
                queries = CaptureQueriesContext(connection)
                with queries:
                    month = billing_month_close(
                        practice=practice, actor=None, service_month=service_month, automatic=True
                    )
            elapsed = time.perf_counter() - started
            self._report_close(month, elapsed, len(queries.captured_queries))
            if options["pdf_lines"]:
                with practice_context(practice.pk):
                    data = selectors.billing_report_data(
                        practice=practice, billing_month=month, generation=month.generation
                    )
                    self._report_pdf(_first_lines(data, options["pdf_lines"]))

    def _report_close(self, month: Any, elapsed: float, queries: int) -> None:
        verdict = "OK" if elapsed <= TARGET_SECONDS and queries <= TARGET_QUERIES else "MISSED"
        self.stdout.write(
            f"Month close: {elapsed:.2f} s wall (commit included), {queries} SQL statements "
            f"({month.claim_count} claims, {month.not_billable_count} not billable) "
            f"[target ≤ {TARGET_SECONDS:.0f} s and ≤ {TARGET_QUERIES} queries: {verdict}]"
        )

    def _report_pdf(self, data: BillingReportData) -> None:
        started = time.perf_counter()
        rendered = reports.render_billing_pdf(data)
        elapsed = time.perf_counter() - started
        verdict = "OK" if elapsed <= TARGET_PDF_SECONDS else "MISSED"
        self.stdout.write(
            f"Billing PDF: {data.line_count} claim lines, {rendered.pages} pages, "
            f"{len(rendered.content) // 1024} KiB "
            f"in {elapsed:.2f} s [target ≤ {TARGET_PDF_SECONDS:.0f} s: {verdict}]"
        )


def _first_lines(data: BillingReportData, lines: int) -> BillingReportData:
    """The report cut after the claim that reaches ``lines`` claim lines (one practitioner)."""
    kept = []
    count = 0
    for group in data.groups:
        for claim in group.claims:
            if count >= lines:
                break
            kept.append(claim)
            count += len(claim.lines.all())
    group = replace(
        data.groups[0],
        claims=tuple(kept),
        line_count=count,
        units=sum(line.units for claim in kept for line in claim.lines.all()),
        total_cents=sum(line.total_cents or 0 for claim in kept for line in claim.lines.all()),
    )
    return replace(
        data,
        groups=(group,),
        claim_count=len(kept),
        line_count=count,
        units=group.units,
        total_cents=group.total_cents,
    )
