"""Reads of care plans that pages, the API, the PDF task and billing share.

Billing builds its ``care_plans[]`` and ``complexity`` facts from ``care_plan_version_facts``
and ``complexity_attestations_for_month``: a fixed number of queries for any number of patients.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Min, QuerySet

from careplans import content as plan_content
from careplans.models import (
    CarePlan,
    CarePlanCopy,
    CarePlanDocument,
    CarePlanGoalProgress,
    CarePlanTemplate,
    CarePlanVersion,
    ComplexityAttestation,
    VersionStatus,
)
from careplans.plan_templates import PlanTemplate, builtin_templates, from_practice_template
from ccm.errors import NotFound
from ccm.models import Membership, Practice
from patients.models import Patient

_VERSION_RELATED = (
    "care_plan__patient__billing_practitioner__user",
    "drafted_by__user",
    "updated_by__user",
    "submitted_by__user",
    "signed_by__user",
    "based_on",
)


# --- Plans and versions --------------------------------------------------------------------


def care_plan_for_patient(*, practice: Practice, patient: Patient) -> CarePlan | None:
    """The patient's care plan, or None when none was started."""
    return (
        CarePlan.objects.for_practice(practice)
        .select_related("patient", "created_by__user")
        .filter(patient=patient)
        .first()
    )


def care_plan_get(*, practice: Practice, public_id: uuid.UUID) -> CarePlan:
    try:
        return (
            CarePlan.objects.for_practice(practice)
            .select_related("patient__billing_practitioner__user")
            .get(public_id=public_id)
        )
    except CarePlan.DoesNotExist as exc:
        raise NotFound from exc


def care_plan_version_get(*, practice: Practice, public_id: uuid.UUID) -> CarePlanVersion:
    try:
        return (
            CarePlanVersion.objects.for_practice(practice)
            .select_related(*_VERSION_RELATED)
            .get(public_id=public_id)
        )
    except CarePlanVersion.DoesNotExist as exc:
        raise NotFound from exc


def care_plan_version_list(*, practice: Practice, care_plan: CarePlan) -> QuerySet[CarePlanVersion]:
    """Every version of the plan, newest first, with the first copy date of each."""
    return (
        CarePlanVersion.objects.for_practice(practice)
        .filter(care_plan=care_plan)
        .select_related(*_VERSION_RELATED)
        .annotate(patient_copy_on=Min("copies__given_on"))
        .order_by("-number")
    )


def care_plan_version_latest_signed(
    *, practice: Practice, care_plan: CarePlan
) -> CarePlanVersion | None:
    return (
        CarePlanVersion.objects.for_practice(practice)
        .filter(care_plan=care_plan, status=VersionStatus.SIGNED)
        .select_related(*_VERSION_RELATED)
        .order_by("-number")
        .first()
    )


def care_plan_version_open_draft(
    *, practice: Practice, care_plan: CarePlan
) -> CarePlanVersion | None:
    return (
        CarePlanVersion.objects.for_practice(practice)
        .filter(care_plan=care_plan, status=VersionStatus.DRAFT)
        .select_related(*_VERSION_RELATED)
        .first()
    )


def care_plan_version_missing_elements(version: CarePlanVersion) -> list[str]:
    """R-PLAN-2 element names the version lacks (billing's ``missing_elements``).

    Empty for a complete plan. Includes "measurable treatment goals" when the plan has no
    measurable goal. Needs no query: the content is on the version row.
    """
    return plan_content.missing_elements(version.content)


def care_plan_review_queue(
    *, practice: Practice, physician: Membership | None = None
) -> QuerySet[CarePlanVersion]:
    """Drafts sent for signature, oldest first; a physician's queue holds their patients' only."""
    queue = (
        CarePlanVersion.objects.for_practice(practice)
        .filter(status=VersionStatus.DRAFT, submitted_at__isnull=False)
        .select_related(*_VERSION_RELATED)
        .order_by("submitted_at", "id")
    )
    if physician is not None:
        queue = queue.filter(care_plan__patient__billing_practitioner=physician)
    return queue


def care_plan_drafts_in_progress(*, practice: Practice) -> QuerySet[CarePlanVersion]:
    """Drafts not yet sent for signature, oldest change first."""
    return (
        CarePlanVersion.objects.for_practice(practice)
        .filter(status=VersionStatus.DRAFT, submitted_at__isnull=True)
        .select_related(*_VERSION_RELATED)
        .order_by("updated_at", "id")
    )


def care_plan_version_base(
    *, practice: Practice, version: CarePlanVersion
) -> CarePlanVersion | None:
    """What a version is compared with: the signed version it started from (None for v1)."""
    if version.based_on_id is None:
        return None
    return care_plan_version_get(practice=practice, public_id=version.based_on.public_id)  # type: ignore[union-attr]


def care_plan_copy_list(*, practice: Practice, version: CarePlanVersion) -> QuerySet[CarePlanCopy]:
    return (
        CarePlanCopy.objects.for_practice(practice)
        .filter(version=version)
        .select_related("given_by__user")
        .order_by("given_on", "id")
    )


def care_plan_document_for_version(
    *, practice: Practice, version: CarePlanVersion
) -> CarePlanDocument | None:
    return CarePlanDocument.objects.for_practice(practice).filter(version=version).first()


def care_plan_document_get(*, practice: Practice, public_id: uuid.UUID) -> CarePlanDocument:
    try:
        return (
            CarePlanDocument.objects.for_practice(practice)
            .select_related("version__care_plan__patient")
            .get(public_id=public_id)
        )
    except CarePlanDocument.DoesNotExist as exc:
        raise NotFound from exc


