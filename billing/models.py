"""Billing months, claims with their lines, not-billable records and rendered reports.

Every table is practice-owned: ``practice`` leads its constraints and indexes, a FORCEd RLS
policy guards it, and every reference to a month, a patient, a claim or a member is also a
composite foreign key ``(practice_id, <column>) → parent (practice_id, id)`` (migration 0002).

The month close (``billing.services.months.billing_month_close``) writes a *generation* of rows: one
``Claim`` (with its ``ClaimLine``s) per billed patient-month and one ``NotBillable`` per patient
in scope who was not billed. A reopen followed by a new close writes generation n + 1 and marks
generation n ``superseded_at``; nothing is ever deleted. Partial unique constraints allow one
live claim or not-billable record per patient-month, and one row per patient and generation.

Models hold fields, constraints and tiny properties only; every change goes through
``billing.services`` (which audits it).
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.timezone import now

from ccm.models import Membership
from ccm.tenancy import PracticeOwned, PracticeQuerySet
from patients.models import Patient


class BillingMonthState(models.TextChoices):
    """Where a practice's service month stands in the close."""

    OPEN = "open", "Open"
    CLOSING = "closing", "Closing"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Reopened"


class BillingMonth(PracticeOwned):
    """One service month of one practice (first day of the month, in the practice's zone).

    ``generation`` counts the closes so far; the claims and not-billable records of close n
    carry ``generation = n``. ``claim_count``, ``not_billable_count`` and ``total_cents``
    summarise the live generation (the last close), for lists and the history chart.
    ``closed_by`` is None when the close ran as a scheduled task.
    """

    service_month = models.DateField()
    state = models.CharField(
        max_length=10, choices=BillingMonthState.choices, default=BillingMonthState.OPEN
    )
    generation = models.PositiveIntegerField(default=0)
    close_requested_at = models.DateTimeField(null=True, blank=True)
    close_requested_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopened_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reopen_reason = models.CharField(max_length=500, blank=True)
    claim_count = models.PositiveIntegerField(default=0)
    not_billable_count = models.PositiveIntegerField(default=0)
    total_cents = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=now)

    objects: ClassVar[PracticeQuerySet[BillingMonth]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["practice", "id"], name="billing_month_practice_id"),
            models.UniqueConstraint(
                fields=["practice", "service_month"], name="billing_month_one_per_month"
            ),
            models.CheckConstraint(
                condition=models.Q(service_month__day=1), name="billing_month_first_day"
            ),
            models.CheckConstraint(
                condition=~models.Q(state="closed")
                | models.Q(closed_at__isnull=False, generation__gte=1),
                name="billing_month_closed_has_close",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="reopened")
                | models.Q(
                    reopened_at__isnull=False, reopened_by__isnull=False, reopen_reason__gt=""
                ),
                name="billing_month_reopen_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_month:%Y-%m} {self.state}"

    @property
    def label(self) -> str:
        return f"{self.service_month:%B %Y}"

    @property
    def month_param(self) -> str:
        """``YYYY-MM``, as URLs and the API name months."""
        return f"{self.service_month:%Y-%m}"

    @property
    def is_closed(self) -> bool:
        return self.state == BillingMonthState.CLOSED


class Claim(PracticeOwned):
    """The professional claim of one billed patient-month (R-BILLPROV-1, R-DOS, R-POS, R-DX).

    ``practitioner_name`` and ``practitioner_npi`` are copied from the billing practitioner at
    the close, so a report of the month never changes when a member's name or NPI does.
    ``explanation`` is the engine's decision, sentence by sentence (person ids as in the
    facts). ``total_cents`` is None when the fee table has no amount for a line's code in the
    practice's setting (facility POS without loaded facility RVUs).
    """

    # The foreign keys of the bulk-written tables (claims, lines, not-billable records) hold
    # by the composite keys ``(practice_id, <column>)`` of migration 0002, and their lookups
    # by indexes that lead with ``practice``: no second constraint or index to maintain for
    # each of the thousands of rows of a close.
    billing_month = models.ForeignKey(
        BillingMonth,
        on_delete=models.PROTECT,
        related_name="claims",
        db_constraint=False,
        db_index=False,
    )
    generation = models.PositiveIntegerField()
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    billing_practitioner = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    practitioner_name = models.CharField(max_length=200)
    practitioner_npi = models.CharField(max_length=10, blank=True)
    date_of_service = models.DateField()
    place_of_service = models.CharField(max_length=2)
    diagnoses = ArrayField(models.CharField(max_length=8))
    family = models.CharField(max_length=10)
    counted_minutes = models.PositiveIntegerField()
    practitioner_minutes = models.PositiveIntegerField(default=0)
    unpaid_minutes = models.PositiveIntegerField(default=0)
    warnings = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    explanation = models.JSONField(default=list)
    total_cents = models.BigIntegerField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    objects: ClassVar[PracticeQuerySet[Claim]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["practice", "id"], name="claim_practice_id"),
            models.UniqueConstraint(
                fields=["practice", "billing_month", "patient", "generation"],
                name="claim_one_per_patient_close",
            ),
            models.UniqueConstraint(
                fields=["practice", "billing_month", "patient"],
                condition=models.Q(superseded_at__isnull=True),
                name="claim_one_live_per_patient_month",
            ),
            models.CheckConstraint(
                condition=models.Q(diagnoses__len__gte=2), name="claim_two_diagnoses"
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["practice", "billing_month", "generation"], name="claim_month_generation"
            ),
            models.Index(fields=["practice", "patient"], name="claim_patient"),
        ]

    def __str__(self) -> str:
        return f"Claim {self.date_of_service} patient {self.patient_id}"

    @property
    def is_superseded(self) -> bool:
        return self.superseded_at is not None


