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
)
from patients.models import EnrollmentStatus
from patients.selectors.common import practice_today
from patients.selectors.patient import patient_get
from patients.selectors.records import condition_get
from patients.services import condition as condition_services
from patients.services import enrollment as enrollment_services
from patients.views.common import back_to_patient, form_data, form_page, save_and_return

# --- Conditions -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@member_required(permissions.can_edit_clinical_record)
def condition_add(request: HttpRequest, patient: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    target = patient_get(practice=practice, public_id=patient)
    data, _ = form_data(request)
    may_attest = permissions.can_attest_chronic_condition(member)
    form = ConditionAddForm(data, may_attest=may_attest)
    saved = save_and_return(
        request,
        form,
        lambda cleaned: condition_services.condition_add(
            practice=practice, actor=member, patient=target, **cleaned
        ),
        done=lambda added: f"{added.code} was added to the problem list.",
        patient=target,
        section="conditions",
    )
    return saved or form_page(
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
    saved = save_and_return(
        request,
        form,
        lambda cleaned: condition_services.condition_update(
            practice=practice, actor=member, condition=row, **cleaned
        ),
        done=f"{row.code} was updated.",
        patient=row.patient,
        section="conditions",
    )
    return saved or form_page(
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
    saved = save_and_return(
        request,
        form,
        lambda cleaned: condition_services.condition_resolve(
            practice=practice, actor=member, condition=row, **cleaned
        ),
        done=f"{row.code} was marked resolved.",
        patient=row.patient,
        section="conditions",
    )
    return saved or form_page(
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
    saved = save_and_return(
        request,
        form,
        lambda cleaned: enrollment_services.outreach_record(
            practice=practice, actor=member, patient=target, **cleaned
        ),
        done=f"Outreach to {target.full_name} was recorded.",
        patient=target,
        section="outreach",
    )
    return saved or form_page(
        request, patient=target, form=form, title="Record outreach", submit="Record attempt"
    )


@require_http_methods(["GET", "POST"])
@member_required(permissions.can_enroll_patients)
def enrollment_change(request: HttpRequest, patient: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    target = patient_get(practice=practice, public_id=patient)
    data, _ = form_data(request)
    form = EnrollmentStatusForm(data, patient=target)
    saved = save_and_return(
        request,
        form,
        lambda cleaned: enrollment_services.enrollment_status_change(
            practice=practice,
            actor=member,
            patient=target,
            to_status=EnrollmentStatus(cleaned["status"]),
            reason=cleaned["reason"],
        ),
        done=lambda _changed: (
            f"{target.full_name} is now “{target.get_enrollment_status_display()}”."
        ),
        patient=target,
        section="enrollment",
    )
    return saved or form_page(
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
    saved = save_and_return(
        request,
        form,
        lambda cleaned: enrollment_services.patient_enroll(
            practice=practice, actor=member, patient=target, **cleaned
        ),
        done=f"{target.full_name} is enrolled in CCM.",
        patient=target,
        section="enrollment",
    )
    return saved or form_page(
        request, patient=target, form=form, title="Enroll in CCM", submit="Enroll"
    )
