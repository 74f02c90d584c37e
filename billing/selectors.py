"""Reads of billing that pages, the API, the report renderer and the tasks share.

Lists are ``QuerySet``s with their ``select_related``/``prefetch_related`` applied, so a page
costs the same number of queries whatever its length. ``<noun>_get`` raises ``NotFound`` for a
row that does not exist *or* belongs to another practice. Without ``generation``, claims and
not-billable records are those of the month's last close (the live generation).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Min, Prefetch, Q, QuerySet
from django.utils import timezone

from billing.facts import PatientMonthRecord, month_facts, patient_month_record
from billing.fees import default_fee_schedule
from billing.models import (
    BillingMonth,
    BillingMonthState,
    BillingReport,
    Claim,
    ClaimLine,
    NotBillable,
    ReportKind,
)
from billing.presentation import Chart, bar_chart, reason_label
from billing.pricing import FeeNotAvailableError, is_facility_place_of_service
from billing.rules import (
    NotBillableReason,
    UnsupportedServiceYearError,
    decide,
    format_lines,
)
from ccm.errors import NotFound
from ccm.models import Membership, Practice
from patients.models import Patient
from timetracking.models import TimeEntry
from timetracking.months import previous_month, service_month_of

_MONTH_RELATED = ("closed_by__user", "reopened_by__user", "close_requested_by__user")
_LINES = Prefetch("lines", queryset=ClaimLine.objects.order_by("position"))


def _parse_uuid(value: uuid.UUID | str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound from exc


# --- Members and months ----------------------------------------------------------------------


def member_by_id(*, practice: Practice, membership_id: int) -> Membership:
    """The member a task was given (tasks pass internal ids, never objects)."""
    try:
        return (
            Membership.objects.for_practice(practice).select_related("user").get(pk=membership_id)
        )
    except Membership.DoesNotExist as exc:
        raise NotFound from exc


def billing_month_get(*, practice: Practice, public_id: uuid.UUID | str) -> BillingMonth:
    try:
        return (
            BillingMonth.objects.for_practice(practice)
            .select_related(*_MONTH_RELATED)
            .get(public_id=_parse_uuid(public_id))
        )
    except BillingMonth.DoesNotExist as exc:
        raise NotFound from exc


def billing_month_for(*, practice: Practice, service_month: dt.date) -> BillingMonth | None:
    """The month's row, or None when nothing has been asked of that month yet."""
    return (
        BillingMonth.objects.for_practice(practice)
        .select_related(*_MONTH_RELATED)
        .filter(service_month=service_month)
        .first()
    )


def billing_month_list(*, practice: Practice) -> QuerySet[BillingMonth]:
    """Every billing month of the practice, newest first."""
    return (
        BillingMonth.objects.for_practice(practice)
        .select_related(*_MONTH_RELATED)
        .order_by("-service_month")
    )


@dataclass(frozen=True, slots=True)
class MonthRow:
    """One month of the manager's overview: its row (None when untouched) and what it allows."""

    service_month: dt.date
    billing_month: BillingMonth | None
    has_ended: bool

    @property
    def label(self) -> str:
        return f"{self.service_month:%B %Y}"

    @property
    def month_param(self) -> str:
        return f"{self.service_month:%Y-%m}"

    @property
    def state(self) -> str:
        return BillingMonthState.OPEN if self.billing_month is None else self.billing_month.state

    @property
    def can_close(self) -> bool:
        return self.has_ended and self.state in {
            BillingMonthState.OPEN,
            BillingMonthState.REOPENED,
            BillingMonthState.CLOSING,
        }


def billing_month_overview(
    *, practice: Practice, now: dt.datetime, count: int = 12
) -> list[MonthRow]:
    """The months that can have claims, newest first (two queries).

    From the current month back to the earliest of: the practice's first month, its first
    month with time logged, its first billing month; at most ``count``.
    """
    current = service_month_of(now, practice.tz)
    window = [current]
    while len(window) < count:
        window.append(previous_month(window[-1]))
    rows = {
        row.service_month: row
        for row in billing_month_list(practice=practice).filter(service_month__gte=window[-1])
    }
    first_logged = TimeEntry.objects.for_practice(practice).aggregate(first=Min("service_month"))[
        "first"
    ]
    first = min(
        service_month_of(practice.created_at, practice.tz),
        first_logged or current,
        min(rows, default=current),
    )
    return [
        MonthRow(service_month=month, billing_month=rows.get(month), has_ended=month < current)
        for month in window
        if month >= first
    ]


def billed_history_chart(rows: Iterable[MonthRow]) -> Chart:
    """The billed totals of the ended months, oldest first, as bars (no query)."""
    points = [
        (
            f"{row.service_month:%b %y}",
            row.billing_month.total_cents if row.billing_month is not None else 0,
            row.billing_month is not None and row.billing_month.generation > 0,
        )
        for row in reversed(list(rows))
        if row.has_ended
    ]
    return bar_chart(points, title="Billed per month (national fee-schedule amounts)")


