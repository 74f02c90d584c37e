"""Reads of patients: the panel list, the eligibility list, one patient, the patient page.

Every list is one query (the eligibility list two), whatever the number of rows: the list
columns are annotations (subqueries) and ``select_related``, never per-row queries.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OrderBy,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from ccm.errors import InvalidState
from ccm.models import Practice
from patients.models import (
    CANDIDATE_STATUSES,
    Condition,
    Consent,
    ConsentOutcome,
    EnrollmentEvent,
    EnrollmentStatus,
    FacilityStay,
    OtherService,
    OutreachAttempt,
    Patient,
    Visit,
)
from patients.selectors.common import get_or_not_found, parse_public_id, practice_today
from patients.selectors.consent import current_consent_among, renewal_sentence


def _by_practitioner(
    patients: QuerySet[Patient], practitioner: uuid.UUID | str
) -> QuerySet[Patient]:
    key = parse_public_id(practitioner)
    if key is None:
        return patients.none()
    return patients.filter(billing_practitioner__public_id=key)


_CHRONIC_ACTIVE = Q(chronic_attested=True, resolved_on__isnull=True)


def _chronic_count() -> Coalesce:
    counted = (
        Condition.objects.filter(_CHRONIC_ACTIVE, patient=OuterRef("pk"))
        .order_by()
        .values("patient")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _last_visit() -> Subquery:
    latest = (
        Visit.objects.filter(patient=OuterRef("pk"), voided_at__isnull=True)
        .order_by()
        .values("patient")
        .annotate(latest=Max("date"))
        .values("latest")
    )
    return Subquery(latest)


def _has_current_consent(today: date) -> Exists:
    # Valid today: given on or before today, not revoked before this month (POL-REVOKE).
    return Exists(
        Consent.objects.filter(
            Q(revoked_on__isnull=True) | Q(revoked_on__gte=today.replace(day=1)),
            patient=OuterRef("pk"),
            practitioner=OuterRef("billing_practitioner"),
            outcome=ConsentOutcome.CONSENTED,
            obtained_on__lte=today,
        )
    )


PATIENT_ORDERINGS: dict[str, tuple[Any, ...]] = {
    "name": ("last_name", "first_name", "id"),
    "-name": ("-last_name", "-first_name", "-id"),
    "mrn": ("mrn",),
    "-mrn": ("-mrn",),
    "conditions": ("chronic_condition_count", "last_name", "first_name", "id"),
    "-conditions": ("-chronic_condition_count", "last_name", "first_name", "id"),
    "last_visit": (F("last_visit_on").asc(nulls_first=True), "last_name", "first_name", "id"),
    "-last_visit": (F("last_visit_on").desc(nulls_last=True), "last_name", "first_name", "id"),
}


def _ordering(order: str) -> tuple[str | OrderBy, ...]:
    if order not in PATIENT_ORDERINGS:
        raise InvalidState(f"Sort by one of: {', '.join(PATIENT_ORDERINGS)}.", field="order")
    return PATIENT_ORDERINGS[order]


def patient_get(*, practice: Practice, public_id: uuid.UUID | str) -> Patient:
    """One patient of the practice, billing practitioner loaded; ``NotFound`` otherwise."""
    return get_or_not_found(
        Patient.objects.for_practice(practice).select_related("billing_practitioner__user"),
        public_id,
    )


def patient_list(
    *,
    practice: Practice,
    search: str = "",
    status: str | Iterable[str] | None = None,
    practitioner: uuid.UUID | str | None = None,
    order: str = "name",
) -> QuerySet[Patient]:
    """The panel, with the list columns in one query.

    ``search`` matches MRN, first or last name or "first last" (case-insensitive, contains).
    ``status`` is one status or several; ``practitioner`` a billing practitioner's public id.
    Each row carries ``chronic_condition_count`` (active, attested), ``last_visit_on``
    (latest unvoided visit) and ``has_current_consent`` (a consent to the current billing
    practitioner holds today). ``order``: a key of ``PATIENT_ORDERINGS``.
    """
    patients: QuerySet[Patient] = (
        Patient.objects.for_practice(practice)
        .select_related("billing_practitioner__user")
        .annotate(
            chronic_condition_count=_chronic_count(),
            last_visit_on=_last_visit(),
            has_current_consent=_has_current_consent(practice_today(practice)),
        )
    )
    terms = search.split()
    for term in terms:
        patients = patients.filter(
            Q(mrn__icontains=term) | Q(first_name__icontains=term) | Q(last_name__icontains=term)
        )
    if status:
        statuses = [status] if isinstance(status, str) else list(status)
        patients = patients.filter(enrollment_status__in=statuses)
    if practitioner:
        patients = _by_practitioner(patients, practitioner)
    return patients.order_by(*_ordering(order))


def patient_status_counts(*, practice: Practice) -> dict[str, int]:
    """How many patients are in each enrollment status (every status present, zero or not)."""
    counts = dict.fromkeys(EnrollmentStatus.values, 0)
    rows = (
        Patient.objects.for_practice(practice)
        .order_by()
        .values_list("enrollment_status")
        .annotate(total=Count("id"))
    )
    for status, total in rows:
        counts[status] = total
    return counts


def patients_eligible_for_ccm(
    *,
    practice: Practice,
    practitioner: uuid.UUID | str | None = None,
    category: str | None = None,
    last_visit_before: date | None = None,
    last_visit_after: date | None = None,
    order: str = "name",
) -> QuerySet[Patient]:
    """CCM candidates: at least two active, clinician-attested chronic conditions (R-ELIG-1/2),
    Medicare Part B FFS, alive, not blocked by a CMS model (R-ELIG-5), and a status among
    ``CANDIDATE_STATUSES`` (not reviewed, identified, in outreach, consented: not yet enrolled,
    and not declined, paused, disenrolled, ineligible or enrolled elsewhere).

    Each row carries ``chronic_condition_count``, ``last_visit_on`` and
    ``qualifying_conditions`` (the attested active conditions, each with ``code``,
    ``chronic_category`` and ``chronic_category_label``: why it qualifies). Filters: billing
    practitioner public id, a chronic category key (``patients.chronic``), last visit strictly
    before / on or after a date (a patient never seen counts as "before"). Two queries.
    """
    qualifying = (
        Condition.objects.for_practice(practice)
        .filter(_CHRONIC_ACTIVE)
        .select_related("attested_by__user")
        .order_by("code")
    )
    patients: QuerySet[Patient] = (
        Patient.objects.for_practice(practice)
        .filter(
            enrollment_status__in=CANDIDATE_STATUSES,
            medicare_part_b=True,
            date_of_death__isnull=True,
            blocked_by_model=False,
        )
        .select_related("billing_practitioner__user")
        .annotate(chronic_condition_count=_chronic_count(), last_visit_on=_last_visit())
        .filter(chronic_condition_count__gte=2)
        .prefetch_related(
            Prefetch("conditions", queryset=qualifying, to_attr="qualifying_conditions")
        )
    )
    if practitioner:
        patients = _by_practitioner(patients, practitioner)
    if category:
        patients = patients.filter(
            Exists(
                Condition.objects.filter(
                    _CHRONIC_ACTIVE, patient=OuterRef("pk"), chronic_category=category
                )
            )
        )
    if last_visit_before is not None:
        patients = patients.filter(
            Q(last_visit_on__lt=last_visit_before) | Q(last_visit_on__isnull=True)
        )
    if last_visit_after is not None:
        patients = patients.filter(Q(last_visit_on__gte=last_visit_after))
    return patients.order_by(*_ordering(order))


@dataclass(frozen=True, slots=True)
class PatientDetail:
    """Everything the patient page shows, loaded in a constant number of queries."""

    patient: Patient
    conditions: list[Condition]
    consents: list[Consent]
    enrollment_events: list[EnrollmentEvent]
    outreach_attempts: list[OutreachAttempt]
    visits: list[Visit]
    other_services: list[OtherService]
    facility_stays: list[FacilityStay]
    current_consent: Consent | None
    consent_renewal: str | None

    @property
    def chronic_conditions(self) -> list[Condition]:
        return [c for c in self.conditions if c.chronic_attested and c.resolved_on is None]


def patient_detail(*, practice: Practice, public_id: uuid.UUID | str) -> PatientDetail:
    """The patient and all their records (voided rows included, newest first), in 8 queries.

    Conditions: active first, then by code. ``current_consent`` and ``consent_renewal`` are as
    ``consent_current`` / ``consent_needs_renewal`` today.
    """
    patient = patient_get(practice=practice, public_id=public_id)
    conditions = list(
        Condition.objects.for_practice(practice)
        .filter(patient=patient)
        .select_related("attested_by__user")
        .order_by(F("resolved_on").desc(nulls_first=True), "code", "id")
    )
    consents = list(
        Consent.objects.for_practice(practice)
        .filter(patient=patient)
        .select_related("practitioner__user", "obtained_by__user", "revoked_by__user")
        .order_by("-obtained_on", "-id")
    )
    events = list(
        EnrollmentEvent.objects.for_practice(practice)
        .filter(patient=patient)
        .select_related("by__user")
        .order_by("-at", "-id")
    )
    outreach = list(
        OutreachAttempt.objects.for_practice(practice)
        .filter(patient=patient)
        .select_related("by__user")
        .order_by("-attempted_on", "-id")
    )
    visits = list(
        Visit.objects.for_practice(practice)
        .filter(patient=patient)
        .select_related("practitioner__user", "voided_by__user")
        .order_by("-date", "-id")
    )
    services = list(
        OtherService.objects.for_practice(practice)
        .filter(patient=patient)
        .select_related("practitioner__user", "voided_by__user")
        .order_by("-date", "-id")
    )
    stays = list(
        FacilityStay.objects.for_practice(practice)
        .filter(patient=patient)
        .select_related("voided_by__user")
        .order_by("-from_date", "-id")
    )
    today = practice_today(practice)
    practitioner = patient.billing_practitioner
    return PatientDetail(
        patient=patient,
        conditions=conditions,
        consents=consents,
        enrollment_events=events,
        outreach_attempts=outreach,
        visits=visits,
        other_services=services,
        facility_stays=stays,
        current_consent=current_consent_among(
            consents, practitioner_id=patient.billing_practitioner_id, day=today
        ),
        consent_renewal=renewal_sentence(
            consents,
            practitioner_name=practitioner.display_name if practitioner else None,
            practitioner_id=patient.billing_practitioner_id,
            day=today,
        ),
    )


def patients_by_mrn(*, practice: Practice, mrns: Iterable[str]) -> dict[str, Patient]:
    """The practice's patients among ``mrns``, by MRN (one query)."""
    return {
        patient.mrn: patient
        for patient in Patient.objects.for_practice(practice).filter(mrn__in=list(mrns))
    }
