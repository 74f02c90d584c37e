"""Imports of visits, other billed services and facility stays.

Encounter files (``encounter_import_*`` with ``kind``):

- ``visits``: mrn, date, code (CPT/HCPCS), practitioner_npi, practitioner_name, ccm_discussed
- ``other_services``: mrn, date, code, practitioner_npi, practitioner_name
- ``facility_stays``: mrn, kind (``inpatient`` or ``snf_part_a``), from_date, to_date,
  facility_name

A ``practitioner_npi`` that belongs to a physician of the practice names them; otherwise the
practitioner is an outside one and ``practitioner_name`` is required. A row identical to a
record already on file (same patient, date, code and practitioner; or same stay) is skipped,
so loading the same file twice adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from ccm.audit import AuditEvent, audit_record
from ccm.errors import InvalidState
from ccm.models import Membership, Practice
from ccm.permissions import can_edit_clinical_record
from ccm.validators import npi_is_valid
from patients.imports.table import (
    CellError,
    ImportPreview,
    ImportResult,
    RowError,
    RowPlan,
    by_row,
    file_name,
    parse_bool,
    parse_date,
    read_table,
)
from patients.models import FacilityStay, FacilityStayKind, OtherService, Patient, Visit
from patients.selectors.common import practice_today
from patients.selectors.patient import patients_by_mrn
from patients.selectors.records import (
    physicians_by_npi,
    unvoided_facility_stays_of,
    unvoided_other_services_of,
    unvoided_visits_of,
)
from patients.services.guards import clean_or_raise, require_actor
from patients.validators import normalise_procedure_code


class EncounterKind(models.TextChoices):
    VISITS = "visits", "Visits"
    OTHER_SERVICES = "other_services", "Other billed services"
    FACILITY_STAYS = "facility_stays", "Facility stays"


ENCOUNTER_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    EncounterKind.VISITS: (
        ("mrn", "date", "code"),
        ("practitioner_npi", "practitioner_name", "ccm_discussed"),
    ),
    EncounterKind.OTHER_SERVICES: (
        ("mrn", "date", "code"),
        ("practitioner_npi", "practitioner_name"),
    ),
    EncounterKind.FACILITY_STAYS: (("mrn", "kind", "from_date", "to_date"), ("facility_name",)),
}


@dataclass
class _EncounterRow:
    number: int
    patient: Patient
    values: dict[str, Any]
    key: tuple[Any, ...]


@dataclass
class _EncounterPlan:
    rows: list[_EncounterRow] = field(default_factory=list)
    plans: list[RowPlan] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


_ENCOUNTER_MODELS: dict[str, type[Visit] | type[OtherService] | type[FacilityStay]] = {
    EncounterKind.VISITS: Visit,
    EncounterKind.OTHER_SERVICES: OtherService,
    EncounterKind.FACILITY_STAYS: FacilityStay,
}


def _encounter_key(kind: str, patient_id: int, values: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two rows the same record (a repeat is skipped, not added twice)."""
    if kind == EncounterKind.FACILITY_STAYS:
        return (patient_id, values["kind"], values["from_date"], values["to_date"])
    practitioner = values["practitioner"]
    return (
        patient_id,
        values["date"],
        values["code"],
        practitioner.pk if practitioner else None,
        values["outside_practitioner_name"].lower(),
    )


def _existing_keys(
    *, practice: Practice, kind: str, patient_ids: set[int]
) -> tuple[set[tuple[Any, ...]], list[tuple[int, date, date]]]:
    """Keys of the unvoided records already on file, and (for stays) their spans."""
    if kind == EncounterKind.FACILITY_STAYS:
        stays = list(unvoided_facility_stays_of(practice=practice, patient_ids=patient_ids))
        stay_keys: set[tuple[Any, ...]] = {
            (s.patient_id, s.kind, s.from_date, s.to_date) for s in stays
        }
        return stay_keys, [(s.patient_id, s.from_date, s.to_date) for s in stays]
    rows: Iterable[Visit | OtherService] = (
        unvoided_visits_of(practice=practice, patient_ids=patient_ids)
        if kind == EncounterKind.VISITS
        else unvoided_other_services_of(practice=practice, patient_ids=patient_ids)
    )
    keys = {
        (r.patient_id, r.date, r.code, r.practitioner_id, r.outside_practitioner_name.lower())
        for r in rows
    }
    return keys, []


