"""Forms about a patient's way into CCM: the problem list, outreach and enrollment."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods, require_POST

from ccm import permissions
from ccm.decorators import member_required
from ccm.errors import InvalidState
from patients.forms import (
    AttestForm,
    ConditionAddForm,
    ConditionEditForm,
    ConditionResolveForm,
    EnrollForm,
    EnrollmentStatusForm,
    OutreachForm,
    apply_service_error,
)
from patients.models import EnrollmentStatus
from patients.selectors.common import practice_today
from patients.selectors.patient import patient_get
from patients.selectors.records import condition_get
from patients.services import condition as condition_services
from patients.services import enrollment as enrollment_services
from patients.views.common import back_to_patient, form_data, form_page

# --- Conditions -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@member_required(permissions.can_edit_clinical_record)
def condition_add(request: HttpRequest, patient: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    target = patient_get(practice=practice, public_id=patient)
    data, _ = form_data(request)
    may_attest = permissions.can_attest_chronic_condition(member)
    form = ConditionAddForm(data, may_attest=may_attest)
    if data is not None and form.is_valid():
        try:
            added = condition_services.condition_add(
                practice=practice, actor=member, patient=target, **form.cleaned_data
            )
        except InvalidState as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"{added.code} was added to the problem list.")
            return back_to_patient(request, target, "conditions")
    return form_page(
        request, patient=target, form=form, title="Add a condition", submit="Add condition"
    )


@require_http_methods(["GET", "POST"])
@member_required(permissions.can_edit_clinical_record)
def condition_edit(request: HttpRequest, condition: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    row = condition_get(practice=practice, public_id=condition)
    data, _ = form_data(request)
    initial = {"description": row.description, "onset_date": row.onset_date}
    form = ConditionEditForm(data, initial=initial)
    if data is not None and form.is_valid():
        try:
            condition_services.condition_update(
                practice=practice, actor=member, condition=row, **form.cleaned_data
            )
        except InvalidState as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"{row.code} was updated.")
            return back_to_patient(request, row.patient, "conditions")
    return form_page(
        request,
        patient=row.patient,
        form=form,
        title=f"Edit {row.code}",
        submit="Save",
        subject=row,
    )


@require_POST
@member_required(permissions.can_attest_chronic_condition)
def condition_attest(request: HttpRequest, condition: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    row = condition_get(practice=practice, public_id=condition)
    form = AttestForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose to attest or to withdraw the attestation.")
        return back_to_patient(request, row.patient, "conditions")
    chronic = form.cleaned_data["chronic"]
    try:
        condition_services.condition_set_chronic(
            practice=practice, actor=member, condition=row, chronic=chronic
        )
    except InvalidState as exc:
        messages.error(request, exc.message)
    else:
        done = "attested as chronic" if chronic else "no longer attested as chronic"
        messages.success(request, f"{row.code} is {done}.")
    return back_to_patient(request, row.patient, "conditions")


@require_http_methods(["GET", "POST"])
@member_required(permissions.can_edit_clinical_record)
def condition_resolve(request: HttpRequest, condition: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    row = condition_get(practice=practice, public_id=condition)
    data, _ = form_data(request)
    form = ConditionResolveForm(data, initial={"resolved_on": practice_today(practice)})
    if data is not None and form.is_valid():
        try:
            condition_services.condition_resolve(
                practice=practice, actor=member, condition=row, **form.cleaned_data
            )
        except InvalidState as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"{row.code} was marked resolved.")
            return back_to_patient(request, row.patient, "conditions")
    return form_page(
        request,
        patient=row.patient,
        form=form,
        title=f"Resolve {row.code}",
        submit="Mark resolved",
        subject=row,
    )


# --- Outreach and enrollment ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@member_required(permissions.can_enroll_patients)
def outreach_record(request: HttpRequest, patient: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    target = patient_get(practice=practice, public_id=patient)
    data, _ = form_data(request)
    form = OutreachForm(data, initial={"attempted_on": practice_today(practice)})
    if data is not None and form.is_valid():
        try:
            enrollment_services.outreach_record(
                practice=practice, actor=member, patient=target, **form.cleaned_data
            )
        except InvalidState as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"Outreach to {target.full_name} was recorded.")
            return back_to_patient(request, target, "outreach")
    return form_page(
        request, patient=target, form=form, title="Record outreach", submit="Record attempt"
    )


@require_http_methods(["GET", "POST"])
@member_required(permissions.can_enroll_patients)
def enrollment_change(request: HttpRequest, patient: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    target = patient_get(practice=practice, public_id=patient)
    data, _ = form_data(request)
    form = EnrollmentStatusForm(data, patient=target)
    if data is not None and form.is_valid():
        try:
            enrollment_services.enrollment_status_change(
                practice=practice,
                actor=member,
                patient=target,
                to_status=EnrollmentStatus(form.cleaned_data["status"]),
                reason=form.cleaned_data["reason"],
            )
        except InvalidState as exc:
            apply_service_error(form, exc)
        else:
            messages.success(
                request, f"{target.full_name} is now “{target.get_enrollment_status_display()}”."
            )
            return back_to_patient(request, target, "enrollment")
    return form_page(
        request,
        patient=target,
        form=form,
        title="Change enrollment status",
        submit="Change status",
    )


@require_http_methods(["GET", "POST"])
@member_required(permissions.can_enroll_patients)
def patient_enroll(request: HttpRequest, patient: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    target = patient_get(practice=practice, public_id=patient)
    data, _ = form_data(request)
    form = EnrollForm(data)
    if data is not None and form.is_valid():
        try:
            enrollment_services.patient_enroll(
                practice=practice, actor=member, patient=target, **form.cleaned_data
            )
        except InvalidState as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"{target.full_name} is enrolled in CCM.")
            return back_to_patient(request, target, "enrollment")
    return form_page(request, patient=target, form=form, title="Enroll in CCM", submit="Enroll")
