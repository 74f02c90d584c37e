"""CSV imports in two steps: upload → dry-run preview (every error, or what would change) →
confirm → result.

The confirm step re-validates the *same* file. Between the two steps the upload is kept in
private storage under ``imports/<practice>/<member>/<random token>.csv`` and the page carries
a signed ticket (token, kind, original name), valid for an hour. The path is rebuilt from the
signed-in member, so a ticket is useless to anyone else, and the file is deleted once imported.
No session state is involved, and nothing larger than a ticket travels back and forth.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from django.contrib import messages
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from ccm import permissions
from ccm.audit import AuditEvent, audit_read
from ccm.decorators import member_required
from ccm.errors import InvalidState, NotFound
from ccm.models import Membership, Practice
from patients.forms import EncounterImportForm, ImportConfirmForm, PanelImportForm
from patients.imports.encounters import (
    ENCOUNTER_COLUMNS,
    EncounterKind,
    encounter_import_commit,
    encounter_import_preview,
)
from patients.imports.panel import (
    PANEL_OPTIONAL,
    PANEL_REQUIRED,
    panel_import_commit,
    panel_import_preview,
)
from patients.imports.table import ImportPreview, ImportResult
from patients.selectors.patient import patients_by_mrn

PANEL = "panel"
TICKET_SALT = "patients.import.ticket"
TICKET_MAX_AGE = timedelta(hours=1)
DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLES = {
    PANEL: DATA / "sample_panel.csv",
    EncounterKind.VISITS: DATA / "sample_visits.csv",
    EncounterKind.OTHER_SERVICES: DATA / "sample_other_services.csv",
    EncounterKind.FACILITY_STAYS: DATA / "sample_facility_stays.csv",
}
KIND_LABELS = {PANEL: "Patient panel", **dict(EncounterKind.choices)}

# What each column means, for the documentation on the import page.
COLUMN_HELP: dict[str, str] = {
    "mrn": "The practice's medical record number. On the panel, an MRN already on file "
    "updates that patient; in the other files it names the patient.",
    "first_name": "Given name.",
    "last_name": "Family name.",
    "date_of_birth": "YYYY-MM-DD or MM/DD/YYYY.",
    "medicare_part_b": "Part B fee-for-service beneficiary (R-ELIG-5): yes or no.",
    "sex": "female, male, other or unknown (or F/M/O/U). Default unknown.",
    "phone": "The patient's phone number.",
    "preferred_language": "For outreach and consent, e.g. Spanish. Default English.",
    "address_line1": "Street address.",
    "address_line2": "Apartment, suite, …",
    "city": "City.",
    "state": "Two letters.",
    "postal_code": "ZIP code.",
    "mbi": "Medicare Beneficiary Identifier, 11 characters. Stored encrypted.",
    "date_of_death": "Makes the patient ineligible (R-ELIG-5).",
    "billing_practitioner_npi": "Individual NPI of an active physician of the practice.",
    "caregiver_name": "Who helps the patient, if anyone.",
    "caregiver_relationship": "e.g. spouse, daughter.",
    "caregiver_phone": "The caregiver's phone number.",
    "blocked_by_model": "Attributed to a CMS model that excludes CCM: yes or no. Default no.",
    "chronic_conditions": "ICD-10-CM codes attested as chronic (R-ELIG-1/2), separated by ; "
    "(e.g. E11.9;I10). Only a physician or care coordinator attests by import; anyone else's "
    "codes are imported unattested.",
    "other_conditions": "ICD-10-CM codes recorded without the chronic attestation.",
    "date": "Date of service.",
    "code": "CPT or HCPCS code (e.g. 99214, G0438).",
    "practitioner_npi": "NPI of a physician of the practice; otherwise the practitioner is "
    "an outside one.",
    "practitioner_name": "Required for an outside practitioner.",
    "ccm_discussed": "CCM was discussed and documented at the visit (R-INIT-3): yes or no.",
    "kind": "inpatient or snf_part_a.",
    "from_date": "Admission date (inclusive).",
    "to_date": "Discharge date (inclusive).",
    "facility_name": "Hospital or nursing facility (optional).",
}


def _columns(required: tuple[str, ...], optional: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {"name": name, "required": name in required, "help": COLUMN_HELP[name]}
        for name in (*required, *optional)
    ]


def import_documentation() -> list[dict[str, Any]]:
    """Each import's columns, for the page (and its test that none lacks a description)."""
    columns = {PANEL: (PANEL_REQUIRED, PANEL_OPTIONAL), **ENCOUNTER_COLUMNS}
    return [
        {"kind": kind, "label": KIND_LABELS[kind], "columns": _columns(required, optional)}
        for kind, (required, optional) in columns.items()
    ]


# --- Keeping the upload between preview and commit ---------------------------------------------


def _folder(practice: Practice, member: Membership) -> str:
    return f"imports/{practice.public_id}/{member.public_id}"


def _forget_stale(folder: str) -> None:
    """Delete this member's uploads older than the ticket (previewed, never confirmed)."""
    try:
        _, names = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    oldest = timezone.now() - TICKET_MAX_AGE
    for name in names:
        path = f"{folder}/{name}"
        if default_storage.get_modified_time(path) < oldest:
            default_storage.delete(path)


def _keep(request: HttpRequest, upload: UploadedFile, kind: str) -> str:
    """Store the upload privately for this member; the signed ticket that finds it again."""
    folder = _folder(request.practice, request.membership)  # type: ignore[attr-defined]
    _forget_stale(folder)
    token = secrets.token_hex(16)
    upload.seek(0)
    default_storage.save(f"{folder}/{token}.csv", upload)
    return signing.dumps({"token": token, "kind": kind, "name": upload.name}, salt=TICKET_SALT)