# --- Claims and not-billable records ---------------------------------------------------------


def _generation(billing_month: BillingMonth, generation: int | None) -> int:
    return billing_month.generation if generation is None else generation


def claim_list(
    *, practice: Practice, billing_month: BillingMonth, generation: int | None = None
) -> QuerySet[Claim]:
    """The claims of one close of the month, by practitioner then patient, lines loaded."""
    return (
        Claim.objects.for_practice(practice)
        .filter(billing_month=billing_month, generation=_generation(billing_month, generation))
        .select_related("patient", "billing_month", "billing_practitioner")
        .prefetch_related(_LINES)
        .order_by("practitioner_name", "patient__last_name", "patient__first_name", "id")
    )


def claim_get(*, practice: Practice, public_id: uuid.UUID | str) -> Claim:
    try:
        return (
            Claim.objects.for_practice(practice)
            .select_related("patient", "billing_month", "billing_practitioner__user")
            .prefetch_related(_LINES)
            .get(public_id=_parse_uuid(public_id))
        )
    except Claim.DoesNotExist as exc:
        raise NotFound from exc


def not_billable_list(
    *,
    practice: Practice,
    billing_month: BillingMonth,
    generation: int | None = None,
    reason: str | None = None,
) -> QuerySet[NotBillable]:
    """The not-billable records of one close, by reason (§13 order) then patient."""
    records = (
        NotBillable.objects.for_practice(practice)
        .filter(billing_month=billing_month, generation=_generation(billing_month, generation))
        .select_related("patient", "billing_practitioner__user")
        .order_by("patient__last_name", "patient__first_name", "id")
    )
    if reason:
        records = records.filter(reason=reason)
    return records


@dataclass(frozen=True, slots=True)
class ReasonCount:
    reason: str
    label: str
    patients: int


def not_billable_counts(
    *, practice: Practice, billing_month: BillingMonth, generation: int | None = None
) -> list[ReasonCount]:
    """How many patients each reason kept from billing, in the engine's §13 order."""
    counts = dict(
        NotBillable.objects.for_practice(practice)
        .filter(billing_month=billing_month, generation=_generation(billing_month, generation))
        .values("reason")
        .annotate(patients=Count("id"))
        .values_list("reason", "patients")
    )
    return [
        ReasonCount(reason=reason.value, label=reason_label(reason), patients=counts[reason])
        for reason in NotBillableReason
        if counts.get(reason)
    ]


# --- What changed between two closes ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PatientChange:
    """One patient whose outcome differs between the previous close and the last one."""

    patient: Patient
    kind: str  # "added" (billed now), "removed" (no longer billed), "changed"
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class MonthChanges:
    previous_generation: int
    before_cents: int
    after_cents: int
    unchanged: int
    changes: tuple[PatientChange, ...]

    @property
    def difference_cents(self) -> int:
        return self.after_cents - self.before_cents


def _outcome(claim: Claim | None, record: NotBillable | None) -> tuple[str, int]:
    """An outcome as words ("99490 x1 ($60.49)" or "Not billable: …") and its cents."""
    if claim is not None:
        lines = " + ".join(f"{line.code} x{line.units}" for line in claim.lines.all())
        cents = claim.total_cents or 0
        return f"{lines} on {claim.date_of_service:%b %d}", cents
    if record is not None:
        return f"Not billable: {reason_label(record.reason)}", 0
    return "Not in that close", 0


def billing_month_changes(
    *, practice: Practice, billing_month: BillingMonth
) -> MonthChanges | None:
    """Per patient, what the last close changed from the one before (None after one close)."""
    if billing_month.generation < 2:  # noqa: PLR2004  (a second close is the first with a past)
        return None
    last = billing_month.generation
    generations = [last - 1, last]
    claims = (
        Claim.objects.for_practice(practice)
        .filter(billing_month=billing_month, generation__in=generations)
        .select_related("patient")
        .prefetch_related(_LINES)
    )
    records = (
        NotBillable.objects.for_practice(practice)
        .filter(billing_month=billing_month, generation__in=generations)
        .select_related("patient")
    )
    by_patient: dict[int, dict[int, tuple[Claim | None, NotBillable | None]]] = {}
    patients: dict[int, Patient] = {}
    for claim in claims:
        patients[claim.patient_id] = claim.patient
        by_patient.setdefault(claim.patient_id, {})[claim.generation] = (claim, None)
    for record in records:
        patients[record.patient_id] = record.patient
        by_patient.setdefault(record.patient_id, {})[record.generation] = (None, record)
    changes = []
    before_total = after_total = unchanged = 0
    for patient_id, outcomes in by_patient.items():
        before, before_cents = _outcome(*outcomes.get(last - 1, (None, None)))
        after, after_cents = _outcome(*outcomes.get(last, (None, None)))
        before_total += before_cents
        after_total += after_cents
        if (before, before_cents) == (after, after_cents):
            unchanged += 1
            continue
        billed_before = outcomes.get(last - 1, (None, None))[0] is not None
        billed_after = outcomes.get(last, (None, None))[0] is not None
        kind = "changed"
        if billed_after and not billed_before:
            kind = "added"
        elif billed_before and not billed_after:
            kind = "removed"
        changes.append(
            PatientChange(patient=patients[patient_id], kind=kind, before=before, after=after)
        )
    changes.sort(key=lambda change: (change.patient.last_name, change.patient.first_name))
    return MonthChanges(
        previous_generation=last - 1,
        before_cents=before_total,
        after_cents=after_total,
        unchanged=unchanged,
        changes=tuple(changes),
    )


