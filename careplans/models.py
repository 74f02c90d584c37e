"""Care plans: one per patient, kept as numbered versions; copies, PDFs, complexity attestations.

A ``CarePlanVersion`` is a draft (editable by the care team) or signed (final: the services
refuse to change it, and a database trigger refuses any UPDATE or DELETE of a signed row, see
migration 0002). A revision is a new draft that starts from the last signed version. Models hold
fields, constraints and tiny properties only; every change goes through ``careplans.services``.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models
from django.utils.timezone import now

from careplans.content import GoalStatus, PlanContent
from ccm.models import Membership
from ccm.tenancy import PracticeOwned, PracticeQuerySet
from patients.models import Patient


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class SignatureMethod(models.TextChoices):
    """How the signer re-confirmed who they are at the moment of signing."""

    PASSWORD = "password", "Password"
    TOTP = "totp", "Authenticator code"


class CopyMethod(models.TextChoices):
    """How the patient copy was given (R-PLAN-4: any format)."""

    IN_PERSON = "in_person", "In person"
    MAIL = "mail", "Mail"
    PORTAL = "portal", "Patient portal"
    EMAIL = "email", "Email"


class CopyRecipient(models.TextChoices):
    PATIENT = "patient", "Patient"
    CAREGIVER = "caregiver", "Caregiver"


class MedicalDecisionMaking(models.TextChoices):
    """R-ELIG-4: complex CCM needs moderate or high complexity MDM."""

    MODERATE = "moderate", "Moderate"
    HIGH = "high", "High"


class DocumentStatus(models.TextChoices):
    PENDING = "pending", "Being prepared"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class CarePlan(PracticeOwned):
    """The patient's comprehensive care plan (R-PLAN-1): its content lives in its versions."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_plans")
    created_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=now)

    objects: ClassVar[PracticeQuerySet[CarePlan]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["practice", "id"], name="care_plan_practice_id"),
            models.UniqueConstraint(
                fields=["practice", "patient"],
                name="care_plan_one_per_patient",
                violation_error_message="This patient already has a care plan.",
            ),
        ]

    def __str__(self) -> str:
        return f"Care plan of patient {self.patient_id}"


class CarePlanVersion(PracticeOwned):
    """One version of a care plan: every R-PLAN-2 element as a field, then who signed it.

    ``problems``, ``goals`` and ``interventions`` are JSON arrays of the typed items of
    ``careplans.content`` (validated by the services; a goal without a measure is also refused
    by a CHECK constraint). ``substantial_revision`` is what billing reports for complex CCM
    (R-PLAN-6): always true for version 1 (the plan's establishment), and the physician's call
    for a revision. ``signed_on`` is the signing date in the practice's time zone;
    ``content_sha256`` fingerprints what was signed. A signed row never changes (trigger).
    """

    care_plan = models.ForeignKey(CarePlan, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # R-PLAN-2 elements.
    problems = models.JSONField(default=list, blank=True)
    expected_outcome = models.TextField(blank=True)
    prognosis = models.TextField(blank=True)
    goals = models.JSONField(default=list, blank=True)
    symptom_management = models.TextField(blank=True)
    interventions = models.JSONField(default=list, blank=True)
    medication_management = models.TextField(blank=True)
    cognitive_assessment = models.TextField(blank=True)
    functional_assessment = models.TextField(blank=True)
    environmental_evaluation = models.TextField(blank=True)
    caregiver_assessment = models.TextField(blank=True)
    community_services = models.TextField(blank=True)
    care_coordination = models.TextField(blank=True)
    review_schedule = models.TextField(blank=True)
    next_review_on = models.DateField(null=True, blank=True)
    revision_note = models.TextField(blank=True)
    # Drafting and review.
    drafted_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=now)
    updated_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=now)
    submitted_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Signature.
    signed_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_on = models.DateField(null=True, blank=True)
    signature_method = models.CharField(max_length=10, choices=SignatureMethod.choices, blank=True)
    substantial_revision = models.BooleanField(null=True, blank=True)
    content_sha256 = models.CharField(max_length=64, blank=True)

    objects: ClassVar[PracticeQuerySet[CarePlanVersion]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["practice", "id"], name="care_plan_version_practice_id"
            ),
            models.UniqueConstraint(
                fields=["practice", "care_plan", "number"], name="care_plan_version_number"
            ),
            models.UniqueConstraint(
                fields=["practice", "care_plan"],
                condition=models.Q(status="draft"),
                name="care_plan_one_open_draft",
                violation_error_message="This care plan already has an open draft.",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status="draft",
                    signed_by__isnull=True,
                    signed_at__isnull=True,
                    signed_on__isnull=True,
                    signature_method="",
                    substantial_revision__isnull=True,
                    content_sha256="",
                )
                | models.Q(
                    status="signed",
                    signed_by__isnull=False,
                    signed_at__isnull=False,
                    signed_on__isnull=False,
                    signature_method__gt="",
                    substantial_revision__isnull=False,
                    content_sha256__regex=r"^[0-9a-f]{64}$",
                ),
                name="care_plan_version_signature_complete",
            ),
            models.CheckConstraint(
                condition=models.Q(submitted_by__isnull=True, submitted_at__isnull=True)
                | models.Q(submitted_by__isnull=False, submitted_at__isnull=False),
                name="care_plan_version_submission_complete",
            ),
            models.CheckConstraint(
                condition=models.Q(number=1, based_on__isnull=True)
                | models.Q(number__gt=1, based_on__isnull=False),
                name="care_plan_version_revision_has_base",
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["practice", "status", "submitted_at"], name="care_plan_version_queue"
            ),
            models.Index(
                fields=["practice", "care_plan", "status", "number"],
                name="care_plan_version_plan",
            ),
        ]

    def __str__(self) -> str:
        return f"Version {self.number} ({self.get_status_display()})"

    @property
    def is_signed(self) -> bool:
        return self.status == VersionStatus.SIGNED

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT

    @property
    def content(self) -> PlanContent:
        return PlanContent.of(self)