def care_plan_document_by_id(*, practice: Practice, document_id: int) -> CarePlanDocument:
    """The document a render task was given (tasks pass internal ids, never objects)."""
    try:
        return CarePlanDocument.objects.for_practice(practice).get(pk=document_id)
    except CarePlanDocument.DoesNotExist as exc:
        raise NotFound from exc


def care_plan_goal_progress_list(
    *, practice: Practice, version: CarePlanVersion
) -> QuerySet[CarePlanGoalProgress]:
    return (
        CarePlanGoalProgress.objects.for_practice(practice)
        .filter(version=version)
        .select_related("recorded_by__user")
        .order_by("-recorded_on", "-id")
    )


def care_plan_goal_latest_progress(
    *, practice: Practice, version: CarePlanVersion
) -> dict[str, CarePlanGoalProgress]:
    """The latest update of each goal of ``version``, by goal key."""
    latest: dict[str, CarePlanGoalProgress] = {}
    for progress in care_plan_goal_progress_list(practice=practice, version=version):
        latest.setdefault(str(progress.goal_key), progress)
    return latest


# --- Billing facts ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CarePlanVersionFacts:
    """One signed version as billing's ``care_plans[]`` item (SCENARIO_FORMAT)."""

    patient_id: int
    version: int
    signed_by_id: int  # Membership pk
    signed_on: dt.date
    patient_copy_on: dt.date | None
    substantial_revision: bool
    missing_elements: tuple[str, ...]


def care_plan_version_facts(
    *,
    practice: Practice,
    patient_ids: Iterable[int] | None = None,
    signed_on_or_before: dt.date | None = None,
) -> dict[int, list[CarePlanVersionFacts]]:
    """Signed versions per patient id, oldest first, with their first patient-copy date.

    One query whatever the number of patients (the content is on the version row).
    """
    versions = (
        CarePlanVersion.objects.for_practice(practice)
        .filter(status=VersionStatus.SIGNED)
        .annotate(patient_copy_on=Min("copies__given_on"))
        .select_related("care_plan")
        .order_by("care_plan__patient_id", "number")
    )
    if patient_ids is not None:
        versions = versions.filter(care_plan__patient_id__in=list(patient_ids))
    if signed_on_or_before is not None:
        versions = versions.filter(signed_on__lte=signed_on_or_before)
    facts: dict[int, list[CarePlanVersionFacts]] = defaultdict(list)
    for version in versions:
        assert version.signed_by_id is not None  # noqa: S101  (a CHECK guarantees it)
        assert version.signed_on is not None  # noqa: S101
        facts[version.care_plan.patient_id].append(
            CarePlanVersionFacts(
                patient_id=version.care_plan.patient_id,
                version=version.number,
                signed_by_id=version.signed_by_id,
                signed_on=version.signed_on,
                patient_copy_on=version.patient_copy_on,
                substantial_revision=bool(version.substantial_revision),
                missing_elements=tuple(care_plan_version_missing_elements(version)),
            )
        )
    return dict(facts)


def complexity_attestations_for_month(
    *, practice: Practice, service_month: dt.date, patient_ids: Iterable[int] | None = None
) -> dict[int, ComplexityAttestation]:
    """The current (unvoided) attestation of each patient for the month, by patient id."""
    attestations = ComplexityAttestation.objects.for_practice(practice).filter(
        service_month=service_month, voided_at__isnull=True
    )
    if patient_ids is not None:
        attestations = attestations.filter(patient_id__in=list(patient_ids))
    return {attestation.patient_id: attestation for attestation in attestations}


def complex_patient_ids(
    *, practice: Practice, service_month: dt.date, patient_ids: Iterable[int] | None = None
) -> set[int]:
    """The patients whose month is attested complex (a current attestation), in one query:
    time tracking measures their minutes against the complex thresholds (60/90/120)."""
    attestations = ComplexityAttestation.objects.for_practice(practice).filter(
        service_month=service_month, voided_at__isnull=True
    )
    if patient_ids is not None:
        attestations = attestations.filter(patient_id__in=list(patient_ids))
    return set(attestations.values_list("patient_id", flat=True))


# --- Complexity ------------------------------------------------------------------------------


def complexity_attestation_list(
    *, practice: Practice, patient: Patient
) -> QuerySet[ComplexityAttestation]:
    return (
        ComplexityAttestation.objects.for_practice(practice)
        .filter(patient=patient)
        .select_related("attested_by__user", "voided_by__user")
        .order_by("-service_month", "-attested_at")
    )


def complexity_attestation_get(
    *, practice: Practice, public_id: uuid.UUID
) -> ComplexityAttestation:
    try:
        return (
            ComplexityAttestation.objects.for_practice(practice)
            .select_related("patient", "attested_by__user")
            .get(public_id=public_id)
        )
    except ComplexityAttestation.DoesNotExist as exc:
        raise NotFound from exc


# --- Templates -------------------------------------------------------------------------------


def care_plan_template_list(*, practice: Practice) -> QuerySet[CarePlanTemplate]:
    """The practice's own templates (active first, by name)."""
    return (
        CarePlanTemplate.objects.for_practice(practice)
        .select_related("created_by__user")
        .order_by("-is_active", "name")
    )


def care_plan_template_get(*, practice: Practice, public_id: uuid.UUID) -> CarePlanTemplate:
    try:
        return CarePlanTemplate.objects.for_practice(practice).get(public_id=public_id)
    except (CarePlanTemplate.DoesNotExist, ValueError) as exc:
        raise NotFound from exc


def plan_templates_available(*, practice: Practice) -> list[PlanTemplate]:
    """Built-in templates, then the practice's active ones."""
    own = care_plan_template_list(practice=practice).filter(is_active=True)
    return [*builtin_templates(), *(from_practice_template(row) for row in own)]
