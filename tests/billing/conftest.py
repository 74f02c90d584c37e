"""Billing fixtures: the clock on 5 March 2025, and snapshots of the billing tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from billing.models import BillingMonth, BillingReport, Claim, ClaimLine, NotBillable
from ccm.models import AuditLog, Practice
from ccm.tenancy import practice_context
from tests.billing.builders import NOW
from timetracking.models import MonthLock

BILLING_MODELS = (BillingMonth, Claim, ClaimLine, NotBillable, BillingReport)


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    """Noon in New York on 5 March 2025 (a test may travel elsewhere inside it)."""
    with time_machine.travel(NOW, tick=False):
        yield


def billing_state(practice: Practice) -> dict[str, list[tuple[Any, ...]]]:
    """Every billing row, month lock and audit row of the practice (for "nothing changed")."""
    with practice_context(practice.pk):
        return {
            model.__name__: sorted(
                tuple(row.values()) for row in model.objects.for_practice(practice).values()
            )
            for model in (*BILLING_MODELS, MonthLock, AuditLog)
        }
