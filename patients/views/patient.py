"""The panel list, the eligibility finder, a patient's page, and adding or editing a patient."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from ccm import permissions
from ccm.audit import AuditEvent, audit_read
from ccm.decorators import member_required
from ccm.errors import InvalidState
from ccm.htmx import is_htmx
from patients.forms import (
    EligibilityFilterForm,
    OutreachForm,
    PatientFilterForm,
    PatientForm,
    apply_service_error,
)
from patients.models import EnrollmentStatus
from patients.selectors.common import practice_today
from patients.selectors.patient import patient_detail as patient_detail_get
from patients.selectors.patient import patient_get, patient_status_counts, patients_eligible_for_ccm
from patients.selectors.patient import patient_list as patient_list_get
from patients.services.patient import patient_create as patient_create_service
from patients.services.patient import patient_update
from patients.views.common import abilities, back_to_patient, form_data, form_page

PAGE_SIZE = 50


@require_GET
@member_required()
def patient_list(request: HttpRequest) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    filters = PatientFilterForm(request.GET, practice=practice)
    patients = patient_list_get(practice=practice, **filters.filters())
    page = Paginator(patients, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_read(
        practice=practice,
        actor=member,
        event=AuditEvent.PATIENT_LIST_VIEWED,
        patient_public_ids=[patient.public_id for patient in page],
    )
    counts = patient_status_counts(practice=practice)
    context = {
        "filters": filters,
        "page": page,
        "today": practice_today(practice),
        "status_counts": [
            (value, label, counts[value]) for value, label in EnrollmentStatus.choices
        ],
        "total": sum(counts.values()),
        **abilities(member),
    }
    template = "_patient_table" if is_htmx(request) else "patient_list"
    return render(request, f"patients/{template}.html", context)


@require_GET
@member_required()
def patient_eligibility(request: HttpRequest) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    filters = EligibilityFilterForm(request.GET, practice=practice)
    candidates = patients_eligible_for_ccm(practice=practice, **filters.filters())
    page = Paginator(candidates, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_read(
        practice=practice,
        actor=member,
        event=AuditEvent.ELIGIBILITY_VIEWED,
        patient_public_ids=[patient.public_id for patient in page],
    )
    today = practice_today(practice)
    context = {
        "filters": filters,
        "page": page,
        "today": today,
        "outreach_form": OutreachForm(initial={"attempted_on": today}),
        **abilities(member),
    }
    template = "_eligibility_table" if is_htmx(request) else "eligibility"
    return render(request, f"patients/{template}.html", context)


@require_GET
@member_required()
def patient_detail(request: HttpRequest, patient: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    detail = patient_detail_get(practice=practice, public_id=patient)
    audit_read(
        practice=practice,
        actor=member,
        event=AuditEvent.PATIENT_VIEWED,
        patient_public_ids=[detail.patient.public_id],
        obj=detail.patient,
    )
    context = {
        "detail": detail,
        "patient": detail.patient,
        "today": practice_today(practice),
        **abilities(member),
    }
    return render(request, "patients/patient_detail.html", context)


@require_http_methods(["GET", "POST"])
@member_required(permissions.can_enroll_patients)
def patient_create(request: HttpRequest) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    data, _ = form_data(request)
    form = PatientForm(data, practice=practice)
    if data is not None and form.is_valid():
        try:
            created = patient_create_service(practice=practice, actor=member, **form.changes())
        except InvalidState as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"{created.full_name} was added to the panel.")
            return redirect("patient_detail", patient=created.public_id)
    return render(request, "patients/patient_form.html", {"form": form, "patient": None})


@require_http_methods(["GET", "POST"])
@member_required(permissions.can_enroll_patients)
def patient_edit(request: HttpRequest, patient: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    target = patient_get(practice=practice, public_id=patient)
    data, _ = form_data(request)
    form = PatientForm(data, practice=practice, patient=target)
    if data is not None and form.is_valid():
        try:
            patient_update(practice=practice, actor=member, patient=target, **form.changes())
        except InvalidState as exc:
            apply_service_error(form, exc)
            target = patient_get(practice=practice, public_id=patient)  # unchanged, as stored
        else:
            messages.success(request, f"{target.full_name}'s details were saved.")
            return back_to_patient(request, target)
    return form_page(
        request,
        patient=target,
        form=form,
        title="Edit patient",
        submit="Save",
        template="patients/patient_form.html",
    )