# --- Reports ---------------------------------------------------------------------------------


def billing_report_by_id(*, practice: Practice, report_id: int) -> BillingReport:
    """The report a render task was given."""
    try:
        return BillingReport.objects.for_practice(practice).get(pk=report_id)
    except BillingReport.DoesNotExist as exc:
        raise NotFound from exc


def billing_report_get(*, practice: Practice, public_id: uuid.UUID | str) -> BillingReport:
    try:
        return (
            BillingReport.objects.for_practice(practice)
            .select_related("billing_month", "claim__patient")
            .get(public_id=_parse_uuid(public_id))
        )
    except BillingReport.DoesNotExist as exc:
        raise NotFound from exc


def billing_report_list(*, practice: Practice, billing_month: BillingMonth) -> list[BillingReport]:
    """The month reports of the live generation, in the order CSV, PDF, not-billable CSV."""
    reports = BillingReport.objects.for_practice(practice).filter(
        billing_month=billing_month,
        generation=billing_month.generation,
        claim__isnull=True,
    )
    order = [kind.value for kind in ReportKind]
    return sorted(reports.select_related("billing_month"), key=lambda r: order.index(r.kind))


def audit_packet_for(*, practice: Practice, claim: Claim) -> BillingReport | None:
    return (
        BillingReport.objects.for_practice(practice)
        .select_related("billing_month", "claim__patient")
        .filter(kind=ReportKind.AUDIT_PACKET, claim=claim)
        .first()
    )


def billing_report_patient_ids(*, practice: Practice, report: BillingReport) -> list[uuid.UUID]:
    """The patients whose data a report holds (for the download's read audit).

    The billing CSV and PDF list the claims' patients (the PDF counts the others by reason
    only); the not-billable CSV lists the patients not billed.
    """
    if report.claim is not None:
        return [report.claim.patient.public_id]
    scope = {"billing_month_id": report.billing_month_id, "generation": report.generation}
    model: type[Claim] | type[NotBillable] = (
        NotBillable if report.kind == ReportKind.NOT_BILLABLE_CSV else Claim
    )
    held = Q(pk__in=model.objects.for_practice(practice).filter(**scope).values("patient_id"))
    return list(
        Patient.objects.for_practice(practice)
        .filter(held)
        .order_by("id")
        .values_list("public_id", flat=True)
    )


@dataclass(frozen=True, slots=True)
class PractitionerGroup:
    """One billing practitioner's claims in the billing report, with subtotals."""

    name: str
    npi: str
    claims: tuple[Claim, ...]
    line_count: int
    units: int
    total_cents: int
    has_unpriced: bool


@dataclass(frozen=True, slots=True)
class BillingReportData:
    """Everything the billing CSV and PDF show for one close of a month."""

    practice: Practice
    billing_month: BillingMonth
    generation: int
    generated_at: dt.datetime
    groups: tuple[PractitionerGroup, ...]
    not_billable: tuple[NotBillable, ...]
    reason_counts: tuple[ReasonCount, ...]
    claim_count: int = 0
    line_count: int = 0
    units: int = 0
    total_cents: int = 0
    has_unpriced: bool = False
    notes: tuple[str, ...] = field(default=())


