"""The panel import: patients and their conditions, created or updated by MRN.

Panel columns (``patients/data/sample_panel.csv`` is an example):

==========================  ========  ===========================================================
column                      required  meaning
==========================  ========  ===========================================================
mrn                         yes       the practice's medical record number: creates or updates
first_name, last_name       yes
date_of_birth               yes
medicare_part_b             yes       Part B fee-for-service beneficiary (R-ELIG-5)
sex                                   female/male/other/unknown (or F/M/O/U); default unknown
phone, preferred_language
address_line1, address_line2, city, state, postal_code
mbi                                   Medicare Beneficiary Identifier (stored encrypted)
date_of_death
billing_practitioner_npi              individual NPI of an active physician of the practice
caregiver_name, caregiver_relationship, caregiver_phone
blocked_by_model                      attributed to a CMS model that excludes CCM; default no
chronic_conditions                    ICD-10-CM codes the clinician attests as chronic
                                      (R-ELIG-1/2), e.g. ``E11.9;I10``
other_conditions                      ICD-10-CM codes recorded without the attestation
==========================  ========  ===========================================================

A row whose MRN exists updates that patient: empty cells leave the stored value unchanged, and
conditions are only added (or attested), never resolved. Chronic codes are attested in the
importing person's name, so only a physician or care coordinator can attest by import; anyone
else's chronic codes are imported unattested, with a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from ccm.audit import AuditEvent, audit_record
from ccm.errors import InvalidState
from ccm.models import Membership, Practice
from ccm.permissions import can_attest_chronic_condition, can_enroll_patients
from patients.chronic import chronic_category_for
from patients.imports.table import (
    FILE,
    CellError,
    ImportPreview,
    ImportResult,
    RowError,
    RowPlan,
    by_row,
    file_name,
    parse_bool,
    parse_codes,
    parse_date,
    parse_sex,
    read_table,
)
from patients.models import Condition, Patient
from patients.selectors.common import practice_today
from patients.selectors.patient import patients_by_mrn
from patients.selectors.records import active_conditions_of, physicians_by_npi
from patients.services.guards import clean_or_raise, require_actor
from patients.services.patient import normalise_patient_fields
from patients.validators import normalise_icd10

PANEL_REQUIRED = ("mrn", "first_name", "last_name", "date_of_birth", "medicare_part_b")
PANEL_OPTIONAL = (
    "sex",
    "phone",
    "preferred_language",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "mbi",
    "date_of_death",
    "billing_practitioner_npi",
    "caregiver_name",
    "caregiver_relationship",
    "caregiver_phone",
    "blocked_by_model",
    "chronic_conditions",
    "other_conditions",
)
_PANEL_TEXT = (
    "phone",
    "preferred_language",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "mbi",
    "caregiver_name",
    "caregiver_relationship",
    "caregiver_phone",
)


@dataclass
class _PanelRow:
    number: int
    mrn: str
    fields: dict[str, Any]
    chronic: list[str]
    other: list[str]
    existing: Patient | None


@dataclass
class _PanelPlan:
    rows: list[_PanelRow] = field(default_factory=list)
    plans: list[RowPlan] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)


def _panel_cells(
    number: int, cells: dict[str, str], physicians: dict[str, list[Membership]]
) -> tuple[dict[str, Any], list[str], list[str], list[RowError]]:
    """The row's non-empty cells as patient fields, plus its condition codes and errors."""
    errors: list[RowError] = []
    fields: dict[str, Any] = {}

    def read(column: str, parse: Callable[[str], Any], target: str | None = None) -> None:
        value = cells.get(column, "")
        if not value:
            if column in PANEL_REQUIRED:
                errors.append(RowError(number, column, "This cell is required."))
            return
        try:
            fields[target or column] = parse(value)
        except CellError as exc:
            errors.append(RowError(number, column, str(exc)))

    for column in ("mrn", "first_name", "last_name", *_PANEL_TEXT):
        read(column, str)
    read("date_of_birth", parse_date)
    read("date_of_death", parse_date)
    read("medicare_part_b", parse_bool)
    read("blocked_by_model", parse_bool)
    read("sex", parse_sex)

    npi = cells.get("billing_practitioner_npi", "")
    if npi:
        matches = physicians.get(npi, [])
        if len(matches) == 1:
            fields["billing_practitioner"] = matches[0]
        else:
            errors.append(
                RowError(
                    number,
                    "billing_practitioner_npi",
                    f"NPI {npi} is not an active physician of this practice."
                    if not matches
                    else f"NPI {npi} belongs to more than one physician of this practice.",
                )
            )
    codes: dict[str, list[str]] = {}
    for column in ("chronic_conditions", "other_conditions"):
        try:
            codes[column] = parse_codes(cells.get(column, ""), normalise_icd10)
        except CellError as exc:
            codes[column] = []
            errors.append(RowError(number, column, str(exc)))
    both = sorted(set(codes["chronic_conditions"]) & set(codes["other_conditions"]))
    if both:
        errors.append(
            RowError(
                number,
                "other_conditions",
                f"{', '.join(both)} also listed as chronic: list each code once.",
            )
        )
    try:
        fields = normalise_patient_fields(fields)
    except InvalidState as exc:
        errors.append(RowError(number, exc.field or "", exc.message))
    return fields, codes["chronic_conditions"], codes["other_conditions"], errors


