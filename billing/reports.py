"""CSV and PDF renderings of an already-closed month (no decisions here, no database writes).

Called only by the report render task (never in a request). The PDFs are WeasyPrint renderings
of ``templates/billing/pdf/*.html``, which carry their own stylesheet and use only fonts
installed on the machine (no network access while rendering).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.template.loader import render_to_string
from django.utils import timezone

from billing.presentation import format_cents, plural, reason_label
from timetracking.models import StaffRole

if TYPE_CHECKING:
    from billing.models import NotBillable
    from billing.selectors import AuditPacket, BillingReportData

BILLING_COLUMNS = (
    "Practice NPI",
    "Practice TIN",
    "Billing practitioner",
    "Practitioner NPI",
    "Patient name",
    "MRN",
    "MBI",
    "Date of birth",
    "Date of service",
    "Place of service",
    "CPT code",
    "Units",
    "ICD-10 codes",
    "Fee",
)
NOT_BILLABLE_COLUMNS = (
    "Patient name",
    "MRN",
    "Date of birth",
    "Billing practitioner",
    "Reason code",
    "Reason",
    "What would fix it",
    "Counted minutes",
    "Explanation",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted with ``'``."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _dollars(cents: int | None) -> str:
    return "" if cents is None else str(Decimal(cents) / 100)


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


def billing_csv(data: BillingReportData) -> bytes:
    """One row per claim line, then a totals row (units and fees summed)."""
    practice = data.practice
    rows: list[list[object]] = [
        [
            practice.npi,
            practice.tin,
            claim.practitioner_name,
            claim.practitioner_npi,
            f"{claim.patient.last_name}, {claim.patient.first_name}",
            claim.patient.mrn,
            claim.patient.mbi,
            claim.patient.date_of_birth.isoformat(),
            claim.date_of_service.isoformat(),
            claim.place_of_service,
            line.code,
            line.units,
            " ".join(claim.diagnoses),
            _dollars(line.total_cents),
        ]
        for group in data.groups
        for claim in group.claims
        for line in claim.lines.all()
    ]
    total: list[object] = ["TOTAL", "", "", "", f"{data.claim_count} claims", "", ""]
    total += ["", "", "", f"{data.line_count} lines", data.units, "", _dollars(data.total_cents)]
    rows.append(total)
    return _csv(BILLING_COLUMNS, rows)


def not_billable_csv(records: Iterable[NotBillable]) -> bytes:
    """The not-billable worklist: each patient, the reason in plain words, and the fix."""
    rows = [
        [
            f"{record.patient.last_name}, {record.patient.first_name}",
            record.patient.mrn,
            record.patient.date_of_birth.isoformat(),
            record.billing_practitioner.display_name if record.billing_practitioner else "",
            record.reason,
            reason_label(record.reason),
            record.fix,
            record.counted_minutes,
            " ".join(record.explanation),
        ]
        for record in records
    ]
    return _csv(NOT_BILLABLE_COLUMNS, rows)


@dataclass(frozen=True, slots=True)
class RenderedPdf:
    content: bytes
    pages: int


def _pdf(template: str, context: dict[str, Any], *, tz: ZoneInfo) -> RenderedPdf:
    """Render a template to PDF; times show in the practice's zone (its months are there)."""
    from weasyprint import HTML  # noqa: PLC0415  (heavy import: workers only)

    with timezone.override(tz):
        html = render_to_string(template, context)
    document = HTML(string=html).render()
    pdf: bytes = document.write_pdf()
    return RenderedPdf(content=pdf, pages=len(document.pages))


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One claim line of the PDF: the patient's name (first line of a claim) and the rest."""

    patient: str
    text: str
    starts_claim: bool


@dataclass(frozen=True, slots=True)
class LedgerGroup:
    name: str
    npi: str
    claims: int
    rows: tuple[LedgerRow, ...]
    subtotal: str


@dataclass(frozen=True, slots=True)
class Ledger:
    header: str
    groups: tuple[LedgerGroup, ...]


# The ledger's columns after the patient's name: title, and whether the values align right.
_LEDGER_COLUMNS = (
    ("MRN", False),
    ("MBI", False),
    ("BORN", False),
    ("SERVICE", False),
    ("POS", False),
    ("CPT", False),
    ("UNITS", True),
    ("FEE", True),
    ("ICD-10", False),
)
_GAP = "   "


