"""Pages of billing: the manager's months, a closed month, the not-billable worklist, a claim.

Thin: each view reads through ``billing.selectors`` or acts through ``billing.services``. A
page that shows patients writes one read-audit row with the ids it showed; a download writes
one with every patient the file holds. Months in URLs are ``YYYY-MM`` (to close one that has
no row yet); everything else is addressed by public id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from billing import selectors
from billing.forms import ReasonFilterForm, ReopenForm
from billing.models import BillingMonth, BillingMonthState, ReportKind
from billing.services import months as month_services
from billing.services import reports as report_services
from ccm import permissions
from ccm.audit import AuditEvent, audit_read
from ccm.decorators import member_required, passive
from ccm.errors import InvalidState, NotFound
from timetracking.months import parse_month, service_month_of

CLAIMS_PER_PAGE = 100
RECORDS_PER_PAGE = 100


def _audit_shown(
    request: HttpRequest,
    event: AuditEvent,
    patient_ids: Iterable[uuid.UUID],
    obj: Any = None,
) -> None:
    """One read-audit row with the patients a page showed (none when it showed nobody)."""
    ids = list(dict.fromkeys(patient_ids))
    if ids:
        audit_read(
            practice=request.practice,  # type: ignore[attr-defined]
            actor=request.membership,  # type: ignore[attr-defined]
            event=event,
            patient_public_ids=ids,
            obj=obj,
        )


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and int(raw) > 0 else 1


@require_GET
@member_required(permissions.can_view_billing)
def months(request: HttpRequest) -> HttpResponse:
    """The manager's month page: this month so far, the last months, close buttons, chart."""
    practice = request.practice  # type: ignore[attr-defined]
    now = timezone.now()
    rows = selectors.billing_month_overview(practice=practice, now=now)
    progress = selectors.billing_month_progress(
        practice=practice, service_month=service_month_of(now, practice.tz)
    )
    return render(
        request,
        "billing/months.html",
        {
            "rows": rows,
            "progress": progress,
            "chart": selectors.billed_history_chart(rows),
            "can_close": permissions.can_close_month(request.membership),  # type: ignore[attr-defined]
        },
    )


@require_POST
@member_required(permissions.can_close_month)
def month_close(request: HttpRequest, month: str) -> HttpResponse:
    """ "Close now": the month is marked closing and closed by a worker."""
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    try:
        service_month = parse_month(month)
    except ValueError as exc:
        raise NotFound from exc
    try:
        billing_month = month_services.billing_month_close_request(
            practice=practice, actor=member, service_month=service_month
        )
    except InvalidState as exc:
        messages.error(request, exc.message)
        return redirect("billing_months")
    if billing_month.state == BillingMonthState.CLOSED:
        messages.info(request, f"{billing_month.label} is already closed: nothing changed.")
    else:
        messages.success(request, f"Closing {billing_month.label}: claims appear in a moment.")
    return redirect("billing_month", billing_month=billing_month.public_id)


def _month_context(request: HttpRequest, billing_month: BillingMonth) -> dict[str, Any]:
    practice = request.practice  # type: ignore[attr-defined]
    claims = Paginator(
        selectors.claim_list(practice=practice, billing_month=billing_month), CLAIMS_PER_PAGE
    ).get_page(_page_number(request))
    return {
        "month": billing_month,
        "claims": claims,
        "reason_counts": selectors.not_billable_counts(
            practice=practice, billing_month=billing_month
        ),
        "changes": selectors.billing_month_changes(practice=practice, billing_month=billing_month),
        "reports": selectors.billing_report_list(practice=practice, billing_month=billing_month),
        "can_close": permissions.can_close_month(request.membership),  # type: ignore[attr-defined]
        "reopen_form": ReopenForm(),
    }


@require_GET
@member_required(permissions.can_view_billing)
def month_detail(request: HttpRequest, billing_month: uuid.UUID) -> HttpResponse:
    """A month's claims (paged), reasons not billed, what the last close changed, reports."""
    found = selectors.billing_month_get(
        practice=request.practice,  # type: ignore[attr-defined]
        public_id=billing_month,
    )
    context = _month_context(request, found)
    shown = [claim.patient.public_id for claim in context["claims"]]
    if context["changes"] is not None:
        shown += [change.patient.public_id for change in context["changes"].changes]
    _audit_shown(request, AuditEvent.BILLING_MONTH_VIEWED, shown, obj=found)
    return render(request, "billing/month_detail.html", context)


