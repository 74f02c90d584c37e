"""Celery tasks of billing: ids in, one service call.

``acks_late`` with ``reject_on_worker_lost``: a worker killed mid-close leaves its message
unacknowledged, so the close runs again on another worker. The killed run's transaction never
committed, and the rerun finds the month either open (and closes it) or closed (and changes
nothing), so the month always ends with one set of claims.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from ccm.models import Practice
from ccm.tasks_base import PracticeTask


@shared_task(acks_late=True, reject_on_worker_lost=True)
def billing_months_dispatch_task() -> int:
    """Hourly (beat): queue one close per practice-month that is due. Reads only Practice."""
    # Imported here: the services import this module to queue tasks.
    from billing.services.months import billing_months_dispatch  # noqa: PLC0415

    return len(billing_months_dispatch(now=timezone.now()))


@shared_task(base=PracticeTask, acks_late=True, reject_on_worker_lost=True)
def billing_month_close_task(
    *,
    practice_id: int,
    service_month: str,
    actor_id: int | None = None,
    automatic: bool = False,
) -> str:
    """Close one practice-month (``service_month`` is its first day, ISO); returns its state."""
    from billing.selectors import member_by_id  # noqa: PLC0415
    from billing.services.months import billing_month_close  # noqa: PLC0415

    practice = Practice.objects.get(pk=practice_id)
    actor = None if actor_id is None else member_by_id(practice=practice, membership_id=actor_id)
    return billing_month_close(
        practice=practice,
        actor=actor,
        service_month=dt.date.fromisoformat(service_month),
        automatic=automatic,
    ).state


@shared_task(base=PracticeTask, acks_late=True, reject_on_worker_lost=True)
def billing_report_render_task(*, practice_id: int, report_id: int) -> str:
    """Render one billing report (CSV or PDF) into private storage; returns its status."""
    from billing.selectors import billing_report_by_id  # noqa: PLC0415
    from billing.services.reports import billing_report_render  # noqa: PLC0415

    practice = Practice.objects.get(pk=practice_id)
    report = billing_report_by_id(practice=practice, report_id=report_id)
    return billing_report_render(practice=practice, report=report).status
