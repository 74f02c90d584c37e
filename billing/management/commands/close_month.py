"""``manage.py close_month --practice SLUG --month YYYY-MM``: the month close, by hand.

Runs the same service as the scheduled task and a manager's "close now", in this process. A
month that is closed already is left unchanged (say so, exit 0); a reopened month is closed
again, which supersedes its previous claims. The reports are queued after the commit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.management.base import CommandError

from billing.models import BillingMonthState
from billing.presentation import format_cents
from billing.selectors import billing_month_for
from billing.services.months import billing_month_close
from ccm.commands import PracticeCommand
from ccm.errors import InvalidState
from timetracking.months import parse_month

if TYPE_CHECKING:
    from argparse import ArgumentParser

    from ccm.models import Practice


class Command(PracticeCommand):
    help = "Close a practice's service month: decide every patient-month and write the claims."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--month", required=True, help="the service month, YYYY-MM")

    def handle_practice(self, practice: Practice, **options: Any) -> str | None:
        try:
            service_month = parse_month(options["month"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        before = billing_month_for(practice=practice, service_month=service_month)
        if before is not None and before.state == BillingMonthState.CLOSED:
            self.stdout.write(
                f"{before.label} is already closed (close {before.generation}): nothing changed."
            )
            return None
        try:
            month = billing_month_close(practice=practice, actor=None, service_month=service_month)
        except InvalidState as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Closed {month.label} for {practice.name} (close {month.generation}): "
            f"{month.claim_count} claims, {format_cents(month.total_cents)}; "
            f"{month.not_billable_count} patients not billable."
        )
        return None
