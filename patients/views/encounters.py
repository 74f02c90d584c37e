"""Forms for the billed encounters billing reads: visits, other services, facility stays.

None is ever deleted: a wrong row is voided with a reason, and stays on the patient's page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from ccm import permissions
from ccm.decorators import member_required
from patients.forms import (
    FacilityStayForm,
    OtherServiceForm,
    VisitForm,
    VoidForm,
)
from patients.models import FacilityStay, OtherService, Visit
from patients.selectors.common import practice_today
from patients.selectors.patient import patient_get
from patients.selectors.records import facility_stay_get, other_service_get, visit_get
from patients.services import encounter as encounter_services
from patients.views.common import form_data, form_page, save_and_return

_clinical = member_required(permissions.can_edit_clinical_record)
VOID_HELP = (
    "Voided records stay on the patient's page with who voided them and why; billing ignores them."
)


@require_http_methods(["GET", "POST"])
@_clinical
def visit_record(request: HttpRequest, patient: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    target = patient_get(practice=practice, public_id=patient)
    data, _ = form_data(request)
    form = VisitForm(data, practice=practice, initial={"date": practice_today(practice)})
    saved = save_and_return(
        request,
        form,
        lambda cleaned: encounter_services.visit_record(
            practice=practice, actor=member, patient=target, **cleaned
        ),
        done="The visit was recorded.",
        patient=target,
        section="visits",
    )
    return saved or form_page(
        request, patient=target, form=form, title="Record a visit", submit="Record"
    )


@require_http_methods(["GET", "POST"])
@_clinical
def other_service_record(request: HttpRequest, patient: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    target = patient_get(practice=practice, public_id=patient)
    data, _ = form_data(request)
    form = OtherServiceForm(data, practice=practice, initial={"date": practice_today(practice)})
    saved = save_and_return(
        request,
        form,
        lambda cleaned: encounter_services.other_service_record(
            practice=practice, actor=member, patient=target, **cleaned
        ),
        done="The service was recorded.",
        patient=target,
        section="other-services",
    )
    return saved or form_page(
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
    saved = save_and_return(
        request,
        form,
        lambda cleaned: encounter_services.facility_stay_record(
            practice=practice, actor=member, patient=target, **cleaned
        ),
        done="The stay was recorded.",
        patient=target,
        section="facility-stays",
    )
    return saved or form_page(
        request,
        patient=target,
        form=form,
        title="Record a facility stay",
        submit="Record",
        help="Inpatient or Part A skilled nursing stays: CCM minutes during them do not count.",
    )


def _void(
    request: HttpRequest,
    row: Visit | OtherService | FacilityStay,
    void: Callable[[dict[str, Any]], object],
    *,
    what: str,
    section: str,
) -> HttpResponse:
    """The void form of ``row`` (``what``: "visit", ...); voided with ``void(cleaned_data)``."""
    data, _ = form_data(request)
    form = VoidForm(data)
    saved = save_and_return(
        request, form, void, done=f"The {what} was voided.", patient=row.patient, section=section
    )
    return saved or form_page(
        request,
        patient=row.patient,
        form=form,
        title=f"Void a {what}",
        submit="Void",
        subject=row,
        help=VOID_HELP,
    )


@require_http_methods(["GET", "POST"])
@_clinical
def visit_void(request: HttpRequest, visit: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    row = visit_get(practice=practice, public_id=visit)
    return _void(
        request,
        row,
        lambda cleaned: encounter_services.visit_void(
            practice=practice, actor=member, visit=row, **cleaned
        ),
        what="visit",
        section="visits",
    )


@require_http_methods(["GET", "POST"])
@_clinical
def other_service_void(request: HttpRequest, other_service: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    row = other_service_get(practice=practice, public_id=other_service)
    return _void(
        request,
        row,
        lambda cleaned: encounter_services.other_service_void(
            practice=practice, actor=member, service=row, **cleaned
        ),
        what="service",
        section="other-services",
    )


@require_http_methods(["GET", "POST"])
@_clinical
def facility_stay_void(request: HttpRequest, facility_stay: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    row = facility_stay_get(practice=practice, public_id=facility_stay)
    return _void(
        request,
        row,
        lambda cleaned: encounter_services.facility_stay_void(
            practice=practice, actor=member, stay=row, **cleaned
        ),
        what="stay",
        section="facility-stays",
    )