@passive  # the month page polls it while the close runs
@require_GET
@member_required(permissions.can_view_billing)
def month_status(request: HttpRequest, billing_month: uuid.UUID) -> HttpResponse:
    """htmx poll of a closing month: the page reloads itself once the close is done."""
    found = selectors.billing_month_get(
        practice=request.practice,  # type: ignore[attr-defined]
        public_id=billing_month,
    )
    response = render(request, "billing/_month_status.html", {"month": found})
    if found.state != BillingMonthState.CLOSING:
        response["HX-Refresh"] = "true"
    return response


@require_POST
@member_required(permissions.can_close_month)
def month_reopen(request: HttpRequest, billing_month: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    found = selectors.billing_month_get(practice=practice, public_id=billing_month)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the month is reopened.")
        return redirect("billing_month", billing_month=found.public_id)
    try:
        month_services.billing_month_reopen(
            practice=practice, actor=member, billing_month=found, reason=form.cleaned_data["reason"]
        )
    except InvalidState as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"{found.label} is reopened: time entries can be corrected; close it again to "
            "replace its claims.",
        )
    return redirect("billing_month", billing_month=found.public_id)


@require_GET
@member_required(permissions.can_view_billing)
def not_billable(request: HttpRequest, billing_month: uuid.UUID) -> HttpResponse:
    """The not-billable worklist: each patient, the reason in plain words, and the fix."""
    practice = request.practice  # type: ignore[attr-defined]
    found = selectors.billing_month_get(practice=practice, public_id=billing_month)
    filters = ReasonFilterForm(request.GET)
    reason, page = filters.filters()
    records = Paginator(
        selectors.not_billable_list(practice=practice, billing_month=found, reason=reason),
        RECORDS_PER_PAGE,
    ).get_page(page)
    reports = selectors.billing_report_list(practice=practice, billing_month=found)
    _audit_shown(
        request,
        AuditEvent.NOT_BILLABLE_VIEWED,
        [record.patient.public_id for record in records],
        obj=found,
    )
    return render(
        request,
        "billing/not_billable.html",
        {
            "month": found,
            "records": records,
            "filters": filters,
            "reason": reason,
            "reason_counts": selectors.not_billable_counts(practice=practice, billing_month=found),
            "csv_report": next(
                (report for report in reports if report.kind == ReportKind.NOT_BILLABLE_CSV), None
            ),
            "can_download": permissions.can_close_month(request.membership),  # type: ignore[attr-defined]
        },
    )


@require_GET
@member_required(permissions.can_view_billing)
def claim_detail(request: HttpRequest, claim: uuid.UUID) -> HttpResponse:
    practice = request.practice  # type: ignore[attr-defined]
    found = selectors.claim_get(practice=practice, public_id=claim)
    _audit_shown(request, AuditEvent.CLAIM_VIEWED, [found.patient.public_id], obj=found)
    return render(
        request,
        "billing/claim_detail.html",
        {
            "claim": found,
            "packet": selectors.audit_packet_for(practice=practice, claim=found),
            "can_close": permissions.can_close_month(request.membership),  # type: ignore[attr-defined]
        },
    )


@require_POST
@member_required(permissions.can_close_month)
def audit_packet_request(request: HttpRequest, claim: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    found = selectors.claim_get(practice=practice, public_id=claim)
    report_services.billing_audit_packet_request(practice=practice, actor=member, claim=found)
    messages.success(request, "The audit packet is being prepared: refresh in a moment.")
    return redirect("billing_claim", claim=found.public_id)


@require_GET
@member_required(permissions.can_close_month)
def report_download(request: HttpRequest, billing_report: uuid.UUID) -> HttpResponse:
    """A rendered report from private storage; the download is audited with its patients."""
    practice = request.practice  # type: ignore[attr-defined]
    report = selectors.billing_report_get(practice=practice, public_id=billing_report)
    if not report.is_ready:
        messages.info(request, f"{report.get_kind_display()} is not ready yet.")
        return redirect("billing_month", billing_month=report.billing_month.public_id)
    audit_read(
        practice=practice,
        actor=request.membership,  # type: ignore[attr-defined]
        event=AuditEvent.BILLING_REPORT_DOWNLOADED,
        patient_public_ids=selectors.billing_report_patient_ids(practice=practice, report=report),
        obj=report,
    )
    content_type = "text/csv" if report.file.name.endswith(".csv") else "application/pdf"
    response = FileResponse(
        report.file.open("rb"),
        as_attachment=True,
        filename=report.filename,
        content_type=content_type,
    )
    response["Cache-Control"] = "private, no-store"
    # member_required's signature speaks of HttpResponse; a FileResponse streams the file.
    return cast("HttpResponse", response)
