"""Demo billing: the month before last is closed, as the hourly dispatcher would have done.

``seed_billing`` is a step of ``ccm.demo_data.SEED_STEPS`` (after the time entries). Last month
is left open on purpose: in the demo a manager closes it with "Close now", sees every claim and
every reason a patient was not billed, downloads the reports and closes it again to see that
nothing changes. The month before last gives the history chart its first closed month. Through
the real service (audit rows, month lock, reports queued for the worker), inside each
practice's context. Idempotent: a closed month is left alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from billing.selectors import billing_month_for
from billing.services.months import billing_month_close
from ccm.tenancy import practice_context
from timetracking.months import previous_month, service_month_of

if TYPE_CHECKING:
    from ccm.demo_data import DemoWorld


def seed_billing(world: DemoWorld) -> None:
    for practice in world.practices.values():
        month = previous_month(previous_month(service_month_of(timezone.now(), practice.tz)))
        with practice_context(practice.pk):
            existing = billing_month_for(practice=practice, service_month=month)
            if existing is not None and existing.generation:
                continue
            billing_month_close(practice=practice, actor=None, service_month=month)
            world.created["closed billing months"] += 1
