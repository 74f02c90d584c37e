"""What the patients pages share: the form-page shape, the audited patient read, redirects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from ccm import permissions
from ccm.audit import AuditEvent, audit_read
from ccm.errors import InvalidState
from ccm.models import Membership
from patients.forms import apply_service_error
from patients.models import Patient

FORM_TEMPLATE = "patients/record_form.html"
# Where a form may send the member back to instead of the patient's page.
RETURN_TO = {"eligibility": "patient_eligibility", "patients": "patient_list"}


def form_data(request: HttpRequest) -> tuple[Any, Any]:
    """``(data, files)`` for a bound form on POST, ``(None, None)`` on GET."""
    if request.method == "POST":
        return request.POST, request.FILES
    return None, None


def abilities(member: Membership) -> dict[str, bool]:
    """What the member may do on the patients pages (buttons are shown only when allowed)."""
    return {
        "can_enroll": permissions.can_enroll_patients(member),
        "can_attest": permissions.can_attest_chronic_condition(member),
        "can_record_consent": permissions.can_record_consent(member),
        "can_edit_clinical": permissions.can_edit_clinical_record(member),
    }


def audit_patient_shown(request: HttpRequest, patient: Patient) -> None:
    audit_read(
        practice=request.practice,  # type: ignore[attr-defined]
        actor=request.membership,  # type: ignore[attr-defined]
        event=AuditEvent.PATIENT_VIEWED,
        patient_public_ids=[patient.public_id],
        obj=patient,
    )


def form_page(
    request: HttpRequest,
    *,
    patient: Patient,
    form: forms.Form,
    title: str,
    submit: str,
    template: str = FORM_TEMPLATE,
    **extra: Any,
) -> HttpResponse:
    """A form about one patient. Showing it (GET) is a read of the patient, and audited; a
    form shown again with its errors is not (nothing new was shown, and nothing is saved)."""
    if request.method == "GET":
        audit_patient_shown(request, patient)
    context = {
        "patient": patient,
        "form": form,
        "title": title,
        "submit": submit,
        "return_to": return_to(request),
        **extra,
    }
    return render(request, template, context)


def return_to(request: HttpRequest) -> str:
    value = request.POST.get("return_to") or request.GET.get("return_to") or ""
    return value if value in RETURN_TO else ""


def save_and_return(
    request: HttpRequest,
    form: forms.Form,
    save: Callable[[dict[str, Any]], Any],
    *,
    done: str | Callable[[Any], str],
    patient: Patient,
    section: str,
) -> HttpResponse | None:
    """Save a submitted, valid ``form`` with ``save(cleaned_data)``, say ``done`` (or
    ``done(what save returned)``) and go back (``back_to_patient``); None to show the form
    again, with the service's refusal on it."""
    if not form.is_bound or not form.is_valid():
        return None
    try:
        result = save(form.cleaned_data)
    except InvalidState as exc:
        apply_service_error(form, exc)
        return None
    messages.success(request, done if isinstance(done, str) else done(result))
    return back_to_patient(request, patient, section)


def back_to_patient(request: HttpRequest, patient: Patient, section: str = "") -> HttpResponse:
    """After a change: the list the member came from, else the patient's page (at ``section``)."""
    target = return_to(request)
    if target:
        return redirect(RETURN_TO[target])
    url = reverse("patient_detail", args=[patient.public_id])
    return redirect(f"{url}#{section}" if section else url)
