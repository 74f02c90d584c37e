"""Checks every patients service runs first, and the translation of model errors.

A cross-practice *actor* is ``PermissionDenied``; a cross-practice *patient or row* is
``NotFound`` (no existence oracle); a *practitioner* of another practice, or one who is not a
physician, is ``InvalidState`` naming the input field, because it is a wrong choice in a form.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models

from ccm.errors import InvalidState, NotFound, PermissionDenied
from ccm.models import Membership, Practice
from ccm.permissions import Role
from patients.selectors.common import practice_today


def require_actor(
    *,
    practice: Practice,
    actor: Membership,
    allowed: Callable[[Membership | None], bool],
    message: str,
) -> None:
    if actor.practice_id != practice.pk:
        raise PermissionDenied
    if not allowed(actor):
        raise PermissionDenied(message)


def require_same_practice(*, practice: Practice, obj: models.Model) -> None:
    """A row of another practice is "not found", never "forbidden"."""
    if getattr(obj, "practice_id", None) != practice.pk:
        raise NotFound


def require_physician(
    *, practice: Practice, membership: Membership, field: str, require_active: bool = True
) -> None:
    """``membership`` must be a (by default active) physician of ``practice``."""
    if membership.practice_id != practice.pk:
        raise InvalidState("Choose a practitioner of this practice.", field=field)
    if membership.role != Role.PHYSICIAN:
        raise InvalidState(
            f"{membership.display_name} is not a physician (billing practitioner).", field=field
        )
    if require_active and not membership.is_active:
        raise InvalidState(f"{membership.display_name} is no longer active.", field=field)


def refuse_future(*, practice: Practice, value: date | None, field: str, label: str) -> None:
    if value is not None and value > practice_today(practice):
        raise InvalidState(f"The {label} cannot be in the future.", field=field)


def clean_or_raise(obj: models.Model, *, exclude: list[str] | None = None) -> None:
    """``full_clean()``, with the first error re-raised as ``InvalidState`` naming its field."""
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise InvalidState(
            " ".join(messages), field=None if field == NON_FIELD_ERRORS else field
        ) from exc


def reason_required(reason: str, *, field: str = "reason") -> str:
    cleaned = reason.strip()
    if not cleaned:
        raise InvalidState("Give a reason.", field=field)
    return cleaned