def _encounter_cells(
    kind: str,
    number: int,
    cells: dict[str, str],
    physicians: dict[str, list[Membership]],
    today: date,
) -> tuple[dict[str, Any], list[RowError]]:
    errors: list[RowError] = []
    values: dict[str, Any] = {}

    def read(column: str, parse: Callable[[str], Any], *, required: bool) -> Any:
        value = cells.get(column, "")
        if not value:
            if required:
                errors.append(RowError(number, column, "This cell is required."))
            return None
        try:
            return parse(value)
        except CellError as exc:
            errors.append(RowError(number, column, str(exc)))
            return None

    def code(value: str) -> str:
        try:
            return normalise_procedure_code(value)
        except ValidationError as exc:
            raise CellError(exc.messages[0]) from exc

    def future(column: str, value: date | None) -> None:
        if value is not None and value > today:
            errors.append(RowError(number, column, "The date is in the future."))

    if kind == EncounterKind.FACILITY_STAYS:
        values["kind"] = read("kind", _stay_kind, required=True)
        values["from_date"] = read("from_date", parse_date, required=True)
        values["to_date"] = read("to_date", parse_date, required=True)
        values["facility_name"] = cells.get("facility_name", "")
        future("from_date", values["from_date"])
        future("to_date", values["to_date"])
        if values["from_date"] and values["to_date"] and values["to_date"] < values["from_date"]:
            errors.append(RowError(number, "to_date", "The stay cannot end before it starts."))
        return values, errors

    values["date"] = read("date", parse_date, required=True)
    future("date", values["date"])
    values["code"] = read("code", code, required=True)
    if kind == EncounterKind.VISITS:
        values["ccm_discussed"] = bool(read("ccm_discussed", parse_bool, required=False))
    npi = cells.get("practitioner_npi", "")
    name = cells.get("practitioner_name", "")
    matches = physicians.get(npi, []) if npi else []
    values.update(practitioner=None, outside_practitioner_name="", outside_practitioner_npi="")
    if len(matches) == 1:
        values["practitioner"] = matches[0]
    elif len(matches) > 1:
        errors.append(
            RowError(
                number,
                "practitioner_npi",
                f"NPI {npi} belongs to more than one physician of this practice.",
            )
        )
    elif not name:
        errors.append(
            RowError(
                number,
                "practitioner_name",
                "Name the outside practitioner (or give the NPI of a physician of the practice).",
            )
        )
    elif npi and not npi_is_valid(npi):
        errors.append(RowError(number, "practitioner_npi", f"“{npi}” is not a valid 10-digit NPI."))
    else:
        values.update(outside_practitioner_name=name, outside_practitioner_npi=npi)
    return values, errors


def _stay_kind(value: str) -> str:
    lowered = value.lower()
    if lowered not in FacilityStayKind.values:
        raise CellError(f"“{value}” is not one of {', '.join(FacilityStayKind.values)}.")
    return lowered


def _overlapping_stay(
    values: dict[str, Any], patient_id: int, stays: list[tuple[int, date, date]]
) -> tuple[date, date] | None:
    for other_patient, start, end in stays:
        if (
            other_patient == patient_id
            and start <= values["to_date"]
            and end >= values["from_date"]
        ):
            return start, end
    return None


