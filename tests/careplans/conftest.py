"""Care-plan fixtures: a frozen clock, a patient with conditions, and "nothing changed" checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
import time_machine

from careplans.content import TEXT_FIELDS, PlanContent
from careplans.models import (
    CarePlan,
    CarePlanCopy,
    CarePlanDocument,
    CarePlanGoalProgress,
    CarePlanTemplate,
    CarePlanVersion,
    ComplexityAttestation,
)
from careplans.services.versions import (
    care_plan_draft_update,
    care_plan_start,
    care_plan_version_sign,
)
from ccm.models import AuditLog, Membership, Practice
from ccm.tenancy import practice_context
from patients.models import Patient
from patients.services.condition import condition_add
from tests.factories import PatientFactory

# 10:00 in New York (the ``practice`` fixture's zone) on Monday 10 March 2025.
NOW = dt.datetime(2025, 3, 10, 14, 0, tzinfo=dt.UTC)
TODAY = dt.date(2025, 3, 10)
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's password

CAREPLAN_MODELS = (
    CarePlan,
    CarePlanVersion,
    CarePlanGoalProgress,
    CarePlanCopy,
    CarePlanDocument,
    ComplexityAttestation,
    CarePlanTemplate,
)


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def make_patient(practice: Practice, physician: Membership, **fields: object) -> Patient:
    """A patient of ``physician`` with diabetes, hypertension and CKD (attested chronic)."""
    with practice_context(practice.pk):
        patient = PatientFactory.create(practice=practice, billing_practitioner=physician, **fields)
        for code, description in (
            ("E11.9", "Type 2 diabetes mellitus without complications"),
            ("I10", "Essential (primary) hypertension"),
            ("N18.31", "Chronic kidney disease, stage 3a"),
        ):
            condition_add(
                practice=practice,
                actor=physician,
                patient=patient,
                code=code,
                description=description,
                chronic_attested=True,
            )
    return patient


@pytest.fixture
def patient(practice: Practice, physician: Membership) -> Patient:
    return make_patient(practice, physician)


@pytest.fixture
def snapshot() -> Callable[[Practice], dict[str, list[tuple[object, ...]]]]:
    """Every row of every careplans table and of the audit log, for "nothing changed" checks."""

    def take(practice: Practice) -> dict[str, list[tuple[object, ...]]]:
        with practice_context(practice.pk):
            state = {
                model.__name__: list(
                    model.objects.for_practice(practice).order_by("pk").values_list()
                )
                for model in CAREPLAN_MODELS
            }
            state["AuditLog"] = list(
                AuditLog.objects.for_practice(practice).order_by("pk").values_list("pk")
            )
        return state

    return take


def complete_content(version: CarePlanVersion, **texts: str) -> PlanContent:
    """The version's content with every narrative element filled in (a complete plan)."""
    current = version.content
    filled = {
        name: f"{label} documented." for name, label in TEXT_FIELDS if name != "revision_note"
    }
    return PlanContent.parse(
        texts={**filled, "revision_note": "", **texts},
        next_review_on=dt.date(2025, 6, 10),
        problems=[problem.to_json() for problem in current.problems],
        goals=[goal.to_json() for goal in current.goals],
        interventions=[item.to_json() for item in current.interventions],
    )


def start_complete_plan(
    practice: Practice, physician: Membership, patient: Patient
) -> CarePlanVersion:
    """Version 1 started from templates and completed, as a draft."""
    with practice_context(practice.pk):
        version = care_plan_start(practice=practice, actor=physician, patient=patient)
        return care_plan_draft_update(
            practice=practice,
            actor=physician,
            version=version,
            content=complete_content(version),
        )


def sign(
    practice: Practice,
    physician: Membership,
    version: CarePlanVersion,
    *,
    substantial_revision: bool = False,
) -> CarePlanVersion:
    with practice_context(practice.pk):
        return care_plan_version_sign(
            practice=practice,
            actor=physician,
            version=version,
            substantial_revision=substantial_revision,
            password=PASSWORD,
        )


def signed_plan(practice: Practice, physician: Membership, patient: Patient) -> CarePlanVersion:
    """A complete version 1, signed by the billing practitioner today."""
    return sign(practice, physician, start_complete_plan(practice, physician, patient))


@pytest.fixture
def draft(practice: Practice, physician: Membership, patient: Patient) -> CarePlanVersion:
    return start_complete_plan(practice, physician, patient)


@pytest.fixture
def signed(practice: Practice, physician: Membership, patient: Patient) -> CarePlanVersion:
    return signed_plan(practice, physician, patient)