_FIELD_COLUMN = {"billing_practitioner": "billing_practitioner_npi"}


def _model_errors(number: int, patient: Patient) -> list[RowError]:
    try:
        patient.clean_fields(exclude=["practice", "billing_practitioner"])
    except ValidationError as exc:
        return [
            RowError(number, _FIELD_COLUMN.get(name, name), " ".join(messages))
            for name, messages in exc.message_dict.items()
        ]
    return []


def _date_errors(number: int, patient: Patient, today: date) -> list[RowError]:
    errors: list[RowError] = []
    if patient.date_of_birth and patient.date_of_birth > today:
        errors.append(RowError(number, "date_of_birth", "The birth date is in the future."))
    if patient.date_of_death:
        if patient.date_of_death > today:
            errors.append(RowError(number, "date_of_death", "The date of death is in the future."))
        elif patient.date_of_birth and patient.date_of_death < patient.date_of_birth:
            errors.append(
                RowError(number, "date_of_death", "The date of death is before the birth date.")
            )
    return errors


def _plan_panel(*, practice: Practice, actor: Membership, file: IO[bytes] | IO[str]) -> _PanelPlan:
    plan = _PanelPlan()
    table = read_table(file, required=PANEL_REQUIRED, optional=PANEL_OPTIONAL)
    plan.errors.extend(table.errors)
    if not table.rows:
        return plan
    physicians = physicians_by_npi(practice=practice, active_only=True)
    existing = patients_by_mrn(
        practice=practice, mrns=[cells["mrn"] for _, cells in table.rows if cells.get("mrn")]
    )
    today = practice_today(practice)
    first_row_of: dict[str, int] = {}
    may_attest = can_attest_chronic_condition(actor)
    unattested = 0
    for number, cells in table.rows:
        fields, chronic, other, errors = _panel_cells(number, cells, physicians)
        mrn = fields.get("mrn", "")
        if mrn in first_row_of:
            errors.append(RowError(number, "mrn", f"MRN {mrn} is also on row {first_row_of[mrn]}."))
        elif mrn:
            first_row_of[mrn] = number
        current = existing.get(mrn)
        if current is None:
            candidate = Patient(practice=practice, **fields)
        else:
            candidate = Patient(
                **{f.attname: getattr(current, f.attname) for f in Patient._meta.concrete_fields}
            )
            for name, value in fields.items():
                setattr(candidate, name, value)
        failed = {error.column for error in errors}
        errors.extend(
            error for error in _model_errors(number, candidate) if error.column not in failed
        )
        errors.extend(
            error for error in _date_errors(number, candidate, today) if error.column not in failed
        )
        plan.errors.extend(errors)
        if not may_attest:
            unattested += len(chronic)
            other = [*other, *chronic]
            chronic = []
        action = "create" if current is None else "update"
        plan.rows.append(_PanelRow(number, mrn, fields, chronic, other, current))
        plan.plans.append(
            RowPlan(
                number,
                mrn,
                action,
                f"{fields.get('last_name', candidate.last_name)}, "
                f"{fields.get('first_name', candidate.first_name)}: "
                f"{len(chronic)} chronic, {len(other)} other condition(s)",
            )
        )
    if unattested:
        plan.warnings.append(
            RowError(
                FILE,
                "chronic_conditions",
                f"{unattested} chronic condition(s) will be imported without the chronic "
                "attestation: only a physician or care coordinator attests. They can attest "
                "them on each patient's page.",
            )
        )
    return plan