def _claim(request: HttpRequest, ticket: str) -> tuple[File[bytes], str, str]:
    """Take this member's kept upload for one commit: its file, stored path and kind.

    The file is first renamed (atomic on one file system), so a double-clicked confirm finds
    it gone and cannot import twice. ``InvalidState`` when it is gone, expired or foreign.
    """
    expired = InvalidState("This upload has expired or was already imported: upload it again.")
    try:
        data = signing.loads(ticket, salt=TICKET_SALT, max_age=TICKET_MAX_AGE)
    except signing.BadSignature as exc:
        raise expired from exc
    if data.get("kind") not in KIND_LABELS:
        raise expired
    folder = _folder(request.practice, request.membership)  # type: ignore[attr-defined]
    kept = f"{folder}/{data['token']}.csv"
    claimed = f"{kept}.claimed"
    try:
        os.replace(default_storage.path(kept), default_storage.path(claimed))
    except FileNotFoundError as exc:
        raise expired from exc
    return File(default_storage.open(claimed, "rb"), name=data["name"]), claimed, data["kind"]


# --- Pages -----------------------------------------------------------------------------------


def _import_page(request: HttpRequest, **forms: Any) -> HttpResponse:
    member = request.membership  # type: ignore[attr-defined]
    context = {
        "panel_form": forms.get("panel_form") or PanelImportForm(),
        "encounter_form": forms.get("encounter_form") or EncounterImportForm(),
        "can_import_panel": permissions.can_enroll_patients(member),
        "docs": import_documentation(),
    }
    return render(request, "patients/import.html", context)


def _preview_page(
    request: HttpRequest, *, preview: ImportPreview, kind: str, name: str, ticket: str
) -> HttpResponse:
    """The dry run's result; audited with the patients already on file that the file names."""
    practice = request.practice  # type: ignore[attr-defined]
    on_file = patients_by_mrn(practice=practice, mrns={row.mrn for row in preview.rows if row.mrn})
    audit_read(
        practice=practice,
        actor=request.membership,  # type: ignore[attr-defined]
        event=AuditEvent.IMPORT_PREVIEWED,
        patient_public_ids=sorted((p.public_id for p in on_file.values()), key=str),
    )
    context = {
        "preview": preview,
        "kind": kind,
        "kind_label": KIND_LABELS[kind],
        "file_name": name,
        "confirm_form": ImportConfirmForm(initial={"ticket": ticket}) if ticket else None,
        "counts": {action: preview.count(action) for action in ("create", "update", "skip")},
    }
    return render(request, "patients/import_preview.html", context)


@require_GET
@member_required(permissions.can_edit_clinical_record)
def import_start(request: HttpRequest) -> HttpResponse:
    return _import_page(request)


@require_GET
@member_required()
def import_sample(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in SAMPLES:
        raise NotFound
    sample = SAMPLES[kind]
    response = FileResponse(sample.open("rb"), as_attachment=True, filename=sample.name)
    return cast(HttpResponse, response)


@require_POST
@member_required(permissions.can_enroll_patients)
def panel_import_upload(request: HttpRequest) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    form = PanelImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, panel_form=form)
    upload = form.cleaned_data["file"]
    preview = panel_import_preview(practice=practice, actor=member, file=upload)
    ticket = _keep(request, upload, PANEL) if preview.is_valid else ""
    return _preview_page(request, preview=preview, kind=PANEL, name=upload.name, ticket=ticket)


@require_POST
@member_required(permissions.can_edit_clinical_record)
def encounter_import_upload(request: HttpRequest) -> HttpResponse:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    form = EncounterImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, encounter_form=form)
    upload, kind = form.cleaned_data["file"], form.cleaned_data["kind"]
    preview = encounter_import_preview(practice=practice, actor=member, file=upload, kind=kind)
    ticket = _keep(request, upload, kind) if preview.is_valid else ""
    return _preview_page(request, preview=preview, kind=kind, name=upload.name, ticket=ticket)


@require_POST
@member_required(permissions.can_edit_clinical_record)
def import_commit(request: HttpRequest) -> HttpResponse:
    form = ImportConfirmForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidState("Upload the file again.")
        file, path, kind = _claim(request, form.cleaned_data["ticket"])
    except InvalidState as exc:
        messages.error(request, exc.message)
        return redirect("patient_import")
    with file:
        try:
            result = _commit(request, file=file, kind=kind)
        except InvalidState:
            # The file no longer passes (the panel changed since the preview): show why.
            preview = _preview(request, file=file, kind=kind)
            result = None
    default_storage.delete(path)
    if result is None:
        return _preview_page(request, preview=preview, kind=kind, name=file.name or "", ticket="")
    context = {
        "result": result,
        "kind": kind,
        "kind_label": KIND_LABELS[kind],
        "file_name": file.name,
    }
    return render(request, "patients/import_result.html", context)


def _preview(request: HttpRequest, *, file: File[bytes], kind: str) -> ImportPreview:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    if kind == PANEL:
        return panel_import_preview(practice=practice, actor=member, file=file)
    return encounter_import_preview(practice=practice, actor=member, file=file, kind=kind)


def _commit(request: HttpRequest, *, file: File[bytes], kind: str) -> ImportResult:
    practice, member = request.practice, request.membership  # type: ignore[attr-defined]
    if kind == PANEL:
        return panel_import_commit(practice=practice, actor=member, file=file)
    return encounter_import_commit(practice=practice, actor=member, file=file, kind=kind)
