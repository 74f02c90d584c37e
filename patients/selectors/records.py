"""Reads of a patient's records: conditions, outreach, enrollment history, visits, services,
stays; single rows by public id, per-patient lists, and the batch reads imports need."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import F, QuerySet

from ccm.models import Membership, Practice
from ccm.permissions import Role
from patients.models import (
    Condition,
    EnrollmentEvent,
    FacilityStay,
    OtherService,
    OutreachAttempt,
    Patient,
    Visit,
)
from patients.selectors.common import get_or_not_found


def condition_get(*, practice: Practice, public_id: uuid.UUID | str) -> Condition:
    return get_or_not_found(
        Condition.objects.for_practice(practice).select_related("patient", "attested_by__user"),
        public_id,
    )


def condition_list(
    *, practice: Practice, patient: Patient, active_only: bool = False
) -> QuerySet[Condition]:
    conditions = (
        Condition.objects.for_practice(practice)
        .filter(patient=patient)
        .select_related("patient", "attested_by__user")
        .order_by(F("resolved_on").desc(nulls_first=True), "code", "id")
    )
    return conditions.filter(resolved_on__isnull=True) if active_only else conditions


def enrollment_event_list(*, practice: Practice, patient: Patient) -> QuerySet[EnrollmentEvent]:
    return (
        EnrollmentEvent.objects.for_practice(practice)
        .filter(patient=patient)
        .select_related("patient", "by__user")
        .order_by("-at", "-id")
    )


def outreach_list(*, practice: Practice, patient: Patient) -> QuerySet[OutreachAttempt]:
    return (
        OutreachAttempt.objects.for_practice(practice)
        .filter(patient=patient)
        .select_related("patient", "by__user")
        .order_by("-attempted_on", "-id")
    )


def visit_get(*, practice: Practice, public_id: uuid.UUID | str) -> Visit:
    return get_or_not_found(
        Visit.objects.for_practice(practice).select_related(
            "patient", "practitioner__user", "voided_by__user"
        ),
        public_id,
    )


def visit_list(
    *, practice: Practice, patient: Patient, include_voided: bool = False
) -> QuerySet[Visit]:
    visits = (
        Visit.objects.for_practice(practice)
        .filter(patient=patient)
        .select_related("patient", "practitioner__user", "voided_by__user")
        .order_by("-date", "-id")
    )
    return visits if include_voided else visits.filter(voided_at__isnull=True)


def other_service_get(*, practice: Practice, public_id: uuid.UUID | str) -> OtherService:
    return get_or_not_found(
        OtherService.objects.for_practice(practice).select_related(
            "patient", "practitioner__user", "voided_by__user"
        ),
        public_id,
    )


def other_service_list(
    *, practice: Practice, patient: Patient, include_voided: bool = False
) -> QuerySet[OtherService]:
    services = (
        OtherService.objects.for_practice(practice)
        .filter(patient=patient)
        .select_related("patient", "practitioner__user", "voided_by__user")
        .order_by("-date", "-id")
    )
    return services if include_voided else services.filter(voided_at__isnull=True)


def facility_stay_get(*, practice: Practice, public_id: uuid.UUID | str) -> FacilityStay:
    return get_or_not_found(
        FacilityStay.objects.for_practice(practice).select_related("patient", "voided_by__user"),
        public_id,
    )


def facility_stay_list(
    *, practice: Practice, patient: Patient, include_voided: bool = False
) -> QuerySet[FacilityStay]:
    stays = (
        FacilityStay.objects.for_practice(practice)
        .filter(patient=patient)
        .select_related("patient", "voided_by__user")
        .order_by("-from_date", "-id")
    )
    return stays if include_voided else stays.filter(voided_at__isnull=True)


def physicians_by_npi(
    *, practice: Practice, active_only: bool = True
) -> dict[str, list[Membership]]:
    """The practice's physicians by individual NPI (a list: nothing makes an NPI unique)."""
    members = (
        Membership.objects.for_practice(practice)
        .filter(role=Role.PHYSICIAN)
        .select_related("user")
        .order_by("id")
    )
    if active_only:
        members = members.filter(is_active=True)
    by_npi: dict[str, list[Membership]] = {}
    for member in members:
        by_npi.setdefault(member.npi, []).append(member)
    return by_npi


def active_conditions_of(*, practice: Practice, patient_ids: Iterable[int]) -> QuerySet[Condition]:
    """The unresolved conditions of the given patients (by primary key)."""
    return Condition.objects.for_practice(practice).filter(
        patient_id__in=list(patient_ids), resolved_on__isnull=True
    )


def unvoided_visits_of(*, practice: Practice, patient_ids: Iterable[int]) -> QuerySet[Visit]:
    return Visit.objects.for_practice(practice).filter(
        patient_id__in=list(patient_ids), voided_at__isnull=True
    )


def unvoided_other_services_of(
    *, practice: Practice, patient_ids: Iterable[int]
) -> QuerySet[OtherService]:
    return OtherService.objects.for_practice(practice).filter(
        patient_id__in=list(patient_ids), voided_at__isnull=True
    )


def unvoided_facility_stays_of(
    *, practice: Practice, patient_ids: Iterable[int]
) -> QuerySet[FacilityStay]:
    return FacilityStay.objects.for_practice(practice).filter(
        patient_id__in=list(patient_ids), voided_at__isnull=True
    )
