"""Writes of the tenancy core: practices and memberships. Each one audited."""

from __future__ import annotations

from django.db import transaction

from ccm.audit import AuditEvent, audit_record
from ccm.errors import InvalidState, PermissionDenied
from ccm.models import Membership, Practice, User
from ccm.permissions import Role, can_manage_practice


@transaction.atomic
def practice_create(
    *,
    name: str,
    slug: str,
    timezone: str,
    npi: str,
    tin: str,
    address_line1: str,
    city: str,
    state: str,
    postal_code: str,
    place_of_service: str = "11",
) -> Practice:
    """Create a practice (platform operation: no member exists yet to act)."""
    practice = Practice(
        name=name,
        slug=slug,
        timezone=timezone,
        npi=npi,
        tin=tin,
        address_line1=address_line1,
        city=city,
        state=state,
        postal_code=postal_code,
        place_of_service=place_of_service,
    )
    practice.full_clean()
    practice.save()
    return practice


@transaction.atomic
def membership_create(
    *,
    practice: Practice,
    actor: Membership | None,
    user: User,
    role: Role,
    npi: str = "",
    credential: str = "",
) -> Membership:
    """Add ``user`` to ``practice``. ``actor`` is None only for the practice's first member."""
    if actor is not None:
        if actor.practice_id != practice.pk:
            raise PermissionDenied
        if not can_manage_practice(actor):
            raise PermissionDenied("Only a practice manager or admin adds members.")
    if role == Role.PHYSICIAN and not npi:
        raise InvalidState("A physician needs an individual NPI to bill.", field="npi")
    if Membership.objects.for_practice(practice).filter(user=user).exists():
        raise InvalidState("This person is already a member of the practice.", field="email")
    membership = Membership(practice=practice, user=user, role=role, npi=npi, credential=credential)
    membership.full_clean()
    membership.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.MEMBERSHIP_CREATED,
        obj=membership,
        changes={"user": user.email, "role": role, "npi": npi},
    )
    return membership


@transaction.atomic
def membership_set_active(
    *, practice: Practice, actor: Membership, membership: Membership, is_active: bool
) -> Membership:
    if actor.practice_id != practice.pk or membership.practice_id != practice.pk:
        raise PermissionDenied
    if not can_manage_practice(actor):
        raise PermissionDenied("Only a practice manager or admin changes members.")
    if membership.pk == actor.pk and not is_active:
        raise InvalidState("You cannot deactivate your own membership.")
    before = membership.is_active
    membership.is_active = is_active
    membership.save(update_fields=["is_active"])
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.MEMBERSHIP_UPDATED,
        obj=membership,
        changes={"is_active": [before, is_active]},
    )
    return membership