class ClaimLine(PracticeOwned):
    """One line of a claim: a CPT code, its units and its national fee (R-UNITS-1, §12)."""

    claim = models.ForeignKey(  # see Claim.billing_month
        Claim, on_delete=models.PROTECT, related_name="lines", db_constraint=False, db_index=False
    )
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=5)
    units = models.PositiveSmallIntegerField()
    unit_cents = models.BigIntegerField(null=True, blank=True)
    total_cents = models.BigIntegerField(null=True, blank=True)

    objects: ClassVar[PracticeQuerySet[ClaimLine]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["practice", "claim", "code"], name="claim_line_code"),
            models.CheckConstraint(condition=models.Q(units__gte=1), name="claim_line_units"),
        ]

    def __str__(self) -> str:
        return f"{self.code} x{self.units}"


class NotBillable(PracticeOwned):
    """Why an enrolled patient's month was not billed, and what would fix it.

    ``reason`` is the engine's one blocking ``NB_*`` code (RULES.md §13 order), ``explanation``
    its sentences, and ``fix`` the plain-words remedy shown in the worklist ("8 more minutes").
    """

    billing_month = models.ForeignKey(  # see Claim.billing_month
        BillingMonth,
        on_delete=models.PROTECT,
        related_name="not_billables",
        db_constraint=False,
        db_index=False,
    )
    generation = models.PositiveIntegerField()
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    billing_practitioner = models.ForeignKey(
        Membership,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    reason = models.CharField(max_length=40)
    fix = models.CharField(max_length=300)
    counted_minutes = models.PositiveIntegerField(default=0)
    practitioner_minutes = models.PositiveIntegerField(default=0)
    warnings = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    explanation = models.JSONField(default=list)
    superseded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    objects: ClassVar[PracticeQuerySet[NotBillable]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["practice", "billing_month", "patient", "generation"],
                name="not_billable_one_per_patient_close",
            ),
            models.UniqueConstraint(
                fields=["practice", "billing_month", "patient"],
                condition=models.Q(superseded_at__isnull=True),
                name="not_billable_one_live_per_month",
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["practice", "billing_month", "generation", "reason"],
                name="not_billable_month_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason} patient {self.patient_id}"

    @property
    def is_superseded(self) -> bool:
        return self.superseded_at is not None


class ReportKind(models.TextChoices):
    BILLING_CSV = "billing_csv", "Billing CSV"
    BILLING_PDF = "billing_pdf", "Billing report PDF"
    NOT_BILLABLE_CSV = "not_billable_csv", "Not-billable worklist CSV"
    AUDIT_PACKET = "audit_packet", "Audit packet PDF"


class ReportStatus(models.TextChoices):
    PENDING = "pending", "Being prepared"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


def report_path(instance: BillingReport, filename: str) -> str:
    """Private storage, one folder per practice; the stored name says nothing of a patient."""
    suffix = ".csv" if filename.endswith(".csv") else ".pdf"
    return f"practices/{instance.practice.public_id}/billing/{uuid.uuid4()}{suffix}"


class BillingReport(PracticeOwned):
    """A report of one close (``generation``) of a month, rendered by a worker.

    The month's billing CSV, billing PDF and not-billable CSV are queued by the close; an audit
    packet (one claim) is rendered when a manager asks for it. The file lives in private
    storage and is served only by a view that checks the practice and audits the download.
    """

    billing_month = models.ForeignKey(
        BillingMonth, on_delete=models.PROTECT, related_name="reports"
    )
    generation = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=ReportKind.choices)
    claim = models.ForeignKey(
        Claim, null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    status = models.CharField(
        max_length=10, choices=ReportStatus.choices, default=ReportStatus.PENDING
    )
    file = models.FileField(upload_to=report_path, blank=True, max_length=200)
    sha256 = models.CharField(max_length=64, blank=True)
    size_bytes = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=now)
    rendered_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[PracticeQuerySet[BillingReport]] = PracticeQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["practice", "billing_month", "generation", "kind", "claim"],
                name="billing_report_one_per_kind",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=models.Q(kind="audit_packet", claim__isnull=False)
                | (~models.Q(kind="audit_packet") & models.Q(claim__isnull=True)),
                name="billing_report_packet_has_claim",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="ready")
                | (
                    models.Q(file__gt="", rendered_at__isnull=False)
                    & models.Q(sha256__regex=r"^[0-9a-f]{64}$")
                ),
                name="billing_report_ready_has_file",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    @property
    def is_ready(self) -> bool:
        return self.status == ReportStatus.READY

    @property
    def filename(self) -> str:
        """The name a download is saved under (no patient name in it)."""
        month = f"{self.billing_month.service_month:%Y-%m}"
        if self.kind == ReportKind.AUDIT_PACKET and self.claim is not None:
            return f"audit-packet-{month}-{self.claim.patient.mrn}.pdf"
        names = {
            ReportKind.BILLING_CSV: f"billing-{month}.csv",
            ReportKind.BILLING_PDF: f"billing-report-{month}.pdf",
            ReportKind.NOT_BILLABLE_CSV: f"not-billable-{month}.csv",
        }
        return names.get(ReportKind(self.kind), f"report-{month}")
