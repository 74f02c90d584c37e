"""Pages and htmx partials of time tracking: worklist, a patient's month, the timer, settings.

The timer lives on the server. Every page that shows it includes ``_timer.html``, which
polls ``time_timer`` with the id of the timer it shows: the server answers 204 (nothing to
swap) while that is still the member's state, and the new partial once it changed (stopped in
another tab, started elsewhere). The elapsed time is computed from the server's start time,
so a tab that wakes from sleep shows the right time.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careplans import selectors as careplan_selectors
from ccm import permissions
from ccm.audit import AuditEvent, audit_read
from ccm.decorators import member_required, passive
from ccm.errors import InvalidState, NotFound
from ccm.htmx import is_htmx
from patients.models import Patient
from timetracking import selectors
from timetracking.forms import (
    EntryEditForm,
    ManualEntryForm,
    ReasonForm,
    TimerStopForm,
    TimeSettingsForm,
    WorklistFilterForm,
    apply_service_error,
)
from timetracking.models import MIN_TIMER_CONFIRM_AFTER_MINUTES, Timer
from timetracking.months import month_bounds, next_month, parse_month, previous_month
from timetracking.months import service_month_of as month_of
from timetracking.services import entries as entry_services
from timetracking.services import months as month_services
from timetracking.services import settings as settings_services
from timetracking.services import timer as timer_services

TIMER_CHANGED_EVENT = "timer-changed"


def _month_param(request: HttpRequest, default: date) -> date:
    raw = request.GET.get("month", "")
    if not raw:
        return default
    try:
        return parse_month(raw)
    except ValueError as exc:
        raise NotFound from exc


def _current_month(request: HttpRequest) -> date:
    return month_of(timezone.now(), request.practice.tz)  # type: ignore[attr-defined]


# --- Timer -----------------------------------------------------------------------------------


def _timer_context(
    request: HttpRequest, timer: Timer | None, form: TimerStopForm | None = None, **extra: Any
) -> dict[str, Any]:
    practice = request.practice  # type: ignore[attr-defined]
    now = timezone.now()
    elapsed = now - timer.started_at if timer is not None else timedelta()
    limit = None  # only a timer older than the shortest possible limit is measured against it
    if timer is not None and elapsed > timedelta(minutes=MIN_TIMER_CONFIRM_AFTER_MINUTES):
        limit = selectors.time_tracking_settings_get(practice=practice).timer_confirm_after_minutes
    seconds = max(0, int(elapsed.total_seconds()))
    return {
        "timer": timer,
        "now": now,
        "elapsed": f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}",
        "long_running": limit is not None and elapsed > timedelta(minutes=limit),
        "confirm_after_minutes": limit,
        "confirming": False,
        "next_url": request.get_full_path() if request.method == "GET" else _safe_next(request),
        "stop_form": form or TimerStopForm(practice=practice),
        "can_log_time": permissions.can_log_time(request.membership),  # type: ignore[attr-defined]
        **extra,
    }


def _timer_partial(
    request: HttpRequest, timer: Timer | None, oob: str | None = None, **extra: Any
) -> HttpResponse:
    form = extra.pop("form", None)
    context = _timer_context(request, timer, form, **extra)
    response = render(request, "timetracking/_timer.html", context)
    if oob:  # what changed on the page, swapped in place (htmx out-of-band)
        response.content += oob.encode()
    else:
        # Pages refresh what depends on the timer (the worklist's rows, a patient's month).
        response["HX-Trigger"] = TIMER_CHANGED_EVENT
    return response


def _worklist_oob(request: HttpRequest, *, patient: Patient, timer: Timer | None) -> str | None:
    """After the person's own start, stop or discard on the worklist, its changed row to swap
    in place, rather than the whole list reloaded (which would also reorder it under their
    cursor). None when the action came from another page or the patient is not listed."""
    worklist_url = reverse("time_worklist")
    if not is_htmx(request) or not request.POST.get("next", "").startswith(worklist_url):
        return None
    if timer is not None and timer.patient_id == patient.pk:  # just started: only the badge
        context: dict[str, Any] = {"oob_timing": patient.public_id}
        return render_to_string("timetracking/_worklist_oob.html", context, request)
    practice = request.practice  # type: ignore[attr-defined]
    now = timezone.now()
    service_month = month_of(now, practice.tz)
    found = selectors.worklist_row(
        practice=practice,
        patient_id=patient.pk,
        service_month=service_month,
        now=now,
        complex_patient_ids=careplan_selectors.complex_patient_ids(
            practice=practice, service_month=service_month, patient_ids=[patient.pk]
        ),
        running=timer,
    )
    if not found.rows:
        return None
    context = {
        "oob_worklist": found,
        "can_log_time": permissions.can_log_time(request.membership),  # type: ignore[attr-defined]
        "next_url": request.POST["next"],
    }
    return render_to_string("timetracking/_worklist_oob.html", context, request)


@passive  # the page polls it: not the person's activity
@require_GET
@member_required()
def timer_panel(request: HttpRequest) -> HttpResponse:
    """The member's timer partial; 204 while it is what the polling tab already shows."""
    timer = selectors.timer_running(practice=request.practice, member=request.membership)  # type: ignore[attr-defined]
    shown = request.GET.get("shown")
    if shown is not None and shown == (str(timer.public_id) if timer else "none"):
        return HttpResponse(status=204)
    return _timer_partial(request, timer)


