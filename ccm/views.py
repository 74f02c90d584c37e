"""Pages of the tenancy core: dashboard, practice chooser, members, audit log, errors."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ccm import permissions, selectors, services
from ccm.audit import AuditEvent, audit_record
from ccm.decorators import member_required
from ccm.errors import InvalidState, NotFound
from ccm.tenancy import SESSION_PRACTICE_KEY, practice_context


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@require_GET
@member_required()
def dashboard(request: HttpRequest) -> HttpResponse:
    members = selectors.membership_list(practice=request.practice)  # type: ignore[attr-defined]
    return render(
        request,
        "ccm/dashboard.html",
        {"member_count": sum(1 for m in members if m.is_active)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def practice_choose(request: HttpRequest) -> HttpResponse:
    memberships = getattr(request, "memberships", [])
    if request.method == "POST":
        chosen = request.POST.get("practice", "")
        membership = next((m for m in memberships if str(m.practice.public_id) == chosen), None)
        if membership is None:
            raise NotFound
        request.session[SESSION_PRACTICE_KEY] = str(membership.practice.public_id)
        with practice_context(membership.practice_id, user_id=request.user.pk):
            audit_record(
                practice=membership.practice,
                actor=membership,
                event=AuditEvent.PRACTICE_SWITCHED,
                obj=membership.practice,
            )
        messages.success(request, f"You are now working in {membership.practice.name}.")
        return redirect("dashboard")
    return render(request, "ccm/practice_choose.html", {"memberships": memberships})


@require_GET
@member_required(permissions.can_manage_practice)
def practice_members(request: HttpRequest) -> HttpResponse:
    members = selectors.membership_list(practice=request.practice)  # type: ignore[attr-defined]
    return render(request, "ccm/members.html", {"members": members})


@require_POST
@member_required(permissions.can_manage_practice)
def membership_toggle(request: HttpRequest, membership: uuid.UUID) -> HttpResponse:
    target = selectors.membership_get(practice=request.practice, public_id=membership)  # type: ignore[attr-defined]
    try:
        services.membership_set_active(
            practice=request.practice,  # type: ignore[attr-defined]
            actor=request.membership,  # type: ignore[attr-defined]
            membership=target,
            is_active=not target.is_active,
        )
    except InvalidState as exc:
        messages.error(request, exc.message)
    else:
        state = "reactivated" if target.is_active else "deactivated"
        messages.success(request, f"{target.display_name} was {state}.")
    return redirect("practice_members")


@require_GET
@member_required(permissions.can_view_audit_log)
def audit_log(request: HttpRequest) -> HttpResponse:
    entries = selectors.audit_log_list(practice=request.practice)  # type: ignore[attr-defined]
    return render(request, "ccm/audit_log.html", {"entries": entries})


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    # No context processors, no database: the transaction may be broken.
    from django.template import loader  # noqa: PLC0415

    return HttpResponse(loader.get_template("500.html").render({}), status=500)
