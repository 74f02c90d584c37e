"""Writes of the billed encounters billing reads: visits, other services, facility stays.

Visits feed the initiating-visit rules (§5), other services the same-month conflicts (§8),
stays the excluded days (AMB-14). None is ever deleted: a wrong row is voided with a reason.
"""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ccm.audit import AuditEvent, audit_record
from ccm.errors import InvalidState
from ccm.models import Membership, Practice
from ccm.permissions import can_edit_clinical_record
from ccm.validators import npi_is_valid
from patients.models import FacilityStay, FacilityStayKind, OtherService, Patient, Visit
from patients.services.guards import (
    clean_or_raise,
    reason_required,
    refuse_future,
    require_actor,
    require_physician,
    require_same_practice,
)
from patients.validators import normalise_procedure_code

_EDIT_MESSAGE = "You may not record visits, services or stays."
_Voidable = TypeVar("_Voidable", Visit, OtherService, FacilityStay)


def _require_editor(*, practice: Practice, actor: Membership) -> None:
    require_actor(
        practice=practice, actor=actor, allowed=can_edit_clinical_record, message=_EDIT_MESSAGE
    )


def resolve_practitioner(
    *,
    practice: Practice,
    practitioner: Membership | None,
    outside_practitioner_name: str,
    outside_practitioner_npi: str,
) -> tuple[Membership | None, str, str]:
    """Exactly one of: a physician of the practice (active or not: history), or an outside
    practitioner's name (NPI optional, check digit verified). ``InvalidState`` naming the field."""
    name = outside_practitioner_name.strip()
    npi = outside_practitioner_npi.strip()
    if practitioner is not None:
        if name or npi:
            raise InvalidState(
                "Choose a practitioner of the practice or name an outside one, not both.",
                field="practitioner",
            )
        require_physician(
            practice=practice, membership=practitioner, field="practitioner", require_active=False
        )
        return practitioner, "", ""
    if not name:
        raise InvalidState(
            "Choose the practitioner, or name the outside practitioner.", field="practitioner"
        )
    if npi and not npi_is_valid(npi):
        raise InvalidState(
            "Enter a valid 10-digit NPI (its last digit is a check digit).",
            field="outside_practitioner_npi",
        )
    return None, name, npi


def normalise_code(code: str) -> str:
    try:
        return normalise_procedure_code(code)
    except ValidationError as exc:
        raise InvalidState(exc.messages[0], field="code") from exc


def _practitioner_audit(row: Visit | OtherService) -> dict[str, str | None]:
    return {
        "practitioner": str(row.practitioner.public_id) if row.practitioner else None,
        "outside_practitioner_name": row.outside_practitioner_name,
        "outside_practitioner_npi": row.outside_practitioner_npi,
    }


@transaction.atomic
def visit_record(
    *,
    practice: Practice,
    actor: Membership,
    patient: Patient,
    date: date,
    code: str,
    ccm_discussed: bool = False,
    practitioner: Membership | None = None,
    outside_practitioner_name: str = "",
    outside_practitioner_npi: str = "",
) -> Visit:
    """Record a face-to-face visit (CPT/HCPCS ``code``) on ``date``.

    ``ccm_discussed``: CCM was discussed and documented at the visit (R-INIT-3). The
    practitioner is a physician of the practice or an outside practitioner (by name).
    """
    require_same_practice(practice=practice, obj=patient)
    _require_editor(practice=practice, actor=actor)
    member, name, npi = resolve_practitioner(
        practice=practice,
        practitioner=practitioner,
        outside_practitioner_name=outside_practitioner_name,
        outside_practitioner_npi=outside_practitioner_npi,
    )
    canonical = normalise_code(code)
    refuse_future(practice=practice, value=date, field="date", label="visit date")
    visit = Visit(
        practice=practice,
        patient=patient,
        date=date,
        code=canonical,
        ccm_discussed=ccm_discussed,
        practitioner=member,
        outside_practitioner_name=name,
        outside_practitioner_npi=npi,
    )
    clean_or_raise(visit)
    visit.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.VISIT_RECORDED,
        patient_public_id=patient.public_id,
        obj=visit,
        changes={
            "date": date.isoformat(),
            "code": canonical,
            "ccm_discussed": ccm_discussed,
            **_practitioner_audit(visit),
        },
    )
    return visit


