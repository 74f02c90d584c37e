from __future__ import annotations

from django.db.models import Count

from ccm.demo_data import DemoWorld, seed_members, seed_practices
from ccm.models import AuditLog
from ccm.tenancy import practice_context
from patients.demo import PATIENTS_PER_PRACTICE, seed_patients
from patients.models import Consent, EnrollmentStatus, Patient
from patients.selectors.patient import patients_eligible_for_ccm


def _state(world):
    counts = {}
    for slug, practice in world.practices.items():
        with practice_context(practice.pk):
            patients = Patient.objects.for_practice(practice)
            counts[slug] = {
                "patients": patients.count(),
                "statuses": dict(
                    patients.order_by().values_list("enrollment_status").annotate(n=Count("id"))
                ),
                "consents": Consent.objects.for_practice(practice).count(),
                "eligible": patients_eligible_for_ccm(practice=practice).count(),
                "audit": AuditLog.objects.for_practice(practice).count(),
            }
    return counts


def test_seed_patients_fills_every_stage_and_a_second_run_adds_nothing(db):
    # given
    world = DemoWorld()
    seed_practices(world)
    seed_members(world)
    # when
    seed_patients(world)
    first = _state(world)
    again = DemoWorld()
    seed_practices(again)
    seed_members(again)
    seed_patients(again)
    second = _state(again)
    # then
    assert world.created["patients"] == 2 * PATIENTS_PER_PRACTICE
    assert again.created["patients"] == 0
    assert second == first
    assert first["maple"]["patients"] == PATIENTS_PER_PRACTICE
    assert first["maple"]["statuses"] == {
        EnrollmentStatus.UNREVIEWED: 14,
        EnrollmentStatus.IDENTIFIED: 4,
        EnrollmentStatus.OUTREACH: 5,
        EnrollmentStatus.CONSENTED: 4,
        EnrollmentStatus.ENROLLED: 10,
        EnrollmentStatus.DECLINED: 2,
        EnrollmentStatus.ENROLLED_ELSEWHERE: 1,
    }
    assert first["maple"]["consents"] == 14
    assert first["maple"]["eligible"] == 22
