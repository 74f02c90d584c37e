"""Patients, their chronic conditions, consent, outreach, enrollment and billed encounters.

Every table is practice-owned (``PracticeOwned``): ``practice`` leads its constraints and
indexes, a FORCEd RLS policy guards it, and each reference to a patient or a member is also a
composite foreign key ``(practice_id, <column>) → parent (practice_id, id)`` (migration 0002),
so no row can point into another practice. Rows are never deleted: conditions are resolved,
consents revoked, visits, services and stays voided with a reason.

Models hold fields, constraints and tiny properties only; every change goes through
``patients.services.*`` (which audits it).
"""

from __future__ import annotations

import uuid
from pathlib import PurePath
from typing import Any, ClassVar

from django.db import models
from django.utils.timezone import now

from ccm.models import Membership
from ccm.tenancy import PracticeOwned, PracticeQuerySet
from ccm.validators import validate_npi
from patients.chronic import chronic_category_label
from patients.encryption import EncryptedCharField
from patients.validators import validate_icd10, validate_mbi, validate_procedure_code

MBI_VISIBLE_CHARACTERS = 4


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class EnrollmentStatus(models.TextChoices):
    """Where a patient stands on the way into CCM (DESIGN: identified → consents → enrolled).

    ``unreviewed`` is the status of a patient nobody has looked at yet (a new or imported
    patient). Allowed changes are listed once, in ``ENROLLMENT_TRANSITIONS``.
    """

    UNREVIEWED = "unreviewed", "Not reviewed"
    IDENTIFIED = "identified", "Identified"
    OUTREACH = "outreach", "In outreach"
    CONSENTED = "consented", "Consented"
    ENROLLED = "enrolled", "Enrolled"
    PAUSED = "paused", "Paused"
    DECLINED = "declined", "Declined"
    DISENROLLED = "disenrolled", "Disenrolled"
    INELIGIBLE = "ineligible", "Ineligible"
    ENROLLED_ELSEWHERE = "enrolled_elsewhere", "Enrolled with another practice (R-WHO-2)"


_S = EnrollmentStatus

# The one table of allowed enrollment changes: from → the statuses it may move to.
# ``consented`` is reached only by recording a consent (``consent_record``) and ``enrolled``
# only by ``patient_enroll``, which requires a current consent to the billing practitioner.
ENROLLMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    _S.UNREVIEWED: frozenset(
        {
            _S.IDENTIFIED,
            _S.OUTREACH,
            _S.CONSENTED,
            _S.DECLINED,
            _S.INELIGIBLE,
            _S.ENROLLED_ELSEWHERE,
        }
    ),
    _S.IDENTIFIED: frozenset(
        {_S.OUTREACH, _S.CONSENTED, _S.DECLINED, _S.INELIGIBLE, _S.ENROLLED_ELSEWHERE}
    ),
    _S.OUTREACH: frozenset(
        {_S.IDENTIFIED, _S.CONSENTED, _S.DECLINED, _S.INELIGIBLE, _S.ENROLLED_ELSEWHERE}
    ),
    _S.CONSENTED: frozenset({_S.ENROLLED, _S.DECLINED, _S.INELIGIBLE, _S.ENROLLED_ELSEWHERE}),
    _S.ENROLLED: frozenset({_S.PAUSED, _S.DISENROLLED, _S.INELIGIBLE, _S.ENROLLED_ELSEWHERE}),
    _S.PAUSED: frozenset({_S.ENROLLED, _S.DISENROLLED, _S.INELIGIBLE, _S.ENROLLED_ELSEWHERE}),
    _S.DECLINED: frozenset({_S.IDENTIFIED, _S.OUTREACH, _S.CONSENTED}),
    _S.DISENROLLED: frozenset({_S.IDENTIFIED, _S.OUTREACH, _S.CONSENTED}),
    _S.INELIGIBLE: frozenset({_S.IDENTIFIED}),
    _S.ENROLLED_ELSEWHERE: frozenset({_S.IDENTIFIED, _S.OUTREACH, _S.CONSENTED}),
}

# Statuses of a patient who may still be brought into CCM: the eligibility list shows them.
CANDIDATE_STATUSES: frozenset[str] = frozenset(
    {_S.UNREVIEWED, _S.IDENTIFIED, _S.OUTREACH, _S.CONSENTED}
)