def _ledger_text(values: Sequence[str], widths: Sequence[int]) -> str:
    cells = [
        value.rjust(width) if right else value.ljust(width)
        for value, width, (_, right) in zip(values, widths, _LEDGER_COLUMNS, strict=True)
    ]
    return _GAP.join(cells).rstrip()


LEDGER_DIAGNOSES = 4  # the PDF shows the first four codes; the CSV and the claim show all


def _diagnoses(codes: Sequence[str]) -> str:
    """``E11.9 I10 N18.30 I50.22 +2``: a ledger line stays one line on the page."""
    shown = " ".join(codes[:LEDGER_DIAGNOSES])
    more = len(codes) - LEDGER_DIAGNOSES
    return f"{shown} +{more}" if more > 0 else shown


def billing_ledger(data: BillingReportData) -> Ledger:
    """The claim lines as aligned monospaced text, one row each, grouped by practitioner.

    The PDF sets each row in two cells (the name, then this text): WeasyPrint lays out every
    table cell separately, and two cells a row keep 2,000 claim lines to a few seconds.
    """
    values: list[list[tuple[str, list[str], bool]]] = []
    for group in data.groups:
        rows = []
        for claim in group.claims:
            patient = claim.patient
            for index, line in enumerate(claim.lines.all()):
                first = index == 0
                rows.append(
                    (
                        f"{patient.last_name}, {patient.first_name}" if first else "",
                        [
                            patient.mrn if first else "",
                            patient.mbi if first else "",
                            f"{patient.date_of_birth:%m/%d/%Y}" if first else "",
                            f"{claim.date_of_service:%m/%d/%Y}" if first else "",
                            claim.place_of_service if first else "",
                            line.code,
                            str(line.units),
                            format_cents(line.total_cents),
                            _diagnoses(claim.diagnoses) if first else "",
                        ],
                        first,
                    )
                )
        values.append(rows)
    widths = [len(title) for title, _ in _LEDGER_COLUMNS]
    for rows in values:
        for _, cells, _ in rows:
            widths = [max(width, len(cell)) for width, cell in zip(widths, cells, strict=True)]
    widths[-1] = 0  # the last column is not padded
    groups = tuple(
        LedgerGroup(
            name=group.name,
            npi=group.npi,
            claims=len(group.claims),
            rows=tuple(
                LedgerRow(patient=name, text=_ledger_text(cells, widths), starts_claim=first)
                for name, cells, first in rows
            ),
            subtotal=(
                f"{plural(len(group.claims), 'claim')}, {plural(group.line_count, 'line')}, "
                f"{plural(group.units, 'unit')}: {format_cents(group.total_cents)}"
                + ("*" if group.has_unpriced else "")
            ),
        )
        for group, rows in zip(data.groups, values, strict=True)
    )
    return Ledger(
        header=_ledger_text([title for title, _ in _LEDGER_COLUMNS], widths), groups=groups
    )


def render_billing_pdf(data: BillingReportData) -> RenderedPdf:
    """The billing report and its page count (the benchmark prints it)."""
    return _pdf(
        "billing/pdf/billing_report.html",
        {"data": data, "ledger": billing_ledger(data)},
        tz=data.practice.tz,
    )


def billing_pdf(data: BillingReportData) -> bytes:
    """The billing report: claims grouped by practitioner, totals, the not-billable summary."""
    return render_billing_pdf(data).content


def audit_packet_pdf(packet: AuditPacket) -> bytes:
    """One patient-month for an auditor: consent, care plan, time log, claim and explanation."""
    tz = packet.practice.tz
    entries = []
    for entry in packet.record.time_entries:
        start, end = entry.start.astimezone(tz), entry.end.astimezone(tz)
        if entry.voided_at is not None:
            status = f"Voided: {entry.void_reason}"
        elif entry.part_of:
            status = f"Part of {entry.get_part_of_display()} (not CCM time)"
        elif entry.staff_role == StaffRole.NON_CLINICAL:
            status = "Non-clinical (not counted)"
        else:
            status = ""
        entries.append({"entry": entry, "start": start, "end": end, "status": status})
    return _pdf(
        "billing/pdf/audit_packet.html",
        {"packet": packet, "claim": packet.claim, "record": packet.record, "entries": entries},
        tz=tz,
    ).content
