"""Forms for the billed encounters billing reads: visits, other services, facility stays.

None is ever deleted: a wrong row is voided with a reason, and stays on the patient's page.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from ccm import permissions
from ccm.decorators import member_required
from ccm.errors import InvalidState
from patients.forms import (
    FacilityStayForm,
    OtherServiceForm,
    VisitForm,
    VoidForm,
    apply_service_error,
)
from patients.models import FacilityStay, OtherService, Patient, Visit
from patients.selectors.common import practice_today
from patients.selectors.patient import patient_get
from patients.selectors.records import facility_stay_get, other_service_get, visit_get
from patients.services import encounter as encounter_services
from patients.views.common import back_to_patient, form_data, form_page

_clinical = member_required(permissions.can_edit_clinical_record)


@require_http_methods(["GET", "POST"])
@_clinical
def visit_record(request: HttpRequest, patient: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    target = patient_get(practice=practice, public_id=patient)
    data, _ = form_data(request)
    form = VisitForm(data, practice=practice, initial={"date": practice_today(practice)})
    if data is not None and form.is_valid():
        try:
            encounter_services.visit_record(
                practice=practice, actor=member, patient=target, **form.cleaned_data
            )
        except InvalidState as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, "The visit was recorded.")
            return back_to_patient(request, target, "visits")
    return form_page(request, patient=target, form=form, title="Record a visit", submit="Record")


@require_http_methods(["GET", "POST"])
@_clinical
def other_service_record(request: HttpRequest, patient: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    target = patient_get(practice=practice, public_id=patient)
    data, _ = form_data(request)
    form = OtherServiceForm(data, practice=practice, initial={"date": practice_today(practice)})
    if data is not None and form.is_valid():
        try:
            encounter_services.other_service_record(
                practice=practice, actor=member, patient=target, **form.cleaned_data
            )
        except InvalidState as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, "The service was recorded.")
            return back_to_patient(request, target, "other-services")
    return form_page(
        request,
        patient=target,
        form=form,
        title="Record another billed service",
        submit="Record",
        help="Services billed for the patient that CCM may not be billed with in the same "
        "month (PCM, TCM, home health or hospice supervision, ESRD, …).",
    )


@require_http_methods(["GET", "POST"])
@_clinical
def facility_stay_record(request: HttpRequest, patient: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    target = patient_get(practice=practice, public_id=patient)
    data, _ = form_data(request)
    form = FacilityStayForm(data)
    if data is not None and form.is_valid():
        try:
            encounter_services.facility_stay_record(
                practice=practice, actor=member, patient=target, **form.cleaned_data
            )
        except InvalidState as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, "The stay was recorded.")
            return back_to_patient(request, target, "facility-stays")
    return form_page(
        request,
        patient=target,
        form=form,
        title="Record a facility stay",
        submit="Record",
        help="Inpatient or Part A skilled nursing stays: CCM minutes during them do not count.",
    )


def _void_page(
    request: HttpRequest,
    *,
    patient: Patient,
    subject: Visit | OtherService | FacilityStay,
    form: VoidForm,
    what: str,
) -> HttpResponse:
    return form_page(
        request,
        patient=patient,
        form=form,
        title=f"Void {what}",
        submit="Void",
        subject=subject,
        help="Voided records stay on the patient's page with who voided them and why; billing "
        "ignores them.",
    )


@require_http_methods(["GET", "POST"])
@_clinical
def visit_void(request: HttpRequest, visit: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    row = visit_get(practice=practice, public_id=visit)
    data, _ = form_data(request)
    form = VoidForm(data)
    if data is not None and form.is_valid():
        try:
            encounter_services.visit_void(
                practice=practice, actor=member, visit=row, **form.cleaned_data
            )
        except InvalidState as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, "The visit was voided.")
            return back_to_patient(request, row.patient, "visits")
    return _void_page(request, patient=row.patient, subject=row, form=form, what="a visit")


@require_http_methods(["GET", "POST"])
@_clinical
def other_service_void(request: HttpRequest, other_service: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    row = other_service_get(practice=practice, public_id=other_service)
    data, _ = form_data(request)
    form = VoidForm(data)
    if data is not None and form.is_valid():
        try:
            encounter_services.other_service_void(
                practice=practice, actor=member, service=row, **form.cleaned_data
            )
        except InvalidState as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, "The service was voided.")
            return back_to_patient(request, row.patient, "other-services")
    return _void_page(request, patient=row.patient, subject=row, form=form, what="a service")


@require_http_methods(["GET", "POST"])
@_clinical
def facility_stay_void(request: HttpRequest, facility_stay: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    row = facility_stay_get(practice=practice, public_id=facility_stay)
    data, _ = form_data(request)
    form = VoidForm(data)
    if data is not None and form.is_valid():
        try:
            encounter_services.facility_stay_void(
                practice=practice, actor=member, stay=row, **form.cleaned_data
            )
        except InvalidState as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, "The stay was voided.")
            return back_to_patient(request, row.patient, "facility-stays")
    return _void_page(request, patient=row.patient, subject=row, form=form, what="a stay")