def _require_panel_actor(*, practice: Practice, actor: Membership) -> None:
    require_actor(
        practice=practice,
        actor=actor,
        allowed=can_enroll_patients,
        message="Only care coordinators and managers import patients.",
    )


def panel_import_preview(
    *, practice: Practice, actor: Membership, file: IO[bytes] | IO[str]
) -> ImportPreview:
    """Parse a panel CSV and report what a commit would do and every error; writes nothing."""
    _require_panel_actor(practice=practice, actor=actor)
    plan = _plan_panel(practice=practice, actor=actor, file=file)
    return ImportPreview(rows=plan.plans, errors=by_row(plan.errors), warnings=plan.warnings)


@transaction.atomic
def panel_import_commit(
    *, practice: Practice, actor: Membership, file: IO[bytes] | IO[str]
) -> ImportResult:
    """Create or update (by MRN) every patient of the file and add its conditions, all in one
    transaction, with one audit row. ``InvalidState`` on ``file`` if any row has an error:
    then nothing is written."""
    _require_panel_actor(practice=practice, actor=actor)
    plan = _plan_panel(practice=practice, actor=actor, file=file)
    if plan.errors:
        raise InvalidState(
            f"The file has {len(plan.errors)} error(s); nothing was imported.", field="file"
        )
    today = practice_today(practice)
    patient_ids = [row.existing.pk for row in plan.rows if row.existing is not None]
    active: dict[tuple[int, str], Condition] = {
        (condition.patient_id, condition.code): condition
        for condition in active_conditions_of(practice=practice, patient_ids=patient_ids)
    }
    created = updated = conditions_added = conditions_attested = 0
    public_ids: list[str] = []
    for row in plan.rows:
        patient = row.existing or Patient(practice=practice)
        for name, value in row.fields.items():
            setattr(patient, name, value)
        clean_or_raise(patient)
        patient.save()
        if row.existing is None:
            created += 1
        else:
            updated += 1
        public_ids.append(str(patient.public_id))
        for code, chronic in [(c, True) for c in row.chronic] + [(c, False) for c in row.other]:
            condition = active.get((patient.pk, code))
            if condition is None:
                condition = Condition(
                    practice=practice,
                    patient=patient,
                    code=code,
                    chronic_category=chronic_category_for(code) or "",
                    chronic_attested=chronic,
                    attested_by=actor if chronic else None,
                    attested_on=today if chronic else None,
                )
                clean_or_raise(condition)
                condition.save()
                conditions_added += 1
            elif chronic and not condition.chronic_attested:
                condition.chronic_attested = True
                condition.attested_by = actor
                condition.attested_on = today
                condition.save(update_fields=["chronic_attested", "attested_by", "attested_on"])
                conditions_attested += 1
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.PATIENTS_IMPORTED,
        changes={
            "file": file_name(file),
            "created": created,
            "updated": updated,
            "conditions_added": conditions_added,
            "conditions_attested": conditions_attested,
            "patient_ids": public_ids,
        },
    )
    return ImportResult(created=created, updated=updated)
