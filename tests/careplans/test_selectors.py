"""Reads billing builds its care-plan and complexity facts from."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from careplans.content import TEXT_FIELD_NAMES
from careplans.models import CopyMethod, MedicalDecisionMaking, VersionStatus
from careplans.selectors import (
    CarePlanVersionFacts,
    care_plan_review_queue,
    care_plan_version_facts,
    care_plan_version_missing_elements,
    complexity_attestations_for_month,
)
from careplans.services.complexity import complexity_attest, complexity_attestation_void
from careplans.services.documents import care_plan_copy_record
from careplans.services.versions import (
    care_plan_draft_submit,
    care_plan_draft_update,
    care_plan_revision_start,
    care_plan_start,
)
from ccm.permissions import Role
from tests.careplans.conftest import (
    NOW,
    TODAY,
    complete_content,
    make_patient,
    sign,
    signed_plan,
)
from tests.factories import (
    CarePlanCopyFactory,
    MembershipFactory,
    PatientFactory,
    SignedCarePlanVersionFactory,
)


def test_missing_elements_use_the_rule_names(practice, physician, patient, in_practice):
    # given
    with in_practice(practice):
        version = care_plan_start(practice=practice, actor=physician, patient=patient)
    # when
    missing = care_plan_version_missing_elements(version)
    # then
    assert missing == [
        "expected outcome and prognosis",
        "cognitive and functional assessment",
        "medication management",
        "environmental evaluation",
        "caregiver assessment",
        "community/social services ordered",
        "interaction and coordination with outside resources, practitioners and providers",
        "requirements for periodic review",
    ]


def test_version_facts_give_billing_each_signed_version_with_its_copy_date(
    practice, physician, coordinator, patient, in_practice
):
    # given a complete v1 with a copy, then a substantial v2 without caregiver assessment
    first = signed_plan(practice, physician, patient)
    with in_practice(practice):
        care_plan_copy_record(
            practice=practice,
            actor=coordinator,
            version=first,
            given_on=TODAY,
            method=CopyMethod.MAIL,
        )
        revision = care_plan_revision_start(
            practice=practice, actor=coordinator, care_plan=first.care_plan
        )
        care_plan_draft_update(
            practice=practice,
            actor=coordinator,
            version=revision,
            content=complete_content(revision, caregiver_assessment=""),
        )
        care_plan_draft_submit(practice=practice, actor=coordinator, version=revision)
    second = sign(practice, physician, revision, substantial_revision=True)
    untouched = make_patient(practice, physician, mrn="NO-PLAN")
    # when
    with in_practice(practice):
        facts = care_plan_version_facts(practice=practice, patient_ids=[patient.pk, untouched.pk])
    # then
    assert facts == {
        patient.pk: [
            CarePlanVersionFacts(
                patient_id=patient.pk,
                version=1,
                signed_by_id=physician.pk,
                signed_on=TODAY,
                patient_copy_on=TODAY,
                substantial_revision=True,
                missing_elements=(),
            ),
            CarePlanVersionFacts(
                patient_id=patient.pk,
                version=2,
                signed_by_id=physician.pk,
                signed_on=TODAY,
                patient_copy_on=None,
                substantial_revision=True,
                missing_elements=("caregiver assessment",),
            ),
        ]
    }
    assert second.status == VersionStatus.SIGNED


def test_version_facts_leave_out_versions_signed_after_the_month(
    practice, physician, patient, in_practice
):
    # given
    signed_plan(practice, physician, patient)
    # when
    with in_practice(practice):
        facts = care_plan_version_facts(practice=practice, signed_on_or_before=dt.date(2025, 2, 28))
    # then
    assert facts == {}


@pytest.mark.parametrize("patients", [1, 50])
def test_version_facts_take_one_query_for_any_number_of_patients(
    practice, physician, in_practice, django_assert_max_num_queries, patients
):
    # given
    with in_practice(practice):
        for _ in range(patients):
            version = SignedCarePlanVersionFactory.create(
                practice=practice,
                care_plan__patient=PatientFactory.create(
                    practice=practice, billing_practitioner=physician
                ),
                care_plan__created_by=physician,
                **dict.fromkeys(TEXT_FIELD_NAMES, "documented"),
            )
            CarePlanCopyFactory.create(practice=practice, version=version)
    # when
    with in_practice(practice), django_assert_max_num_queries(1):
        facts = care_plan_version_facts(practice=practice)
    # then
    assert len(facts) == patients
    assert {f[0].missing_elements for f in facts.values()} == {
        ("problem list", "planned interventions")
    }


def test_complexity_for_a_month_ignores_voided_attestations(
    practice, physician, patient, in_practice
):
    # given
    other = make_patient(practice, physician, mrn="SECOND")
    with in_practice(practice):
        kept = complexity_attest(
            practice=practice,
            actor=physician,
            patient=patient,
            service_month=dt.date(2025, 3, 1),
            mdm=MedicalDecisionMaking.MODERATE,
            note="Medicines adjusted for two unstable conditions.",
        )
        voided = complexity_attest(
            practice=practice,
            actor=physician,
            patient=other,
            service_month=dt.date(2025, 3, 1),
            mdm=MedicalDecisionMaking.HIGH,
            note="Entered for the wrong patient.",
        )
        complexity_attestation_void(
            practice=practice, actor=physician, attestation=voided, reason="Wrong patient."
        )
    # when
    with in_practice(practice):
        march = complexity_attestations_for_month(
            practice=practice, service_month=dt.date(2025, 3, 1)
        )
        february = complexity_attestations_for_month(
            practice=practice, service_month=dt.date(2025, 2, 1)
        )
    # then
    assert march == {patient.pk: kept}
    assert (march[patient.pk].mdm, march[patient.pk].attested_by_id) == ("moderate", physician.pk)
    assert february == {}


def test_review_queue_is_oldest_first_and_per_physician(practice, physician, in_practice):
    # given two drafts of the physician's patients sent an hour apart, then one of a colleague's
    with in_practice(practice):
        colleague = MembershipFactory.create(practice=practice, role=Role.PHYSICIAN)
    owners = [physician, physician, colleague]
    sent = []
    for index, owner in enumerate(owners):
        person = make_patient(practice, owner, mrn=f"Q{index}")
        with in_practice(practice):
            version = care_plan_start(practice=practice, actor=owner, patient=person)
            with time_machine.travel(NOW + dt.timedelta(hours=index), tick=False):
                sent.append(care_plan_draft_submit(practice=practice, actor=owner, version=version))
    # when
    with in_practice(practice):
        mine = list(care_plan_review_queue(practice=practice, physician=physician))
        everyone = list(care_plan_review_queue(practice=practice))
    # then
    assert [v.pk for v in mine] == [sent[0].pk, sent[1].pk]
    assert [v.pk for v in everyone] == [v.pk for v in sent]
