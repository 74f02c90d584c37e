"""Reads of consent: which consent holds on a day, and why a patient needs a new one.

Consent is per billing practitioner (R-CONS-4/5): only a consent to the patient's *current*
billing practitioner counts. A revocation dated in month M holds through the end of M
(POL-REVOKE). The pure functions work on already-loaded rows, so pages that prefetched the
consents ask the same questions without a query.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterable, Sequence
from datetime import date

from django.db.models import QuerySet

from ccm.errors import NotFound
from ccm.models import Practice
from patients.models import Consent, ConsentOutcome, Patient
from patients.selectors.common import get_or_not_found, practice_today


def revocation_effective_through(revoked_on: date) -> date:
    """POL-REVOKE: a consent revoked on ``revoked_on`` holds through the end of that month."""
    last_day = calendar.monthrange(revoked_on.year, revoked_on.month)[1]
    return revoked_on.replace(day=last_day)


def consent_is_valid_on(consent: Consent, day: date) -> bool:
    """Given on or before ``day``, and not revoked before ``day``'s month (POL-REVOKE)."""
    if consent.outcome != ConsentOutcome.CONSENTED or consent.obtained_on > day:
        return False
    return consent.revoked_on is None or day <= revocation_effective_through(consent.revoked_on)


def current_consent_among(
    consents: Iterable[Consent], *, practitioner_id: int | None, day: date
) -> Consent | None:
    """The latest consent to ``practitioner_id`` valid on ``day`` (pure; for prefetched rows)."""
    if practitioner_id is None:
        return None
    valid = [
        consent
        for consent in consents
        if consent.practitioner_id == practitioner_id and consent_is_valid_on(consent, day)
    ]
    return max(valid, key=lambda consent: (consent.obtained_on, consent.pk), default=None)


def renewal_sentence(
    consents: Sequence[Consent],
    *,
    practitioner_name: str | None,
    practitioner_id: int | None,
    day: date,
) -> str | None:
    """Why the patient needs a new consent, or None (pure; see ``consent_needs_renewal``)."""
    if current_consent_among(consents, practitioner_id=practitioner_id, day=day) is not None:
        return None
    given = [consent for consent in consents if consent.outcome == ConsentOutcome.CONSENTED]
    if not given:
        return None
    latest = max(given, key=lambda consent: (consent.obtained_on, consent.pk))
    given_to = latest.practitioner.display_name
    if practitioner_id is None:
        return (
            f"The patient consented to CCM with {given_to}, but has no billing practitioner "
            "now: choose one, and record a new consent if it is someone else (R-CONS-4)."
        )
    if latest.practitioner_id != practitioner_id:
        return (
            f"The patient consented to CCM with {given_to}, but the billing practitioner is "
            f"now {practitioner_name}: a new consent to {practitioner_name} is needed "
            "before CCM continues (R-CONS-4)."
        )
    if latest.revoked_on is not None:
        return (
            f"The patient revoked their consent on {latest.revoked_on.isoformat()} (effective "
            f"through {revocation_effective_through(latest.revoked_on).isoformat()}): a new "
            "consent is needed before CCM resumes."
        )
    return (
        f"The consent to {given_to} is dated {latest.obtained_on.isoformat()}, after "
        f"{day.isoformat()}."
    )


def _consents_for(*, practice: Practice, patient: Patient) -> list[Consent]:
    return list(
        Consent.objects.for_practice(practice)
        .filter(patient=patient)
        .select_related("practitioner__user")
        .order_by("obtained_on", "id")
    )


def consent_current(
    *, practice: Practice, patient: Patient, on: date | None = None
) -> Consent | None:
    """The consent to the patient's *current* billing practitioner that holds on ``on``
    (default: today in the practice), or None.

    A consent given to a previous billing practitioner does not count (R-CONS-4); a revoked one
    holds through the end of the month of revocation (POL-REVOKE).
    """
    if patient.practice_id != practice.pk:
        raise NotFound
    return current_consent_among(
        _consents_for(practice=practice, patient=patient),
        practitioner_id=patient.billing_practitioner_id,
        day=on or practice_today(practice),
    )


def consent_needs_renewal(
    *, practice: Practice, patient: Patient, on: date | None = None
) -> str | None:
    """A sentence for people when the patient once consented but has no consent that holds now
    for their current billing practitioner (practitioner changed, R-CONS-4, or consent
    revoked); None when a consent holds, or when the patient never consented (then consent is
    simply missing, not due for renewal)."""
    if patient.practice_id != practice.pk:
        raise NotFound
    practitioner = patient.billing_practitioner
    return renewal_sentence(
        _consents_for(practice=practice, patient=patient),
        practitioner_name=practitioner.display_name if practitioner else None,
        practitioner_id=patient.billing_practitioner_id,
        day=on or practice_today(practice),
    )


def consent_get(*, practice: Practice, public_id: uuid.UUID | str) -> Consent:
    return get_or_not_found(
        Consent.objects.for_practice(practice).select_related(
            "patient", "practitioner__user", "obtained_by__user", "revoked_by__user"
        ),
        public_id,
    )


def consent_list(*, practice: Practice, patient: Patient) -> QuerySet[Consent]:
    return (
        Consent.objects.for_practice(practice)
        .filter(patient=patient)
        .select_related("patient", "practitioner__user", "obtained_by__user", "revoked_by__user")
        .order_by("-obtained_on", "-id")
    )