class Patient(PracticeOwned):
    """A person on the practice's panel, and the patient-level facts billing needs.

    ``medicare_part_b``, ``date_of_death``, ``blocked_by_model`` and the
    ``enrollment_status`` ``enrolled_elsewhere`` are the R-ELIG-5 / R-WHO-2 facts of
    SCENARIO_FORMAT ``patient``; ``billing_practitioner`` is its ``billing_practitioner``.
    ``enrollment_status`` is the current status, denormalised from ``EnrollmentEvent``.
    The MBI is stored encrypted and shown masked.
    """

    mrn = models.CharField("MRN", max_length=40)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    phone = models.CharField(max_length=30, blank=True)
    preferred_language = models.CharField(max_length=40, blank=True, default="English")
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    medicare_part_b = models.BooleanField(
        "Medicare Part B fee-for-service", default=False, help_text="R-ELIG-5"
    )
    mbi = EncryptedCharField(
        "Medicare Beneficiary Identifier", blank=True, default="", validators=[validate_mbi]
    )
    date_of_death = models.DateField(null=True, blank=True)
    billing_practitioner = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    caregiver_name = models.CharField(max_length=200, blank=True)
    caregiver_relationship = models.CharField(max_length=60, blank=True)
    caregiver_phone = models.CharField(max_length=30, blank=True)
    blocked_by_model = models.BooleanField(
        default=False, help_text="Attributed to a CMS model that excludes CCM (R-ELIG-5)"
    )
    enrollment_status = models.CharField(
        max_length=20, choices=EnrollmentStatus.choices, default=EnrollmentStatus.UNREVIEWED
    )
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    objects: ClassVar[PracticeQuerySet[Patient]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["practice", "id"], name="patient_practice_id"),
            models.UniqueConstraint(fields=["practice", "mrn"], name="patient_mrn_per_practice"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["practice", "last_name", "first_name"], name="patient_name"),
            models.Index(fields=["practice", "enrollment_status"], name="patient_status"),
            models.Index(fields=["practice", "billing_practitioner"], name="patient_practitioner"),
        ]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name} ({self.mrn})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def mbi_masked(self) -> str:
        """``*******MK73``: only the last four characters, or ``""`` when no MBI is on file."""
        if not self.mbi:
            return ""
        hidden = len(self.mbi) - MBI_VISIBLE_CHARACTERS
        return "*" * hidden + self.mbi[hidden:]


class Condition(PracticeOwned):
    """A diagnosis on the patient's problem list (ICD-10-CM), SCENARIO_FORMAT ``conditions[]``.

    ``chronic_attested`` is the clinician's attestation that the condition is expected to last
    12 months or until death and places the patient at significant risk (R-ELIG-1/2); only
    attested, unresolved conditions count toward eligibility. ``chronic_category`` is the
    reference list's suggestion (``patients.chronic``), stored so lists can filter on it.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="conditions")
    code = models.CharField("ICD-10-CM code", max_length=8, validators=[validate_icd10])
    description = models.CharField(max_length=255, blank=True)
    chronic_category = models.CharField(max_length=40, blank=True)
    onset_date = models.DateField(null=True, blank=True)
    resolved_on = models.DateField(null=True, blank=True)
    chronic_attested = models.BooleanField(default=False)
    attested_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attested_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    objects: ClassVar[PracticeQuerySet[Condition]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["practice", "id"], name="condition_practice_id"),
            models.UniqueConstraint(
                fields=["practice", "patient", "code"],
                condition=models.Q(resolved_on__isnull=True),
                name="condition_one_active_per_code",
                violation_error_message="The patient already has this condition on the list.",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    chronic_attested=True, attested_by__isnull=False, attested_on__isnull=False
                )
                | models.Q(
                    chronic_attested=False, attested_by__isnull=True, attested_on__isnull=True
                ),
                name="condition_attestation_complete",
            ),
            models.CheckConstraint(
                condition=models.Q(resolved_on__isnull=True)
                | models.Q(onset_date__isnull=True)
                | models.Q(resolved_on__gte=models.F("onset_date")),
                name="condition_resolved_after_onset",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["practice", "patient", "resolved_on"], name="condition_patient"),
            models.Index(fields=["practice", "chronic_category"], name="condition_category"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}".strip()

    @property
    def is_active(self) -> bool:
        return self.resolved_on is None

    @property
    def chronic_category_label(self) -> str:
        """Why it counts as chronic: the reference category, or the clinician's word alone."""
        if self.chronic_category:
            return chronic_category_label(self.chronic_category)
        return "Other chronic condition (clinician attested)"