def billing_report_data(
    *, practice: Practice, billing_month: BillingMonth, generation: int
) -> BillingReportData:
    """Claims grouped by practitioner with subtotals and totals, and the not-billable summary."""
    claims = list(claim_list(practice=practice, billing_month=billing_month, generation=generation))
    groups: dict[tuple[str, str], list[Claim]] = {}
    for claim in claims:
        groups.setdefault((claim.practitioner_name, claim.practitioner_npi), []).append(claim)
    built = []
    for (name, npi), members in groups.items():
        lines = [line for claim in members for line in claim.lines.all()]
        built.append(
            PractitionerGroup(
                name=name,
                npi=npi,
                claims=tuple(members),
                line_count=len(lines),
                units=sum(line.units for line in lines),
                total_cents=sum(line.total_cents or 0 for line in lines),
                has_unpriced=any(line.total_cents is None for line in lines),
            )
        )
    not_billable = tuple(
        not_billable_list(practice=practice, billing_month=billing_month, generation=generation)
    )
    reason_totals = Counter(record.reason for record in not_billable)
    return BillingReportData(
        practice=practice,
        billing_month=billing_month,
        generation=generation,
        generated_at=timezone.localtime(timezone.now(), practice.tz),
        groups=tuple(built),
        not_billable=not_billable,
        reason_counts=tuple(
            ReasonCount(
                reason=reason.value, label=reason_label(reason), patients=reason_totals[reason]
            )
            for reason in NotBillableReason
            if reason_totals[reason]
        ),
        claim_count=len(claims),
        line_count=sum(group.line_count for group in built),
        units=sum(group.units for group in built),
        total_cents=sum(group.total_cents for group in built),
        has_unpriced=any(group.has_unpriced for group in built),
    )


@dataclass(frozen=True, slots=True)
class AuditPacket:
    """One billed patient-month, for an auditor: the claim and the records behind it."""

    practice: Practice
    claim: Claim
    record: PatientMonthRecord
    generated_at: dt.datetime


def audit_packet(*, practice: Practice, claim: Claim) -> AuditPacket:
    claim = claim_get(practice=practice, public_id=claim.public_id)
    return AuditPacket(
        practice=practice,
        claim=claim,
        record=patient_month_record(
            practice=practice,
            patient=claim.patient,
            service_month=claim.billing_month.service_month,
            billing_practitioner_id=claim.billing_practitioner_id,
        ),
        generated_at=timezone.localtime(timezone.now(), practice.tz),
    )


# --- The current month's progress ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProgressRow:
    label: str
    patients: int
    cents: int | None
    kind: str  # "billable", "below" or "blocked"


@dataclass(frozen=True, slots=True)
class MonthProgress:
    """The month so far, decided as if it closed now: who reaches which threshold, and the money.

    ``expected_cents`` prices the lines at the national amounts of the fee table for the
    practice's place of service.
    """

    service_month: dt.date
    patients: int
    rows: tuple[ProgressRow, ...]
    expected_cents: int
    error: str = ""


_BELOW_BUCKETS = (
    (0, 0, "No counted time yet"),
    (1, 9, "1 to 9 minutes"),
    (10, 19, "10 to 19 minutes"),
)


def billing_month_progress(*, practice: Practice, service_month: dt.date) -> MonthProgress:
    """Every patient of the month decided on the facts so far (four queries plus the engine)."""
    fees = default_fee_schedule()
    facility = is_facility_place_of_service(practice.place_of_service)
    facts = month_facts(practice=practice, service_month=service_month)
    billed: dict[str, list[int]] = {}
    below = Counter[int]()
    blocked = 0
    expected = 0
    try:
        for month in facts.patients:
            decision = decide(month.facts, fees)
            if decision.billable:
                assert decision.date_of_service is not None  # noqa: S101
                cents = 0
                for line in decision.lines:
                    try:
                        unit = fees.amount_cents(
                            line.code, decision.date_of_service, facility=facility
                        )
                    except FeeNotAvailableError:
                        unit = 0
                    cents += unit * line.units
                billed.setdefault(format_lines(decision.lines), []).append(cents)
                expected += cents
            elif decision.reason == NotBillableReason.NB_TIME_BELOW_THRESHOLD:
                for low, high, _ in _BELOW_BUCKETS:
                    if low <= decision.counted_minutes <= high:
                        below[low] += 1
            else:
                blocked += 1
    except UnsupportedServiceYearError as exc:
        return MonthProgress(service_month, len(facts.patients), (), 0, error=str(exc))
    rows = [
        ProgressRow(label=label, patients=below[low], cents=None, kind="below")
        for low, _, label in _BELOW_BUCKETS
        if below[low]
    ]
    rows += [
        ProgressRow(label=label, patients=len(amounts), cents=sum(amounts), kind="billable")
        for label, amounts in sorted(billed.items(), key=lambda item: sum(item[1]) / len(item[1]))
    ]
    if blocked:
        rows.append(
            ProgressRow(
                label="Blocked by another reason (consent, care plan, eligibility…)",
                patients=blocked,
                cents=None,
                kind="blocked",
            )
        )
    return MonthProgress(
        service_month=service_month,
        patients=len(facts.patients),
        rows=tuple(rows),
        expected_cents=expected,
    )