@transaction.atomic
def other_service_record(
    *,
    practice: Practice,
    actor: Membership,
    patient: Patient,
    date: date,
    code: str,
    practitioner: Membership | None = None,
    outside_practitioner_name: str = "",
    outside_practitioner_npi: str = "",
) -> OtherService:
    """Record another service billed for the patient (PCM, TCM, G0181, ...; RULES.md §8)."""
    require_same_practice(practice=practice, obj=patient)
    _require_editor(practice=practice, actor=actor)
    member, name, npi = resolve_practitioner(
        practice=practice,
        practitioner=practitioner,
        outside_practitioner_name=outside_practitioner_name,
        outside_practitioner_npi=outside_practitioner_npi,
    )
    canonical = normalise_code(code)
    refuse_future(practice=practice, value=date, field="date", label="service date")
    service = OtherService(
        practice=practice,
        patient=patient,
        date=date,
        code=canonical,
        practitioner=member,
        outside_practitioner_name=name,
        outside_practitioner_npi=npi,
    )
    clean_or_raise(service)
    service.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.OTHER_SERVICE_RECORDED,
        patient_public_id=patient.public_id,
        obj=service,
        changes={"date": date.isoformat(), "code": canonical, **_practitioner_audit(service)},
    )
    return service


def check_stay_dates(
    *,
    practice: Practice,
    patient: Patient,
    from_date: date,
    to_date: date,
    exclude_pk: int | None = None,
) -> None:
    """Both dates in the past or today, ``to_date`` on or after ``from_date``, and no overlap
    with another unvoided stay of the patient."""
    refuse_future(practice=practice, value=from_date, field="from_date", label="admission date")
    refuse_future(practice=practice, value=to_date, field="to_date", label="discharge date")
    if to_date < from_date:
        raise InvalidState("The stay cannot end before it starts.", field="to_date")
    overlapping = FacilityStay.objects.for_practice(practice).filter(
        patient=patient, voided_at__isnull=True, from_date__lte=to_date, to_date__gte=from_date
    )
    if exclude_pk is not None:
        overlapping = overlapping.exclude(pk=exclude_pk)
    clash = overlapping.order_by("from_date").first()
    if clash is not None:
        raise InvalidState(
            f"The stay overlaps another one ({clash.from_date.isoformat()} to "
            f"{clash.to_date.isoformat()}).",
            field="from_date",
        )


@transaction.atomic
def facility_stay_record(
    *,
    practice: Practice,
    actor: Membership,
    patient: Patient,
    kind: FacilityStayKind,
    from_date: date,
    to_date: date,
    facility_name: str = "",
) -> FacilityStay:
    """Record an inpatient or Part A SNF stay, both dates inclusive (AMB-14).

    Refuses ``to_date`` before ``from_date`` (``InvalidState`` on ``to_date``), dates in the
    future, and a stay overlapping another unvoided one.
    """
    require_same_practice(practice=practice, obj=patient)
    _require_editor(practice=practice, actor=actor)
    check_stay_dates(practice=practice, patient=patient, from_date=from_date, to_date=to_date)
    stay = FacilityStay(
        practice=practice,
        patient=patient,
        kind=kind,
        from_date=from_date,
        to_date=to_date,
        facility_name=facility_name.strip(),
    )
    clean_or_raise(stay)
    stay.save()
    audit_record(
        practice=practice,
        actor=actor,
        event=AuditEvent.FACILITY_STAY_RECORDED,
        patient_public_id=patient.public_id,
        obj=stay,
        changes={
            "kind": str(kind),
            "from_date": from_date.isoformat(),
            "to_date": to_date.isoformat(),
        },
    )
    return stay


def _void(
    *,
    practice: Practice,
    actor: Membership,
    row: _Voidable,
    reason: str,
    event: AuditEvent,
) -> _Voidable:
    require_same_practice(practice=practice, obj=row)
    _require_editor(practice=practice, actor=actor)
    if row.voided_at is not None:
        raise InvalidState("This record is already voided.", field="reason")
    cleaned = reason_required(reason)
    row.voided_at = timezone.now()
    row.voided_by = actor
    row.void_reason = cleaned
    clean_or_raise(row)
    row.save(update_fields=["voided_at", "voided_by", "void_reason"])
    audit_record(
        practice=practice,
        actor=actor,
        event=event,
        patient_public_id=row.patient.public_id,
        obj=row,
        changes={"reason": cleaned},
    )
    return row


@transaction.atomic
def visit_void(*, practice: Practice, actor: Membership, visit: Visit, reason: str) -> Visit:
    """Void a visit recorded in error (kept, with who and why; billing ignores it)."""
    return _void(
        practice=practice, actor=actor, row=visit, reason=reason, event=AuditEvent.VISIT_VOIDED
    )


@transaction.atomic
def other_service_void(
    *, practice: Practice, actor: Membership, service: OtherService, reason: str
) -> OtherService:
    """Void another billed service recorded in error."""
    return _void(
        practice=practice,
        actor=actor,
        row=service,
        reason=reason,
        event=AuditEvent.OTHER_SERVICE_VOIDED,
    )


@transaction.atomic
def facility_stay_void(
    *, practice: Practice, actor: Membership, stay: FacilityStay, reason: str
) -> FacilityStay:
    """Void a facility stay recorded in error."""
    return _void(
        practice=practice,
        actor=actor,
        row=stay,
        reason=reason,
        event=AuditEvent.FACILITY_STAY_VOIDED,
    )