class CarePlanGoalProgress(PracticeOwned):
    """A coordinator's or physician's update on one goal of a signed version (append-only).

    Keeping goals current (R-WHO-7: staff "monitor and continue" the plan) never edits the
    signed version: each update is a row here, and the next revision starts from the latest
    status of each goal.
    """

    version = models.ForeignKey(
        CarePlanVersion, on_delete=models.PROTECT, related_name="goal_progress"
    )
    goal_key = models.UUIDField()
    status = models.CharField(max_length=20, choices=GoalStatus.choices)
    measured_value = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    recorded_on = models.DateField()
    recorded_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=now)

    objects: ClassVar[PracticeQuerySet[CarePlanGoalProgress]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        indexes: ClassVar = [
            models.Index(
                fields=["practice", "version", "goal_key", "recorded_on"],
                name="care_plan_goal_progress",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recorded_on} {self.status}"


class CarePlanCopy(PracticeOwned):
    """A copy of a signed version given to the patient or caregiver: who, when, how (R-PLAN-4).

    The first copy's ``given_on`` is billing's ``patient_copy_on``. A trigger refuses a copy of
    a draft, or one dated before the version was signed.
    """

    version = models.ForeignKey(CarePlanVersion, on_delete=models.PROTECT, related_name="copies")
    given_on = models.DateField()
    method = models.CharField(max_length=20, choices=CopyMethod.choices)
    recipient = models.CharField(
        max_length=20, choices=CopyRecipient.choices, default=CopyRecipient.PATIENT
    )
    recipient_name = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=500, blank=True)
    given_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=now)

    objects: ClassVar[PracticeQuerySet[CarePlanCopy]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["practice", "version", "given_on"], name="care_plan_copy_version"),
        ]

    def __str__(self) -> str:
        return f"Copy given {self.given_on} ({self.get_method_display()})"


def document_path(instance: CarePlanDocument, filename: str) -> str:
    """Private storage, one folder per practice; the name says nothing about the patient."""
    return f"practices/{instance.practice.public_id}/care-plans/{uuid.uuid4()}.pdf"


class CarePlanDocument(PracticeOwned):
    """The plain-language patient copy of a signed version, as a PDF rendered by a worker.

    One per version. Rendering happens in a Celery task, never in a request; the file lives in
    private storage and is served only by a view that checks the practice.
    """

    version = models.ForeignKey(CarePlanVersion, on_delete=models.PROTECT, related_name="documents")
    status = models.CharField(
        max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.PENDING
    )
    file = models.FileField(upload_to=document_path, blank=True, max_length=200)
    sha256 = models.CharField(max_length=64, blank=True)
    size_bytes = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=now)
    rendered_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[PracticeQuerySet[CarePlanDocument]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["practice", "version"], name="care_plan_document_one_per_version"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="ready")
                | (
                    models.Q(file__gt="", rendered_at__isnull=False)
                    & models.Q(sha256__regex=r"^[0-9a-f]{64}$")
                ),
                name="care_plan_document_ready_has_file",
            ),
        ]

    def __str__(self) -> str:
        return f"Patient copy PDF ({self.get_status_display()})"


class ComplexityAttestation(PracticeOwned):
    """The billing practitioner's attestation of moderate or high MDM for a service month.

    R-ELIG-4 / R-WHO-6: billing's ``complexity`` fact. One current attestation per patient and
    month; a mistaken one is voided with a reason (never deleted) and may then be replaced.
    """

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="complexity_attestations"
    )
    service_month = models.DateField(help_text="The first day of the month")
    mdm = models.CharField(
        "medical decision making", max_length=10, choices=MedicalDecisionMaking.choices
    )
    note = models.TextField()
    attested_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    attested_at = models.DateTimeField(default=now)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    void_reason = models.CharField(max_length=500, blank=True)

    objects: ClassVar[PracticeQuerySet[ComplexityAttestation]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["practice", "patient", "service_month"],
                condition=models.Q(voided_at__isnull=True),
                name="complexity_one_per_patient_month",
                violation_error_message="Complexity is already attested for this month.",
            ),
            models.CheckConstraint(
                condition=models.Q(service_month__day=1), name="complexity_month_first_day"
            ),
            models.CheckConstraint(condition=~models.Q(note=""), name="complexity_has_note"),
            models.CheckConstraint(
                condition=models.Q(voided_at__isnull=True, voided_by__isnull=True, void_reason="")
                | models.Q(voided_at__isnull=False, voided_by__isnull=False, void_reason__gt=""),
                name="complexity_void_complete",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["practice", "service_month"], name="complexity_month"),
        ]

    def __str__(self) -> str:
        return f"{self.service_month:%Y-%m} {self.get_mdm_display()} MDM"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


class CarePlanTemplate(PracticeOwned):
    """A practice's own care-plan template, beside the built-in ones in ``data/templates``.

    ``icd10_prefixes``, ``goals`` and ``interventions`` have the shapes of the data files
    (validated by the services); the templates prefill goals and interventions of a draft for
    the patient's conditions whose code starts with one of the prefixes.
    """

    name = models.CharField(max_length=120)
    icd10_prefixes = models.JSONField(default=list)
    symptom_management = models.TextField(blank=True)
    goals = models.JSONField(default=list)
    interventions = models.JSONField(default=list, blank=True)
    sources = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    objects: ClassVar[PracticeQuerySet[CarePlanTemplate]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["practice", "name"],
                name="care_plan_template_name",
                violation_error_message="The practice already has a template with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name