@require_POST
@member_required(permissions.can_log_time)
def timer_start(request: HttpRequest, patient: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    target = selectors.time_patient_get(practice=practice, public_id=patient)
    try:
        timer: Timer | None = timer_services.timer_start(
            practice=practice, actor=member, patient=target
        )
    except InvalidState as exc:
        timer = selectors.timer_running(practice=practice, member=member)
        return _respond(request, timer, error=exc.message)
    return _respond(request, timer, oob=_worklist_oob(request, patient=target, timer=timer))


@require_POST
@member_required(permissions.can_log_time)
def timer_stop(request: HttpRequest, timer: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    running = selectors.timer_get(practice=practice, public_id=timer)
    form = TimerStopForm(request.POST, practice=practice)
    if not form.is_valid():
        return _respond(request, running, form=form, confirming=bool(request.POST.get("end_time")))
    try:
        entries = timer_services.timer_stop(
            practice=practice,
            actor=member,
            timer=running,
            activity=form.cleaned_data["activity"],
            note=form.cleaned_data["note"],
            part_of=form.cleaned_data["part_of"],
            end=form.cleaned_data["end"],
            confirmed=form.cleaned_data["confirmed"],
        )
    except timer_services.TimerConfirmationRequired as exc:
        confirm = _confirm_form(request, form, exc)
        return _respond(request, running, form=confirm, confirming=True)
    except InvalidState as exc:
        still_running = selectors.timer_running(practice=practice, member=member)
        if still_running is None or still_running.pk != running.pk:  # stopped in another tab
            return _respond(request, still_running, error=exc.message)
        apply_service_error(form, exc)
        return _respond(request, still_running, form=form)
    logged = _duration_text(sum((entry.duration for entry in entries), timedelta()))
    return _respond(
        request,
        None,
        notice=f"Logged {logged} for {running.patient.full_name}.",
        oob=_worklist_oob(request, patient=running.patient, timer=None),
    )


def _duration_text(duration: timedelta) -> str:
    """``22 min``, or ``40 s`` under a minute (seconds still add up toward the month)."""
    seconds = int(duration.total_seconds())
    return f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"  # noqa: PLR2004


def _confirm_form(
    request: HttpRequest, form: TimerStopForm, exc: timer_services.TimerConfirmationRequired
) -> TimerStopForm:
    """The stop form again, asking to confirm the end (prefilled with now) or correct it."""
    now = timezone.localtime(timezone.now(), form.tz)
    data = request.POST.copy()
    data["confirmed"] = "true"
    data.setdefault("end_date", now.date().isoformat())
    data.setdefault("end_time", f"{now:%H:%M}")
    confirm = TimerStopForm(data, practice=form.practice)
    confirm.confirm_message = exc.message
    return confirm


@require_POST
@member_required(permissions.can_log_time)
def timer_discard(request: HttpRequest, timer: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    running = selectors.timer_get(practice=practice, public_id=timer)
    try:
        timer_services.timer_discard(practice=practice, actor=member, timer=running)
    except InvalidState as exc:
        return _respond(request, None, error=exc.message)
    return _respond(
        request,
        None,
        notice="Timer discarded; nothing was logged.",
        oob=_worklist_oob(request, patient=running.patient, timer=None),
    )


def _respond(
    request: HttpRequest, timer: Timer | None, oob: str | None = None, **extra: Any
) -> HttpResponse:
    """The timer partial for htmx (with ``oob``, what else changed on the page); otherwise a
    message and back to where the form was."""
    if is_htmx(request):
        return _timer_partial(request, timer, oob, **extra)
    if extra.get("error"):
        messages.error(request, extra["error"])
    if extra.get("notice"):
        messages.success(request, extra["notice"])
    form = extra.get("form")
    if form is not None and form.errors:
        for error in form.errors.values():
            messages.error(request, " ".join(error))
    return redirect(_safe_next(request))


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    return target if target.startswith("/time/") else reverse("time_worklist")


# --- Worklist --------------------------------------------------------------------------------


@require_GET
@member_required()
def worklist(request: HttpRequest) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    loggers = selectors.time_logger_list(practice=practice)
    filters = WorklistFilterForm(request.GET, loggers=loggers)
    coordinator, page = filters.filters()
    now = timezone.now()
    service_month = month_of(now, practice.tz)
    data = selectors.worklist(
        practice=practice,
        member=member,
        service_month=service_month,
        now=now,
        coordinator=coordinator,
        complex_patient_ids=careplan_selectors.complex_patient_ids(
            practice=practice, service_month=service_month
        ),
        page=page,
    )
    if data.rows:  # a list that showed no patient read no patient data
        audit_read(
            practice=practice,
            actor=member,
            event=AuditEvent.WORKLIST_VIEWED,
            patient_public_ids=[row.patient.public_id for row in data.rows],
        )
    context = {"worklist": data, "filters": filters, "coordinator": coordinator}
    if is_htmx(request):  # the table alone, reloaded when the timer changed
        context |= {
            "can_log_time": permissions.can_log_time(member),
            "next_url": request.get_full_path(),
        }
        return render(request, "timetracking/_worklist_table.html", context)
    context.update(_timer_context(request, data.running_timer))
    return render(request, "timetracking/worklist.html", context)


# --- A patient's month -----------------------------------------------------------------------


def _patient_month_context(
    request: HttpRequest, patient: Patient, service_month: date, form: ManualEntryForm | None
) -> dict[str, Any]:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    entries = list(
        selectors.time_entry_list(practice=practice, patient=patient, service_month=service_month)
    )
    minutes = selectors.patient_month_minutes(
        practice=practice, service_month=service_month, patient_ids=[patient.pk]
    ).get(patient.pk, 0)
    timer = selectors.timer_running(practice=practice, member=member)
    start, _end = month_bounds(service_month, practice.tz)
    context = {
        "patient": patient,
        "service_month": service_month,
        "month_start": start,
        "previous_month": previous_month(service_month),
        "next_month": next_month(service_month)
        if next_month(service_month) <= _current_month(request)
        else None,
        "entries": entries,
        "logged_minutes": sum(entry.minutes for entry in entries if not entry.is_voided),
        "progress": selectors.month_progress(
            minutes=minutes,
            is_complex=bool(
                careplan_selectors.complex_patient_ids(
                    practice=practice, service_month=service_month, patient_ids=[patient.pk]
                )
            ),
        ),
        "is_locked": selectors.service_month_is_locked(
            practice=practice, service_month=service_month
        ),
        "entry_form": form
        or ManualEntryForm(
            practice=practice, initial={"date": timezone.localdate(timezone=practice.tz)}
        ),
        "void_form": ReasonForm(),
    }
    context.update(_timer_context(request, timer))
    return context


@require_GET
@member_required()
def patient_time(request: HttpRequest, patient: uuid.UUID) -> HttpResponse:
    practice = request.practice  # type: ignore[attr-defined]
    target = selectors.time_patient_get(practice=practice, public_id=patient)
    service_month = _month_param(request, _current_month(request))
    context = _patient_month_context(request, target, service_month, None)
    audit_read(
        practice=practice,
        actor=request.membership,  # type: ignore[attr-defined]
        event=AuditEvent.TIME_ENTRIES_VIEWED,
        patient_public_ids=[target.public_id],
    )
    partial = is_htmx(request) and request.GET.get("part") == "month"
    template = "_patient_month" if partial else "patient_time"
    return render(request, f"timetracking/{template}.html", context)


@require_POST
@member_required(permissions.can_log_time)
def time_entry_create(request: HttpRequest, patient: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    target = selectors.time_patient_get(practice=practice, public_id=patient)
    form = ManualEntryForm(request.POST, practice=practice)
    if form.is_valid():
        try:
            entries = entry_services.time_entry_log(
                practice=practice,
                actor=member,
                patient=target,
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
                activity=form.cleaned_data["activity"],
                note=form.cleaned_data["note"],
                part_of=form.cleaned_data["part_of"],
            )
        except InvalidState as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"Logged {sum(e.minutes for e in entries)} min.")
            month = entries[0].service_month
            return redirect(
                f"{reverse('time_patient', args=[target.public_id])}?month={month:%Y-%m}"
            )
    context = _patient_month_context(request, target, _current_month(request), form)
    return render(request, "timetracking/patient_time.html", context)


@require_http_methods(["GET", "POST"])
@member_required(permissions.can_log_time)
def time_entry_edit(request: HttpRequest, time_entry: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    entry = selectors.time_entry_get(practice=practice, public_id=time_entry)
    initial = EntryEditForm.initial_for(entry, practice.tz)
    form = EntryEditForm(request.POST or None, practice=practice, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            entry_services.time_entry_edit(
                practice=practice,
                actor=member,
                entry=entry,
                reason=form.cleaned_data["reason"],
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
                activity=form.cleaned_data["activity"],
                note=form.cleaned_data["note"],
                part_of=form.cleaned_data["part_of"],
            )
        except InvalidState as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, "The entry was corrected; its history keeps the original.")
            return redirect(_entry_month_url(entry))
    revisions = selectors.time_entry_revision_list(practice=practice, entry=entry)
    audit_read(
        practice=practice,
        actor=member,
        event=AuditEvent.TIME_ENTRIES_VIEWED,
        patient_public_ids=[entry.patient.public_id],
        obj=entry,
    )
    context = {"entry": entry, "form": form, "revisions": revisions}
    return render(request, "timetracking/entry_edit.html", context)


@require_POST
@member_required()
def time_entry_void(request: HttpRequest, time_entry: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    entry = selectors.time_entry_get(practice=practice, public_id=time_entry)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the entry is voided.")
        return redirect(_entry_month_url(entry))
    try:
        entry_services.time_entry_void(
            practice=practice, actor=member, entry=entry, reason=form.cleaned_data["reason"]
        )
    except InvalidState as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The entry of {entry.minutes} min was voided.")
    return redirect(_entry_month_url(entry))


def _entry_month_url(entry: Any) -> str:
    url = reverse("time_patient", args=[entry.patient.public_id])
    return f"{url}?month={entry.service_month:%Y-%m}"


# --- Settings and month locks (managers) -----------------------------------------------------


@require_http_methods(["GET", "POST"])
@member_required(permissions.can_manage_practice)
def time_settings(request: HttpRequest) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    current = selectors.time_tracking_settings_get(practice=practice)
    form = TimeSettingsForm(
        request.POST or None,
        initial={"timer_confirm_after_minutes": current.timer_confirm_after_minutes},
    )
    if request.method == "POST" and form.is_valid():
        settings_services.time_tracking_settings_update(
            practice=practice,
            actor=member,
            timer_confirm_after_minutes=form.cleaned_data["timer_confirm_after_minutes"],
        )
        messages.success(request, "Time-tracking settings saved.")
        return redirect("time_settings")
    locks = selectors.month_lock_list(practice=practice)
    return render(
        request,
        "timetracking/settings.html",
        {"form": form, "locks": locks, "reopen_form": ReasonForm()},
    )


@require_POST
@member_required(permissions.can_close_month)
def month_reopen(request: HttpRequest, month: str) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    try:
        service_month = parse_month(month)
    except ValueError as exc:
        raise NotFound from exc
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the month is reopened.")
        return redirect("time_settings")
    try:
        month_services.month_reopen(
            practice=practice,
            actor=member,
            service_month=service_month,
            reason=form.cleaned_data["reason"],
        )
    except InvalidState as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{service_month:%B %Y} is open for time entries again.")
    return redirect("time_settings")