def _plan_encounters(*, practice: Practice, kind: str, file: IO[bytes] | IO[str]) -> _EncounterPlan:
    plan = _EncounterPlan()
    required, optional = ENCOUNTER_COLUMNS[kind]
    table = read_table(file, required=required, optional=optional)
    plan.errors.extend(table.errors)
    if not table.rows:
        return plan
    patients = patients_by_mrn(
        practice=practice, mrns={cells["mrn"] for _, cells in table.rows if cells.get("mrn")}
    )
    seen, stay_spans = _existing_keys(
        practice=practice, kind=kind, patient_ids={p.pk for p in patients.values()}
    )
    physicians = physicians_by_npi(practice=practice, active_only=False)
    today = practice_today(practice)
    first_row_of: dict[tuple[Any, ...], int] = {}
    for number, cells in table.rows:
        values, errors = _encounter_cells(kind, number, cells, physicians, today)
        mrn = cells.get("mrn", "")
        patient = patients.get(mrn)
        if not mrn:
            errors.append(RowError(number, "mrn", "This cell is required."))
        elif patient is None:
            errors.append(RowError(number, "mrn", f"No patient of this practice has MRN {mrn}."))
        if errors or patient is None:
            plan.errors.extend(errors)
            continue
        key = _encounter_key(kind, patient.pk, values)
        if key in seen:
            earlier = first_row_of.get(key)
            plan.plans.append(
                RowPlan(
                    number,
                    mrn,
                    "skip",
                    f"Same as row {earlier}." if earlier else "Already on file.",
                )
            )
            continue
        if kind == EncounterKind.FACILITY_STAYS:
            clash = _overlapping_stay(values, patient.pk, stay_spans)
            if clash is not None:
                plan.errors.append(
                    RowError(
                        number,
                        "from_date",
                        f"The stay overlaps another one ({clash[0].isoformat()} to "
                        f"{clash[1].isoformat()}).",
                    )
                )
                continue
            stay_spans.append((patient.pk, values["from_date"], values["to_date"]))
        seen.add(key)
        first_row_of[key] = number
        plan.rows.append(_EncounterRow(number, patient, values, key))
        plan.plans.append(RowPlan(number, mrn, "create", _encounter_summary(kind, values)))
    return plan


def _encounter_summary(kind: str, values: dict[str, Any]) -> str:
    if kind == EncounterKind.FACILITY_STAYS:
        return (
            f"{values['kind']} {values['from_date'].isoformat()} to {values['to_date'].isoformat()}"
        )
    practitioner = values["practitioner"]
    by = practitioner.display_name if practitioner else values["outside_practitioner_name"]
    return f"{values['code']} on {values['date'].isoformat()} by {by}"


def _require_encounter_actor(*, practice: Practice, actor: Membership) -> None:
    require_actor(
        practice=practice,
        actor=actor,
        allowed=can_edit_clinical_record,
        message="You may not import visits, services or stays.",
    )


def _kind(kind: EncounterKind | str) -> str:
    if kind not in ENCOUNTER_COLUMNS:
        raise InvalidState(f"Choose one of: {', '.join(ENCOUNTER_COLUMNS)}.", field="kind")
    return str(kind)


def encounter_import_preview(
    *,
    practice: Practice,
    actor: Membership,
    file: IO[bytes] | IO[str],
    kind: EncounterKind | str,
) -> ImportPreview:
    """Parse a visits / other services / facility stays CSV; report every error; write nothing."""
    _require_encounter_actor(practice=practice, actor=actor)
    plan = _plan_encounters(practice=practice, kind=_kind(kind), file=file)
    return ImportPreview(rows=plan.plans, errors=by_row(plan.errors), warnings=[])


@transaction.atomic
def encounter_import_commit(
    *,
    practice: Practice,
    actor: Membership,
    file: IO[bytes] | IO[str],
    kind: EncounterKind | str,
) -> ImportResult:
    """Add every new record of the file in one transaction with one audit row; rows already on
    file are skipped. ``InvalidState`` on ``file`` if any row has an error (nothing written)."""
    _require_encounter_actor(practice=practice, actor=actor)
    kind = _kind(kind)
    plan = _plan_encounters(practice=practice, kind=kind, file=file)
    if plan.errors:
        raise InvalidState(
            f"The file has {len(plan.errors)} error(s); nothing was imported.", field="file"
        )
    model = _ENCOUNTER_MODELS[kind]
    for row in plan.rows:
        record = model(practice=practice, patient=row.patient, **row.values)
        clean_or_raise(record)
        record.save()
    skipped = sum(1 for row_plan in plan.plans if row_plan.action == "skip")
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.ENCOUNTERS_IMPORTED,
        changes={
            "file": file_name(file),
            "kind": kind,
            "created": len(plan.rows),
            "skipped": skipped,
            "patient_ids": sorted({str(row.patient.public_id) for row in plan.rows}),
        },
    )
    return ImportResult(created=len(plan.rows), updated=0, skipped=skipped)
