"""Who may do what. Plain functions over a Membership: no request objects, no caches."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from ccm.models import Membership


class Role(models.TextChoices):
    CARE_COORDINATOR = "care_coordinator", "Care coordinator"
    PHYSICIAN = "physician", "Physician (billing practitioner)"
    PRACTICE_MANAGER = "practice_manager", "Practice manager"
    PRACTICE_ADMIN = "practice_admin", "Practice admin"


_MANAGERS = {Role.PRACTICE_MANAGER, Role.PRACTICE_ADMIN}
_CLINICAL = {Role.CARE_COORDINATOR, Role.PHYSICIAN}


def _active(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active


def _has_role(membership: Membership | None, roles: set[Role]) -> bool:
    return membership is not None and membership.is_active and Role(membership.role) in roles


def can_view_patients(membership: Membership | None) -> bool:
    return _active(membership)


def can_enroll_patients(membership: Membership | None) -> bool:
    """Managers and coordinators find, reach and enroll patients."""
    return _has_role(membership, _MANAGERS | {Role.CARE_COORDINATOR})


def can_record_consent(membership: Membership | None) -> bool:
    return _active(membership)


def can_edit_clinical_record(membership: Membership | None) -> bool:
    """Conditions, visits, other billed services and stays: any member (managers enter them
    from the billing system); attesting a condition as chronic is a clinician's act."""
    return _active(membership)


def can_attest_chronic_condition(membership: Membership | None) -> bool:
    """R-ELIG-3: chronic status is a clinical judgement (physician or care coordinator)."""
    return _has_role(membership, _CLINICAL)


def can_log_time(membership: Membership | None) -> bool:
    """Clinical people log care-management minutes (R-TIME-*); managers do not."""
    return _has_role(membership, _CLINICAL)


def can_draft_care_plan(membership: Membership | None) -> bool:
    return _has_role(membership, _CLINICAL)


def can_sign_care_plan(membership: Membership | None) -> bool:
    """Only a physician signs a care plan (R-WHO-7)."""
    return _has_role(membership, {Role.PHYSICIAN})


def can_attest_complexity(membership: Membership | None) -> bool:
    return _has_role(membership, {Role.PHYSICIAN})


def can_record_care_plan_copy(membership: Membership | None) -> bool:
    """Anyone on the team may hand, mail or send the patient their copy (R-PLAN-4)."""
    return _active(membership)


def can_close_month(membership: Membership | None) -> bool:
    return _has_role(membership, _MANAGERS)


def can_view_billing(membership: Membership | None) -> bool:
    return _has_role(membership, _MANAGERS | {Role.PHYSICIAN})


def can_manage_practice(membership: Membership | None) -> bool:
    """Practice settings and members: the practice admin, and the manager."""
    return _has_role(membership, _MANAGERS)


def can_view_audit_log(membership: Membership | None) -> bool:
    return _has_role(membership, {Role.PRACTICE_ADMIN})
