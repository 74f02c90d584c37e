"""Guards shared by the billing services: who may act, and on which practice's rows."""

from __future__ import annotations

from billing.models import BillingMonth, BillingReport, Claim
from ccm.errors import PermissionDenied
from ccm.models import Membership, Practice
from ccm.permissions import can_close_month


def require_manager(*, practice: Practice, actor: Membership) -> None:
    """A practice manager or admin of this practice (closing, reopening, reports)."""
    if actor.practice_id != practice.pk:
        raise PermissionDenied
    if not can_close_month(actor):
        raise PermissionDenied("Only a practice manager or admin closes and reopens months.")


def require_same_practice(*, practice: Practice, obj: BillingMonth | Claim | BillingReport) -> None:
    if obj.practice_id != practice.pk:
        raise PermissionDenied
