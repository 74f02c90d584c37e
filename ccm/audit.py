"""The audit log's vocabulary and its two writers.

``audit_record`` is called inside services, in the transaction of the change it records.
``audit_read`` is called by interfaces (pages, API, exports), which alone know who looked at
what. The request id reaches both through a context variable set by ``RequestIdMiddleware``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from ccm.models import AuditLog, Membership, Practice

request_id_var: ContextVar[str] = ContextVar("ccm_request_id", default="")


class AuditEvent(models.TextChoices):
    # practice and members
    PRACTICE_UPDATED = "practice.updated", "Practice settings changed"
    MEMBERSHIP_CREATED = "membership.created", "Member added"
    MEMBERSHIP_UPDATED = "membership.updated", "Member changed"
    PRACTICE_SWITCHED = "practice.switched", "Switched practice"
    AUDIT_LOG_VIEWED = "audit.viewed", "Audit log viewed"
    # patients
    PATIENT_LIST_VIEWED = "patient.list_viewed", "Patient list viewed"
    PATIENT_VIEWED = "patient.viewed", "Patient viewed"
    PATIENT_CREATED = "patient.created", "Patient created"
    PATIENT_UPDATED = "patient.updated", "Patient changed"
    PATIENT_EXPORTED = "patient.exported", "Patient data exported"


def audit_record(
    *,
    practice: Practice,
    actor: Membership | None,
    event: AuditEvent,
    patient_public_id: uuid.UUID | None = None,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one audit row. Call it inside the service's transaction, after the write."""
    from ccm.models import AuditLog  # noqa: PLC0415  (ccm.models imports this module)

    if not isinstance(event, AuditEvent):
        raise TypeError(f"audit events are AuditEvent members, not {event!r}")
    return AuditLog.objects.create(
        practice=practice,
        actor=actor,
        event=event,
        patient_public_id=patient_public_id,
        object_type=type(obj).__name__ if obj is not None else "",
        object_public_id=getattr(obj, "public_id", None),
        changes=changes or {},
        request_id=request_id_var.get(),
    )


def audit_read(
    *,
    practice: Practice,
    actor: Membership | None,
    event: AuditEvent,
    patient_public_ids: Iterable[uuid.UUID] = (),
    obj: models.Model | None = None,
) -> AuditLog:
    """Record that ``actor`` was shown patient data: one row, with every patient id shown."""
    ids = [str(public_id) for public_id in patient_public_ids]
    return audit_record(
        practice=practice,
        actor=actor,
        event=event,
        patient_public_id=uuid.UUID(ids[0]) if len(ids) == 1 else None,
        obj=obj,
        changes={"patient_ids": ids} if ids else {},
    )
