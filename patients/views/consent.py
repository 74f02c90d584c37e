"""Consent pages: record a consent (with the R-CONS-3 script) or a refusal, revoke, and the
scanned document, which only members of the practice can download (and which is audited)."""

from __future__ import annotations

import uuid
from pathlib import PurePath
from typing import cast

from django.http import FileResponse, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_http_methods

from ccm import permissions
from ccm.audit import AuditEvent, audit_read
from ccm.decorators import member_required
from ccm.errors import NotFound
from patients.forms import (
    ConsentDeclineForm,
    ConsentForm,
    ConsentRevokeForm,
)
from patients.models import ConsentOutcome, Patient
from patients.selectors.common import practice_today
from patients.selectors.consent import consent_get
from patients.selectors.patient import patient_get
from patients.services import consent as consent_services
from patients.views.common import form_data, form_page, save_and_return


def _initial(request: HttpRequest, patient: Patient) -> dict[str, object]:
    practitioner = patient.billing_practitioner
    return {
        "practitioner": practitioner.public_id if practitioner else None,
        "obtained_on": practice_today(request.practice),  # type: ignore[attr-defined]
        "obtained_by": request.membership.public_id,  # type: ignore[attr-defined]
        "language": patient.preferred_language or "English",
    }


@require_http_methods(["GET", "POST"])
@member_required(permissions.can_record_consent)
def consent_record(request: HttpRequest, patient: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    target = patient_get(practice=practice, public_id=patient)
    data, files = form_data(request)
    form = ConsentForm(data, files, practice=practice, initial=_initial(request, target))
    saved = save_and_return(
        request,
        form,
        lambda _cleaned: consent_services.consent_record(
            practice=practice, actor=member, patient=target, **form.service_arguments()
        ),
        done=f"{target.full_name}'s consent to CCM was recorded.",
        patient=target,
        section="consent",
    )
    return saved or form_page(
        request,
        patient=target,
        form=form,
        title="Record consent to CCM",
        submit="Record consent",
        template="patients/consent_form.html",
    )


@require_http_methods(["GET", "POST"])
@member_required(permissions.can_record_consent)
def consent_decline(request: HttpRequest, patient: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    target = patient_get(practice=practice, public_id=patient)
    data, _ = form_data(request)
    form = ConsentDeclineForm(data, practice=practice, initial=_initial(request, target))
    saved = save_and_return(
        request,
        form,
        lambda cleaned: consent_services.consent_record(
            practice=practice,
            actor=member,
            patient=target,
            outcome=ConsentOutcome.DECLINED,
            **cleaned,
        ),
        done=f"{target.full_name}'s refusal of CCM was recorded.",
        patient=target,
        section="consent",
    )
    return saved or form_page(
        request,
        patient=target,
        form=form,
        title="Record that the patient declined CCM",
        submit="Record refusal",
    )


@require_http_methods(["GET", "POST"])
@member_required(permissions.can_record_consent)
def consent_revoke(request: HttpRequest, consent: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    row = consent_get(practice=practice, public_id=consent)
    data, _ = form_data(request)
    form = ConsentRevokeForm(data, initial={"revoked_on": practice_today(practice)})
    saved = save_and_return(
        request,
        form,
        lambda cleaned: consent_services.consent_revoke(
            practice=practice, actor=member, consent=row, **cleaned
        ),
        done="The revocation was recorded (effective at month's end).",
        patient=row.patient,
        section="consent",
    )
    return saved or form_page(
        request,
        patient=row.patient,
        form=form,
        title=f"Revoke the consent of {row.obtained_on:%b %-d, %Y}",
        submit="Record revocation",
        subject=row,
    )


@require_GET
@member_required()
def consent_document(request: HttpRequest, consent: uuid.UUID) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    row = consent_get(practice=practice, public_id=consent)
    if not row.document:
        raise NotFound
    try:
        handle = row.document.open("rb")
    except FileNotFoundError as exc:
        raise NotFound from exc
    audit_read(
        practice=practice,
        actor=member,
        event=AuditEvent.CONSENT_DOCUMENT_DOWNLOADED,
        patient_public_ids=[row.patient.public_id],
        obj=row,
    )
    suffix = PurePath(row.document.name).suffix
    response = FileResponse(
        handle, as_attachment=True, filename=f"ccm-consent-{row.obtained_on.isoformat()}{suffix}"
    )
    response["Cache-Control"] = "private, no-store"
    # member_required's signature speaks of HttpResponse; a FileResponse streams the file.
    return cast(HttpResponse, response)
