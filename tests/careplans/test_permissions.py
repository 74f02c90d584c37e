"""Who may do what with a care plan, per role (R-WHO-6, R-WHO-7, R-PLAN-4/5).

Each action runs as every role of the practice; the patient's billing practitioner is the
``physician`` member. A refused action raises ``PermissionDenied`` and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from careplans.models import (
    CarePlanDocument,
    CopyMethod,
    DocumentStatus,
    MedicalDecisionMaking,
)
from careplans.services.complexity import complexity_attest
from careplans.services.documents import care_plan_copy_record, care_plan_document_request
from careplans.services.templates import care_plan_template_create
from careplans.services.versions import (
    care_plan_draft_submit,
    care_plan_draft_update,
    care_plan_goal_progress_record,
    care_plan_revision_start,
    care_plan_start,
    care_plan_version_sign,
)
from ccm.errors import PermissionDenied
from ccm.permissions import Role
from tests.careplans.conftest import (
    PASSWORD,
    TODAY,
    complete_content,
    make_patient,
    signed_plan,
    start_complete_plan,
)

C, P, M, A = (
    Role.CARE_COORDINATOR,
    Role.PHYSICIAN,
    Role.PRACTICE_MANAGER,
    Role.PRACTICE_ADMIN,
)


def _start(practice, actor, world):
    return care_plan_start(practice=practice, actor=actor, patient=world["patient"])


def _edit_first_draft(practice, actor, world):
    draft = world["draft"]
    return care_plan_draft_update(
        practice=practice,
        actor=actor,
        version=draft,
        content=complete_content(draft, prognosis="x"),
    )


def _revise(practice, actor, world):
    return care_plan_revision_start(
        practice=practice, actor=actor, care_plan=world["signed"].care_plan
    )


def _submit_first_draft(practice, actor, world):
    return care_plan_draft_submit(practice=practice, actor=actor, version=world["draft"])


def _sign(practice, actor, world):
    return care_plan_version_sign(
        practice=practice,
        actor=actor,
        version=world["draft"],
        substantial_revision=False,
        password=PASSWORD,
    )


def _progress(practice, actor, world):
    signed = world["signed"]
    return care_plan_goal_progress_record(
        practice=practice,
        actor=actor,
        version=signed,
        goal_key=signed.goals[0]["key"],
        status="in_progress",
        recorded_on=TODAY,
    )


def _copy(practice, actor, world):
    return care_plan_copy_record(
        practice=practice,
        actor=actor,
        version=world["signed"],
        given_on=TODAY,
        method=CopyMethod.IN_PERSON,
    )


def _pdf(practice, actor, world):
    return care_plan_document_request(practice=practice, actor=actor, version=world["signed"])


def _attest(practice, actor, world):
    return complexity_attest(
        practice=practice,
        actor=actor,
        patient=world["signed_patient"],
        service_month=dt.date(2025, 3, 1),
        mdm=MedicalDecisionMaking.MODERATE,
        note="Two unstable conditions.",
    )


def _template(practice, actor, world):
    return care_plan_template_create(
        practice=practice,
        actor=actor,
        name="Obesity",
        icd10_prefixes=["E66"],
        symptom_management="",
        goals=[{"goal": "Lose weight", "measure": "Body weight", "target": "5 % lower"}],
        interventions=[],
    )


MATRIX: list[tuple[str, Callable[..., Any], set[Role]]] = [
    ("start the first plan", _start, {P}),
    ("edit the first draft", _edit_first_draft, {P}),
    ("send the first draft", _submit_first_draft, {P}),
    ("sign", _sign, {P}),
    ("start a revision", _revise, {C, P}),
    ("keep goals current", _progress, {C, P}),
    ("record a copy given", _copy, {C, P, M, A}),
    ("prepare the PDF", _pdf, {C, P, M, A}),
    ("attest complexity", _attest, {P}),
    ("add a practice template", _template, {C, P}),
]


@pytest.fixture
def world(practice, physician, in_practice):
    signed_patient = make_patient(practice, physician, mrn="SIGNED")
    signed = signed_plan(practice, physician, signed_patient)
    with in_practice(practice):  # its first PDF failed: preparing it again is a change
        CarePlanDocument.objects.for_practice(practice).update(
            status=DocumentStatus.FAILED, error="RuntimeError: no fonts"
        )
    return {
        "patient": make_patient(practice, physician, mrn="NEW"),
        "draft": start_complete_plan(practice, physician, make_patient(practice, physician)),
        "signed_patient": signed_patient,
        "signed": signed,
    }


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(
    ("action", "allowed"),
    [(run, allowed) for _, run, allowed in MATRIX],
    ids=[name for name, _, _ in MATRIX],
)
def test_role_matrix(*, practice, members, world, in_practice, snapshot, role, action, allowed):
    # given
    before = snapshot(practice)
    # when
    with in_practice(practice):
        if role in allowed:
            result = action(practice, members[role], world)
        else:
            with pytest.raises(PermissionDenied):
                action(practice, members[role], world)
            result = None
    # then
    if role in allowed:
        assert result is not None
        assert snapshot(practice) != before
    else:
        assert snapshot(practice) == before