class OutreachChannel(models.TextChoices):
    PHONE = "phone", "Phone"
    MAIL = "mail", "Mail"
    PORTAL = "portal", "Patient portal"
    IN_PERSON = "in_person", "In person"
    EMAIL = "email", "Email"


class OutreachOutcome(models.TextChoices):
    REACHED = "reached", "Reached"
    NO_ANSWER = "no_answer", "No answer"
    LEFT_MESSAGE = "left_message", "Left a message"
    WRONG_NUMBER = "wrong_number", "Wrong number"
    DECLINED = "declined", "Declined CCM"
    AGREED = "agreed", "Agreed to CCM"


class OutreachAttempt(PracticeOwned):
    """One attempt to reach a patient about CCM: when, how, what came of it, and by whom."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="outreach_attempts")
    attempted_on = models.DateField()
    channel = models.CharField(max_length=20, choices=OutreachChannel.choices)
    outcome = models.CharField(max_length=20, choices=OutreachOutcome.choices)
    note = models.TextField(blank=True)
    by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=now)

    objects: ClassVar[PracticeQuerySet[OutreachAttempt]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["practice", "patient", "attempted_on"], name="outreach_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.attempted_on} {self.channel}: {self.outcome}"


class EnrollmentEvent(PracticeOwned):
    """One change of a patient's enrollment status (append-only history).

    ``Patient.enrollment_status`` always equals the ``to_status`` of the patient's latest event
    (or ``unreviewed`` when there is none).
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="enrollment_events")
    from_status = models.CharField(max_length=20, choices=EnrollmentStatus.choices)
    to_status = models.CharField(max_length=20, choices=EnrollmentStatus.choices)
    reason = models.CharField(max_length=500, blank=True)
    by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=now)

    objects: ClassVar[PracticeQuerySet[EnrollmentEvent]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["practice", "patient", "at"], name="enrollment_event_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class ConsentMethod(models.TextChoices):
    VERBAL = "verbal", "Verbal"
    WRITTEN = "written", "Written"


class ConsentOutcome(models.TextChoices):
    CONSENTED = "consented", "Consented"
    DECLINED = "declined", "Declined"


def consent_document_path(instance: Consent, filename: str) -> str:
    """Private storage, one folder per practice; the stored name reveals nothing of the patient."""
    suffix = PurePath(filename).suffix.lower()
    return f"practices/{instance.practice.public_id}/consents/{uuid.uuid4()}{suffix}"


class Consent(PracticeOwned):
    """The patient's decision about CCM with one billing practitioner (RULES.md §4).

    A ``consented`` row documents the three R-CONS-3 explanations (all required by a check
    constraint), how and when it was obtained (R-CONS-2; ``obtained_at`` is the exact moment
    when known, POL-CONSENT / AMB-16) and to whom it was given (R-CONS-4/5: consent is per
    billing practitioner). A revocation recorded in month M takes effect at the end of M
    (POL-REVOKE). A ``declined`` row records a refusal. At most one unrevoked consent per
    patient and practitioner.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    practitioner = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(
        max_length=10, choices=ConsentOutcome.choices, default=ConsentOutcome.CONSENTED
    )
    obtained_on = models.DateField()
    obtained_at = models.DateTimeField(null=True, blank=True)
    method = models.CharField(max_length=10, choices=ConsentMethod.choices)
    obtained_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    language = models.CharField(max_length=40, blank=True, default="English")
    explained_cost_sharing = models.BooleanField(
        "told that CCM is available and cost sharing applies", default=False
    )
    explained_one_practitioner = models.BooleanField(
        "told that only one practitioner can furnish and bill CCM in a month", default=False
    )
    explained_stop_anytime = models.BooleanField(
        "told that CCM can be stopped any time, effective at the month's end", default=False
    )
    document = models.FileField(upload_to=consent_document_path, blank=True, max_length=200)
    note = models.TextField(blank=True)
    revoked_on = models.DateField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revocation_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=now)

    objects: ClassVar[PracticeQuerySet[Consent]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["practice", "id"], name="consent_practice_id"),
            models.UniqueConstraint(
                fields=["practice", "patient", "practitioner"],
                condition=models.Q(outcome="consented", revoked_on__isnull=True),
                name="consent_one_current_per_practitioner",
                violation_error_message=(
                    "The patient already has an unrevoked consent to this practitioner."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(outcome="declined")
                | models.Q(
                    explained_cost_sharing=True,
                    explained_one_practitioner=True,
                    explained_stop_anytime=True,
                ),
                name="consent_explanations_documented",
            ),
            models.CheckConstraint(
                condition=models.Q(revoked_on__isnull=True)
                | models.Q(
                    outcome="consented",
                    revoked_on__gte=models.F("obtained_on"),
                    revoked_by__isnull=False,
                ),
                name="consent_revocation_valid",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["practice", "patient", "obtained_on"], name="consent_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} {self.obtained_on}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_on is not None


class VoidableEncounter(PracticeOwned):
    """Shared fields of visits and other services: who furnished it, and the void trail.

    The practitioner is a member of the practice, or someone outside it (name and NPI); a
    check constraint requires exactly one of the two. Voided rows stay, with who and why.
    """

    date = models.DateField()
    code = models.CharField("CPT/HCPCS code", max_length=5, validators=[validate_procedure_code])
    practitioner = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outside_practitioner_name = models.CharField(max_length=200, blank=True)
    outside_practitioner_npi = models.CharField(
        max_length=10, blank=True, validators=[validate_npi]
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    void_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        abstract = True

    @property
    def practitioner_name(self) -> str:
        if self.practitioner is not None:
            return self.practitioner.display_name
        return self.outside_practitioner_name

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


def _encounter_constraints(prefix: str) -> list[Any]:
    return [
        models.CheckConstraint(
            condition=models.Q(practitioner__isnull=False, outside_practitioner_name="")
            | models.Q(practitioner__isnull=True, outside_practitioner_name__gt=""),
            name=f"{prefix}_one_practitioner",
        ),
        models.CheckConstraint(
            condition=models.Q(voided_at__isnull=True, voided_by__isnull=True, void_reason="")
            | models.Q(voided_at__isnull=False, voided_by__isnull=False, void_reason__gt=""),
            name=f"{prefix}_void_complete",
        ),
    ]


class Visit(VoidableEncounter):
    """A face-to-face visit (SCENARIO_FORMAT ``visits[]``): the initiating-visit facts of §5.

    ``ccm_discussed`` records that CCM was discussed and documented at the visit (R-INIT-3).
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="visits")
    ccm_discussed = models.BooleanField("CCM discussed and documented", default=False)

    objects: ClassVar[PracticeQuerySet[Visit]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = _encounter_constraints("visit")
        indexes: ClassVar = [
            models.Index(fields=["practice", "patient", "date"], name="visit_patient_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.code}"


class OtherService(VoidableEncounter):
    """Another service billed for the patient (SCENARIO_FORMAT ``other_services[]``).

    Billing checks these against CCM in the same month (RULES.md §8: PCM, APCM, TCM, home
    health and hospice supervision, ESRD, ...).
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="other_services")

    objects: ClassVar[PracticeQuerySet[OtherService]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = _encounter_constraints("other_service")
        indexes: ClassVar = [
            models.Index(fields=["practice", "patient", "date"], name="other_service_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.code}"


class FacilityStayKind(models.TextChoices):
    INPATIENT = "inpatient", "Inpatient hospital"
    SNF_PART_A = "snf_part_a", "Skilled nursing facility (Part A)"


class FacilityStay(PracticeOwned):
    """A stay during which CCM minutes do not count (AMB-14): SCENARIO_FORMAT ``facility_stays[]``.

    ``from_date`` and ``to_date`` are both inclusive local dates.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="facility_stays")
    kind = models.CharField(max_length=20, choices=FacilityStayKind.choices)
    from_date = models.DateField()
    to_date = models.DateField()
    facility_name = models.CharField(max_length=200, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    void_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=now)

    objects: ClassVar[PracticeQuerySet[FacilityStay]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(to_date__gte=models.F("from_date")),
                name="facility_stay_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(voided_at__isnull=True, voided_by__isnull=True, void_reason="")
                | models.Q(voided_at__isnull=False, voided_by__isnull=False, void_reason__gt=""),
                name="facility_stay_void_complete",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["practice", "patient", "from_date"], name="facility_stay_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.from_date} to {self.to_date}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None
