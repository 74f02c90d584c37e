"""The demo seed step of care plans."""

from __future__ import annotations

from careplans.demo import seed_care_plans
from careplans.models import (
    CarePlan,
    CarePlanCopy,
    CarePlanVersion,
    ComplexityAttestation,
    VersionStatus,
)
from careplans.selectors import care_plan_version_missing_elements
from ccm.demo_data import seed, seed_members, seed_practices
from ccm.models import Practice
from ccm.tenancy import practice_context
from patients.demo import seed_patients
from patients.models import EnrollmentStatus, Patient

STEPS = [seed_practices, seed_members, seed_patients, seed_care_plans]


def _state(practice):
    with practice_context(practice.pk):
        enrolled = set(
            Patient.objects.for_practice(practice)
            .filter(enrollment_status=EnrollmentStatus.ENROLLED)
            .values_list("pk", flat=True)
        )
        versions = list(CarePlanVersion.objects.for_practice(practice).select_related("care_plan"))
        return {
            "enrolled": enrolled,
            "planned": set(
                CarePlan.objects.for_practice(practice).values_list("patient_id", flat=True)
            ),
            "signed": [v for v in versions if v.status == VersionStatus.SIGNED],
            "waiting": [v for v in versions if v.is_draft and v.submitted_at is not None],
            "copies": CarePlanCopy.objects.for_practice(practice).count(),
            "attestations": ComplexityAttestation.objects.for_practice(practice).count(),
        }


def test_demo_gives_every_enrolled_patient_a_signed_plan_and_copy(db):
    # when
    world = seed(STEPS)
    # then
    for practice in Practice.objects.all():
        state = _state(practice)
        assert state["planned"] == state["enrolled"]
        assert len(state["signed"]) == len(state["enrolled"]) == state["copies"]
        assert [v.number for v in state["waiting"]] == [2]
        assert state["attestations"] == 1
        assert sorted(
            care_plan_version_missing_elements(v) for v in state["signed"] if v.number == 1
        )[-1] == ["caregiver assessment"]
    assert world.created["care plans"] == sum(
        len(_state(practice)["enrolled"]) for practice in Practice.objects.all()
    )


def test_demo_care_plans_twice_change_nothing(db):
    # given
    seed(STEPS)
    before = {practice.slug: _state(practice) for practice in Practice.objects.all()}
    # when
    world = seed(STEPS)
    # then
    assert {practice.slug: _state(practice) for practice in Practice.objects.all()} == before
    assert world.created["care plans"] == 0
