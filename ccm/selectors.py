"""Reads of the tenancy core that pages, API and reports share."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from ccm.errors import NotFound
from ccm.models import AuditLog, Membership, Practice
from ccm.permissions import Role


def membership_list(*, practice: Practice) -> QuerySet[Membership]:
    return (
        Membership.objects.for_practice(practice)
        .select_related("user")
        .order_by("-is_active", "role", "user__full_name", "user__email")
    )


def membership_get(*, practice: Practice, public_id: uuid.UUID) -> Membership:
    try:
        return (
            Membership.objects.for_practice(practice)
            .select_related("user")
            .get(public_id=public_id)
        )
    except Membership.DoesNotExist as exc:
        raise NotFound from exc


def physician_list(*, practice: Practice) -> QuerySet[Membership]:
    """The practice's active billing practitioners."""
    return membership_list(practice=practice).filter(role=Role.PHYSICIAN, is_active=True)


def audit_log_list(*, practice: Practice, limit: int = 200) -> QuerySet[AuditLog]:
    return (
        AuditLog.objects.for_practice(practice)
        .select_related("actor__user")
        .order_by("-at", "-id")[:limit]
    )
