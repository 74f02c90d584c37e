"""What the patients API modules share: member lookups, read audits, output shapes."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from ccm import selectors as ccm_selectors
from ccm.api import PracticeApiView
from ccm.audit import AuditEvent, audit_read
from ccm.errors import NotFound
from ccm.models import Membership
from patients.models import Patient
from patients.selectors.patient import patient_get


def member_or_400(
    api: PracticeApiView, public_id: uuid.UUID | None, field: str
) -> Membership | None:
    """The practice's member with ``public_id`` (None for None); a 400 on ``field`` otherwise."""
    if public_id is None:
        return None
    try:
        return ccm_selectors.membership_get(practice=api.practice, public_id=public_id)
    except NotFound as exc:
        raise ValidationError({field: ["Choose a member of this practice."]}) from exc


def resolve_members(api: PracticeApiView, data: dict[str, Any], *fields: str) -> dict[str, Any]:
    """``data`` with each member id in ``fields`` (when present) replaced by the member."""
    resolved = dict(data)
    for field in fields:
        if field in resolved:
            resolved[field] = member_or_400(api, resolved[field], field)
    return resolved


def audit_patients_shown(
    api: PracticeApiView,
    patients: Iterable[Patient],
    *,
    event: AuditEvent = AuditEvent.PATIENT_VIEWED,
) -> None:
    """One read-audit row with the (distinct) patients a response showed."""
    ids = sorted({patient.public_id for patient in patients}, key=str)
    audit_read(practice=api.practice, actor=api.membership, event=event, patient_public_ids=ids)


class PatientRecordsApi(PracticeApiView):
    """A list of one patient's rows: the patient comes from the URL, and the read is audited."""

    def patient(self) -> Patient:
        if not hasattr(self, "_patient"):
            self._patient = patient_get(practice=self.practice, public_id=self.kwargs["patient"])
        return self._patient

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)  # type: ignore[misc]
        audit_patients_shown(self, [self.patient()])
        return response
