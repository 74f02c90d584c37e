"""Helpers every selector module shares: the practice's today, and public-id lookups."""

from __future__ import annotations

import uuid
from datetime import date
from typing import TypeVar

from django.db.models import Model, QuerySet
from django.utils import timezone

from ccm.errors import NotFound
from ccm.models import Practice

_M = TypeVar("_M", bound=Model)


def practice_today(practice: Practice) -> date:
    """Today where the practice is: dates people enter, and consent validity, are local."""
    return timezone.localdate(timezone=practice.tz)


def parse_public_id(value: uuid.UUID | str) -> uuid.UUID | None:
    """The UUID, or None for a string that is not one (then nothing matches)."""
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def get_or_not_found(queryset: QuerySet[_M], public_id: uuid.UUID | str) -> _M:
    """The row with ``public_id``, or ``NotFound`` (also for a malformed id)."""
    key = parse_public_id(public_id)
    row = None if key is None else queryset.filter(public_id=key).first()
    if row is None:
        raise NotFound
    return row
