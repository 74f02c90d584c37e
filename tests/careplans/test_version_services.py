"""Care-plan versions: start, edit a draft, send, sign, revise, keep goals current."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from allauth.mfa.totp.internal.auth import hotp_value, yield_hotp_counters_from_time
from django.db import IntegrityError, InternalError, connection, transaction

from careplans.content import PlanContent
from careplans.models import (
    CarePlan,
    CarePlanDocument,
    CarePlanGoalProgress,
    CarePlanVersion,
    DocumentStatus,
    SignatureMethod,
    VersionStatus,
)
from careplans.services.versions import (
    care_plan_draft_apply_templates,
    care_plan_draft_submit,
    care_plan_draft_update,
    care_plan_goal_progress_record,
    care_plan_revision_start,
    care_plan_start,
    care_plan_version_sign,
)
from ccm.audit import AuditEvent
from ccm.errors import InvalidState, NotFound, PermissionDenied
from ccm.models import AuditLog
from ccm.permissions import Role
from tests.careplans.conftest import (
    NOW,
    PASSWORD,
    TODAY,
    complete_content,
    make_patient,
    sign,
)
from tests.conftest import enable_mfa
from tests.factories import MembershipFactory


def _events(practice):
    return list(
        AuditLog.objects.for_practice(practice)
        .filter(event__startswith="care_plan")
        .order_by("pk")
        .values_list("event", flat=True)
    )


# --- start ------------------------------------------------------------------------------------


def test_billing_practitioner_starts_the_plan_from_templates_for_the_conditions(
    practice, physician, patient, in_practice
):
    # when
    with in_practice(practice):
        version = care_plan_start(practice=practice, actor=physician, patient=patient)
        stored = CarePlanVersion.objects.for_practice(practice).select_related("care_plan").get()
        audit = AuditLog.objects.for_practice(practice).get(event=AuditEvent.CARE_PLAN_STARTED)
    # then
    content = stored.content
    assert stored.pk == version.pk
    assert (stored.number, stored.status, stored.drafted_by_id, stored.based_on_id) == (
        1,
        VersionStatus.DRAFT,
        physician.pk,
        None,
    )
    assert [problem.code for problem in content.problems] == ["E11.9", "I10", "N18.31"]
    assert [goal.goal for goal in content.goals][:2] == [
        "Keep blood sugar in a safe range",
        "Avoid low blood sugar",
    ]
    assert len(content.goals) == 4 + 3 + 4
    assert all(goal.measure and goal.target for goal in content.goals)
    assert content.goals[0].target_date == dt.date(2025, 6, 8)
    assert content.goals[0].condition == content.problems[0].condition
    assert len(content.interventions) == 5 + 4 + 5
    assert content.texts["symptom_management"].startswith("Diabetes mellitus: Low blood sugar")
    assert audit.patient_public_id == patient.public_id
    assert audit.changes == {
        "care_plan": str(stored.care_plan.public_id),
        "number": 1,
        "templates": ["builtin:diabetes", "builtin:hypertension", "builtin:chronic_kidney_disease"],
        "problems": ["E11.9", "I10", "N18.31"],
        "goals": 11,
        "interventions": 14,
    }


def test_start_with_chosen_templates_uses_only_those(practice, physician, patient, in_practice):
    # when
    with in_practice(practice):
        version = care_plan_start(
            practice=practice,
            actor=physician,
            patient=patient,
            template_keys=["builtin:hypertension"],
        )
    # then
    assert [goal.measure for goal in version.content.goals] == [
        "Average of home blood pressure readings over one week",
        "Missed doses per week (self-report and refill dates)",
        "Sodium intake reviewed with the care coordinator",
    ]


def test_coordinator_may_not_develop_the_first_plan(
    practice, coordinator, patient, in_practice, snapshot
):
    # given
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(PermissionDenied) as error:
        care_plan_start(practice=practice, actor=coordinator, patient=patient)
    # then
    assert str(error.value) == (
        "Only the patient's billing practitioner, Physician (billing practitioner) maple, "
        "develops the first care plan (R-WHO-7); coordinators may revise it once it is signed."
    )
    assert snapshot(practice) == before


def test_another_physician_may_not_develop_the_first_plan(
    practice, physician, patient, in_practice, snapshot
):
    # given
    with in_practice(practice):
        colleague = MembershipFactory.create(practice=practice, role=Role.PHYSICIAN)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(PermissionDenied):
        care_plan_start(practice=practice, actor=colleague, patient=patient)
    # then
    assert snapshot(practice) == before


def test_a_second_plan_for_the_patient_is_refused(practice, physician, draft, patient, in_practice):
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        care_plan_start(practice=practice, actor=physician, patient=patient)
        # then
    assert error.value.message == (
        "This patient already has a care plan; start a revision of it instead."
    )
    with in_practice(practice):
        assert CarePlan.objects.for_practice(practice).count() == 1


def test_patient_of_another_practice_is_not_found(
    practice, physician, other_practice, other_members, in_practice
):
    # given
    foreign = make_patient(other_practice, other_members[Role.PHYSICIAN])
    # when
    with in_practice(practice), pytest.raises(NotFound):
        care_plan_start(practice=practice, actor=physician, patient=foreign)


# --- drafts -----------------------------------------------------------------------------------


def test_draft_update_records_what_changed(practice, physician, draft, in_practice):
    # given
    content = draft.content
    first = content.goals[0]
    changed = dataclasses.replace(
        content,
        goals=(dataclasses.replace(first, target="Below 7.5 %"), *content.goals[1:]),
        texts={**content.texts, "prognosis": "Stable with treatment."},
    )
    # when
    with in_practice(practice):
        care_plan_draft_update(practice=practice, actor=physician, version=draft, content=changed)
        stored = CarePlanVersion.objects.for_practice(practice).get()
        audit = (
            AuditLog.objects.for_practice(practice)
            .filter(event=AuditEvent.CARE_PLAN_DRAFT_UPDATED)
            .latest("pk")
        )
    # then
    assert stored.content.goals[0].target == "Below 7.5 %"
    assert stored.prognosis == "Stable with treatment."
    assert audit.changes["fields"] == ["prognosis"]
    assert audit.changes["goals"] == {"added": [], "removed": [], "changed": [first.key]}


def test_draft_update_without_a_change_writes_no_audit_row(
    practice, physician, draft, in_practice, snapshot
):
    # given
    before = snapshot(practice)
    # when
    with in_practice(practice):
        care_plan_draft_update(
            practice=practice, actor=physician, version=draft, content=draft.content
        )
    # then
    assert snapshot(practice) == before


def test_a_goal_without_a_measure_is_refused_by_the_database_too(practice, draft, in_practice):
    # given
    goals = list(draft.goals)
    goals[0] = {**goals[0], "measure": ""}
    # when
    with (
        in_practice(practice),
        pytest.raises(IntegrityError, match="care_plan_version_goals_measurable"),
        transaction.atomic(),
    ):
        CarePlanVersion.objects.for_practice(practice).filter(pk=draft.pk).update(goals=goals)
    # then
    with in_practice(practice):
        assert CarePlanVersion.objects.for_practice(practice).get().goals[0]["measure"] == "HbA1c"


def test_problem_naming_a_condition_of_another_patient_is_refused(
    practice, physician, draft, in_practice, snapshot
):
    # given
    other = make_patient(practice, physician, mrn="OTHER-1")
    with in_practice(practice):
        foreign_condition = other.conditions.first()
    content = draft.content
    problem = dataclasses.replace(content.problems[0], condition=str(foreign_condition.public_id))
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        care_plan_draft_update(
            practice=practice,
            actor=physician,
            version=draft,
            content=dataclasses.replace(content, problems=(problem, *content.problems[1:])),
        )
    # then
    assert error.value.message == "The problem list names a condition of another patient."
    assert snapshot(practice) == before


def test_coordinator_may_not_edit_the_first_draft(
    practice, coordinator, draft, in_practice, snapshot
):
    # given
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(PermissionDenied):
        care_plan_draft_update(
            practice=practice,
            actor=coordinator,
            version=draft,
            content=complete_content(draft, prognosis="Changed by a coordinator"),
        )
    # then
    assert snapshot(practice) == before


def test_apply_templates_adds_goals_once(practice, physician, patient, in_practice):
    # given
    with in_practice(practice):
        version = care_plan_start(
            practice=practice, actor=physician, patient=patient, template_keys=[]
        )
    # when
    with in_practice(practice):
        care_plan_draft_apply_templates(
            practice=practice,
            actor=physician,
            version=version,
            template_keys=["builtin:diabetes"],
        )
        again = care_plan_draft_apply_templates(
            practice=practice,
            actor=physician,
            version=version,
            template_keys=["builtin:diabetes"],
        )
    # then
    assert len(again.content.goals) == 4
    assert len(again.content.interventions) == 5
    assert again.symptom_management.count("Diabetes mellitus:") == 1


def test_submit_puts_the_draft_in_the_queue(practice, physician, draft, in_practice):
    # when
    with in_practice(practice):
        care_plan_draft_submit(practice=practice, actor=physician, version=draft)
        stored = CarePlanVersion.objects.for_practice(practice).get()
    # then
    assert (stored.submitted_by_id, stored.submitted_at) == (physician.pk, NOW)


# --- signing ----------------------------------------------------------------------------------


def test_billing_practitioner_signs_with_the_password(practice, physician, draft, in_practice):
    # when
    with in_practice(practice):
        signed = care_plan_version_sign(
            practice=practice,
            actor=physician,
            version=draft,
            substantial_revision=False,
            password=PASSWORD,
        )
        stored = CarePlanVersion.objects.for_practice(practice).get()
        document = CarePlanDocument.objects.for_practice(practice).get()
        audit = AuditLog.objects.for_practice(practice).get(event=AuditEvent.CARE_PLAN_SIGNED)
    # then
    assert stored.pk == signed.pk
    assert (stored.status, stored.signed_by_id, stored.signed_at, stored.signed_on) == (
        VersionStatus.SIGNED,
        physician.pk,
        NOW,
        TODAY,
    )
    assert stored.signature_method == SignatureMethod.PASSWORD
    assert stored.substantial_revision is True  # version 1 establishes the plan
    assert len(stored.content_sha256) == 64
    assert (document.version_id, document.status) == (stored.pk, DocumentStatus.PENDING)
    assert audit.changes == {
        "number": 1,
        "signed_on": "2025-03-10",
        "signature_method": "password",
        "substantial_revision": True,
        "content_sha256": stored.content_sha256,
        "missing_elements": [],
    }


def test_signing_queues_the_pdf_after_commit(
    *, practice, physician, draft, in_practice, django_capture_on_commit_callbacks, monkeypatch
):
    # given
    queued = []
    monkeypatch.setattr(
        "careplans.services.versions.care_plan_document_render_task.delay",
        lambda **kwargs: queued.append(kwargs),
    )
    # when
    with in_practice(practice), django_capture_on_commit_callbacks(execute=True):
        care_plan_version_sign(
            practice=practice,
            actor=physician,
            version=draft,
            substantial_revision=False,
            password=PASSWORD,
        )
    # then
    with in_practice(practice):
        document = CarePlanDocument.objects.for_practice(practice).get()
    assert queued == [{"practice_id": practice.pk, "document_id": document.pk}]


def test_billing_practitioner_signs_with_an_authenticator_code(
    practice, physician, draft, in_practice
):
    # given
    secret = enable_mfa(physician)
    counters = list(yield_hotp_counters_from_time())
    counter = counters[len(counters) // 2]  # the current period
    code = f"{hotp_value(secret, counter):06d}"
    # when
    with in_practice(practice):
        signed = care_plan_version_sign(
            practice=practice,
            actor=physician,
            version=draft,
            substantial_revision=False,
            totp_code=code,
        )
    # then
    assert signed.signature_method == SignatureMethod.TOTP


@pytest.mark.parametrize(
    "proof",
    [{"password": "not my password"}, {"totp_code": "000000"}, {}],
    ids=["wrong password", "wrong code", "nothing"],
)
def test_signing_without_confirming_identity_is_refused(
    *, practice, physician, draft, in_practice, snapshot, proof
):
    # given
    enable_mfa(physician)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        care_plan_version_sign(
            practice=practice, actor=physician, version=draft, substantial_revision=False, **proof
        )
    # then
    assert error.value.message == (
        "That password or authenticator code is not right; the plan was not signed."
    )
    assert error.value.field == "password"
    assert snapshot(practice) == before


@pytest.mark.parametrize(
    "role", [Role.CARE_COORDINATOR, Role.PRACTICE_MANAGER, Role.PRACTICE_ADMIN]
)
def test_signing_by_a_non_physician_is_refused(
    *, practice, members, draft, in_practice, snapshot, role
):
    # given
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(PermissionDenied) as error:
        care_plan_version_sign(
            practice=practice,
            actor=members[role],
            version=draft,
            substantial_revision=False,
            password=PASSWORD,
        )
    # then
    assert str(error.value) == "Only a physician signs a care plan (R-WHO-7)."
    assert snapshot(practice) == before


def test_signing_by_a_physician_who_is_not_the_billing_practitioner_is_refused(
    practice, draft, in_practice, snapshot
):
    # given
    with in_practice(practice):
        colleague = MembershipFactory.create(practice=practice, role=Role.PHYSICIAN)
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(PermissionDenied) as error:
        care_plan_version_sign(
            practice=practice,
            actor=colleague,
            version=draft,
            substantial_revision=False,
            password=PASSWORD,
        )
    # then
    assert str(error.value) == (
        "Only the patient's billing practitioner, Physician (billing practitioner) maple, "
        "signs their care plan (R-WHO-7)."
    )
    assert snapshot(practice) == before


def test_editing_a_signed_version_is_refused(practice, physician, signed, in_practice, snapshot):
    # given
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        care_plan_draft_update(
            practice=practice,
            actor=physician,
            version=signed,
            content=complete_content(signed, prognosis="Rewritten after signing"),
        )
    # then
    assert error.value.message == (
        "Version 1 is signed and can no longer change; start a revision to change the plan."
    )
    assert snapshot(practice) == before


def test_signing_twice_is_refused(practice, physician, signed, in_practice, snapshot):
    # given
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        care_plan_version_sign(
            practice=practice,
            actor=physician,
            version=signed,
            substantial_revision=True,
            password=PASSWORD,
        )
    # then
    assert error.value.message == "Version 1 is already signed."
    assert snapshot(practice) == before


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE careplans_careplanversion SET prognosis = 'tampered' WHERE id = %s",
        "UPDATE careplans_careplanversion SET status = 'draft', signed_by_id = NULL, "
        "signed_at = NULL, signed_on = NULL, signature_method = '', "
        "substantial_revision = NULL, content_sha256 = '' WHERE id = %s",
        "DELETE FROM careplans_careplanversion WHERE id = %s",
    ],
    ids=["content", "unsign", "delete"],
)
def test_the_database_refuses_to_change_a_signed_version(practice, signed, in_practice, statement):
    # when
    with (
        in_practice(practice),
        pytest.raises(InternalError, match=r"signed and cannot change|never deleted"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [signed.pk])
    # then
    with in_practice(practice):
        stored = CarePlanVersion.objects.for_practice(practice).get()
    assert (stored.status, stored.prognosis) == (VersionStatus.SIGNED, "Prognosis documented.")


# --- revisions --------------------------------------------------------------------------------


def test_coordinator_revises_from_the_last_signed_version(
    practice, physician, coordinator, signed, in_practice
):
    # given
    with in_practice(practice):
        care_plan_goal_progress_record(
            practice=practice,
            actor=coordinator,
            version=signed,
            goal_key=signed.content.goals[0].key,
            status="in_progress",
            measured_value="8.4 %",
            recorded_on=TODAY,
        )
    # when
    with in_practice(practice):
        revision = care_plan_revision_start(
            practice=practice, actor=coordinator, care_plan=signed.care_plan
        )
        audit = AuditLog.objects.for_practice(practice).get(
            event=AuditEvent.CARE_PLAN_REVISION_STARTED
        )
    # then
    assert (revision.number, revision.based_on_id, revision.drafted_by_id) == (
        2,
        signed.pk,
        coordinator.pk,
    )
    assert [g.key for g in revision.content.goals] == [g.key for g in signed.content.goals]
    assert revision.content.goals[0].status == "in_progress"
    assert revision.content.problems == signed.content.problems
    assert audit.changes == {"number": 2, "based_on": 1}


def test_coordinator_drafts_a_revision_and_the_physician_marks_it_substantial(
    practice, physician, coordinator, signed, in_practice
):
    # given
    with in_practice(practice):
        revision = care_plan_revision_start(
            practice=practice, actor=coordinator, care_plan=signed.care_plan
        )
        care_plan_draft_update(
            practice=practice,
            actor=coordinator,
            version=revision,
            content=complete_content(revision, revision_note="New insulin regimen."),
        )
        care_plan_draft_submit(practice=practice, actor=coordinator, version=revision)
    # when
    second = sign(practice, physician, revision, substantial_revision=True)
    # then
    assert (second.number, second.status, second.substantial_revision) == (
        2,
        VersionStatus.SIGNED,
        True,
    )
    assert second.revision_note == "New insulin regimen."


def test_revision_of_a_plan_whose_first_version_is_unsigned_is_refused(
    practice, physician, draft, in_practice, snapshot
):
    # given
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        care_plan_revision_start(practice=practice, actor=physician, care_plan=draft.care_plan)
    # then
    assert error.value.message == "Version 1 is already being drafted; continue that draft."
    assert snapshot(practice) == before


def test_a_second_open_revision_is_refused(practice, coordinator, signed, in_practice):
    # given
    with in_practice(practice):
        care_plan_revision_start(practice=practice, actor=coordinator, care_plan=signed.care_plan)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        care_plan_revision_start(practice=practice, actor=coordinator, care_plan=signed.care_plan)
    # then
    assert error.value.message == "Version 2 is already being drafted; continue that draft."


def test_manager_may_not_revise(practice, manager, signed, in_practice, snapshot):
    # given
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(PermissionDenied):
        care_plan_revision_start(practice=practice, actor=manager, care_plan=signed.care_plan)
    # then
    assert snapshot(practice) == before


# --- goal progress ----------------------------------------------------------------------------


def test_coordinator_keeps_a_goal_current_without_changing_the_signed_version(
    practice, coordinator, signed, in_practice
):
    # given
    goal = signed.content.goals[0]
    # when
    with in_practice(practice):
        progress = care_plan_goal_progress_record(
            practice=practice,
            actor=coordinator,
            version=signed,
            goal_key=goal.key,
            status="met",
            measured_value="7.6 %",
            note="Lab drawn March 7.",
            recorded_on=TODAY,
        )
        stored = CarePlanVersion.objects.for_practice(practice).get()
        audit = AuditLog.objects.for_practice(practice).get(
            event=AuditEvent.CARE_PLAN_GOAL_PROGRESS
        )
    # then
    assert str(progress.goal_key) == goal.key
    assert stored.content.goals[0].status == "not_started"
    assert stored.content_sha256 == signed.content_sha256
    assert audit.changes == {
        "goal": goal.key,
        "status": ["not_started", "met"],
        "measured_value": "7.6 %",
        "recorded_on": "2025-03-10",
    }


def test_progress_on_an_unknown_goal_is_refused(practice, coordinator, signed, in_practice):
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        care_plan_goal_progress_record(
            practice=practice,
            actor=coordinator,
            version=signed,
            goal_key="00000000-0000-0000-0000-000000000000",
            status="met",
            recorded_on=TODAY,
        )
    # then
    assert error.value.message == "This goal is not part of the plan."
    with in_practice(practice):
        assert not CarePlanGoalProgress.objects.for_practice(practice).exists()


def test_progress_dated_before_the_signature_is_refused(practice, coordinator, signed, in_practice):
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        care_plan_goal_progress_record(
            practice=practice,
            actor=coordinator,
            version=signed,
            goal_key=signed.content.goals[0].key,
            status="met",
            recorded_on=TODAY - dt.timedelta(days=1),
        )
    # then
    assert error.value.message == (
        "The plan was signed on Mar 10, 2025; progress cannot predate it."
    )


def test_plan_content_round_trips_through_the_model(practice, draft, in_practice):
    # when
    with in_practice(practice):
        stored = CarePlanVersion.objects.for_practice(practice).get()
    # then
    assert PlanContent.of(stored) == draft.content
