"""Care-plan pages: what each role sees and may do, read audits, and the queue's query count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from careplans.content import PlanContent
from careplans.models import CarePlanCopy, CarePlanDocument, CarePlanTemplate, CarePlanVersion
from careplans.services.documents import care_plan_document_render
from careplans.services.versions import (
    care_plan_draft_submit,
    care_plan_draft_update,
    care_plan_revision_start,
)
from ccm.audit import AuditEvent
from ccm.models import AuditLog
from ccm.permissions import Role
from tests.careplans.conftest import PASSWORD, complete_content, make_patient
from tests.factories import CarePlanVersionFactory, MembershipFactory, PatientFactory


def _reads(practice, in_practice, event):
    with in_practice(practice):
        return list(
            AuditLog.objects.for_practice(practice)
            .filter(event=event)
            .values_list("actor_id", "patient_public_id", "changes")
        )


def _body(response):
    return response.content.decode()


@pytest.fixture
def private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": None},
        },
    }
    return tmp_path


# --- the plan page ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_member_reads_the_signed_plan_and_the_read_is_audited(
    *, practice, members, signed, patient, client_for, in_practice, role
):
    # when
    response = client_for(members[role]).get(reverse("care_plan_detail", args=[patient.public_id]))
    # then
    body = _body(response)
    assert response.status_code == 200
    assert "Version 1" in body
    assert "Keep blood sugar in a safe range" in body
    assert 'class="plan-text empty"' not in body
    assert _reads(practice, in_practice, AuditEvent.CARE_PLAN_VIEWED) == [
        (members[role].pk, patient.public_id, {"patient_ids": [str(patient.public_id)]})
    ]


def test_plan_page_lists_missing_elements(*, practice, physician, patient, client_for, in_practice):
    # given a draft started from templates only
    client = client_for(physician)
    client.post(reverse("care_plan_start", args=[patient.public_id]))
    # when
    response = client.get(reverse("care_plan_detail", args=[patient.public_id]))
    # then
    body = _body(response)
    assert "W_CARE_PLAN_INCOMPLETE" in body
    assert "<li>caregiver assessment</li>" in body
    assert "Not signed yet" in body


def test_billing_practitioner_starts_a_plan_from_the_page(
    *, practice, physician, patient, client_for, in_practice
):
    # given
    client = client_for(physician)
    page = client.get(reverse("care_plan_detail", args=[patient.public_id]))
    # when
    response = client.post(
        reverse("care_plan_start", args=[patient.public_id]),
        {"templates": ["builtin:diabetes"]},
    )
    # then
    with in_practice(practice):
        version = CarePlanVersion.objects.for_practice(practice).get()
    assert "Start the care plan" in _body(page)
    assert response.status_code == 302
    assert response["Location"] == reverse("care_plan_version_edit", args=[version.public_id])
    assert len(version.goals) == 4


def test_coordinator_is_told_who_develops_the_first_plan(*, coordinator, patient, client_for):
    # when
    response = client_for(coordinator).get(reverse("care_plan_detail", args=[patient.public_id]))
    # then
    body = _body(response)
    assert "Start the care plan" not in body
    assert "The first care plan is developed and signed by the patient's billing" in body


def test_another_practices_patient_is_404(
    *, physician, other_practice, other_members, client_for, in_practice
):
    # given
    foreign = make_patient(other_practice, other_members[Role.PHYSICIAN])
    # when
    response = client_for(physician).get(reverse("care_plan_detail", args=[foreign.public_id]))
    # then
    assert response.status_code == 404


# --- editing a draft --------------------------------------------------------------------------


def _edit_data(version, **overrides):
    """The edit form as the browser would post it, unchanged unless overridden."""
    content = version.content
    data = {
        **content.texts,
        "next_review_on": str(content.next_review_on or ""),
        "problems": [problem.condition for problem in content.problems],
        "goals-TOTAL_FORMS": str(len(content.goals) + 1),
        "goals-INITIAL_FORMS": str(len(content.goals)),
        "interventions-TOTAL_FORMS": str(len(content.interventions)),
        "interventions-INITIAL_FORMS": str(len(content.interventions)),
    }
    for index, goal in enumerate(content.goals):
        for name, value in goal.to_json().items():
            data[f"goals-{index}-{name}"] = value or ""
    for index, item in enumerate(content.interventions):
        for name, value in item.to_json().items():
            data[f"interventions-{index}-{name}"] = value or ""
    data.update(overrides)
    return data


def test_a_goal_without_a_measure_is_refused_on_the_form(
    *, practice, physician, draft, client_for, in_practice, snapshot
):
    # given
    new_row = len(draft.goals)
    before = snapshot(practice)
    # when
    response = client_for(physician).post(
        reverse("care_plan_version_edit", args=[draft.public_id]),
        _edit_data(
            draft,
            **{f"goals-{new_row}-goal": "Walk every day", f"goals-{new_row}-status": "not_started"},
        ),
    )
    # then
    assert response.status_code == 200
    assert "Each goal needs a measure: how progress is measured." in _body(response)
    assert snapshot(practice) == before


def test_physician_adds_a_goal_and_sends_the_draft(
    *, practice, physician, draft, client_for, in_practice
):
    # given
    new_row = len(draft.goals)
    # when
    response = client_for(physician).post(
        reverse("care_plan_version_edit", args=[draft.public_id]),
        _edit_data(
            draft,
            submit="1",
            **{
                f"goals-{new_row}-goal": "Walk every day",
                f"goals-{new_row}-measure": "Minutes walked a week",
                f"goals-{new_row}-target": "150",
                f"goals-{new_row}-status": "not_started",
            },
        ),
    )
    # then
    with in_practice(practice):
        stored = CarePlanVersion.objects.for_practice(practice).get()
    assert response.status_code == 302
    assert stored.goals[-1]["goal"] == "Walk every day"
    assert [g["key"] for g in stored.goals[:-1]] == [g["key"] for g in draft.goals]
    assert stored.submitted_by_id == physician.pk


def test_editing_a_signed_version_redirects_to_it_unchanged(
    *, practice, physician, signed, client_for, in_practice, snapshot
):
    # given
    client = client_for(physician)
    before = snapshot(practice)
    # when
    response = client.post(
        reverse("care_plan_version_edit", args=[signed.public_id]),
        _edit_data(signed, prognosis="Rewritten"),
    )
    # then
    assert response["Location"] == reverse("care_plan_version_detail", args=[signed.public_id])
    assert snapshot(practice) == before
    assert "Version 1 is signed and can no longer change." in _body(
        client.get(response["Location"])
    )


def test_manager_may_not_open_the_editor(*, manager, draft, client_for):
    # when
    response = client_for(manager).get(reverse("care_plan_version_edit", args=[draft.public_id]))
    # then
    assert response.status_code == 403


# --- review, diff and signature ---------------------------------------------------------------


@pytest.fixture
def revision(practice, coordinator, signed, in_practice):
    """A revision drafted by the coordinator (goal target changed) and sent for signature."""
    with in_practice(practice):
        version = care_plan_revision_start(
            practice=practice, actor=coordinator, care_plan=signed.care_plan
        )
        content = complete_content(version, revision_note="HbA1c target tightened.")
        goals = list(version.goals)
        goals[0] = {**goals[0], "target": "Below 7.5 %"}
        content = PlanContent.parse(
            texts=content.texts,
            next_review_on=content.next_review_on,
            problems=version.problems,
            goals=goals[:-1],
            interventions=version.interventions,
        )
        care_plan_draft_update(
            practice=practice, actor=coordinator, version=version, content=content
        )
        return care_plan_draft_submit(practice=practice, actor=coordinator, version=version)


def test_diff_shows_field_by_field_what_changed(
    *, practice, physician, revision, signed, client_for, in_practice
):
    # when
    response = client_for(physician).get(
        reverse("care_plan_version_diff", args=[revision.public_id])
    )
    # then
    body = _body(response)
    assert response.status_code == 200
    assert "since signed version 1" in body
    assert "HbA1c target tightened." in body
    assert '<span class="badge change-changed">changed</span>' in body
    assert '<span class="badge change-removed">removed</span>' in body
    assert '<dd class="changed">Below 7.5 %</dd>' in body
    assert "Sign version 2" in body
    assert _reads(practice, in_practice, AuditEvent.CARE_PLAN_VIEWED)[0][0] == physician.pk


def test_review_queue_lists_the_waiting_draft_with_an_audit_row(
    *, practice, physician, revision, patient, client_for, in_practice
):
    # when
    response = client_for(physician).get(reverse("care_plan_review_queue"))
    # then
    body = _body(response)
    assert response.status_code == 200
    assert patient.full_name in body
    assert reverse("care_plan_version_sign", args=[revision.public_id]) in body
    assert _reads(practice, in_practice, AuditEvent.CARE_PLAN_REVIEW_QUEUE_VIEWED) == [
        (physician.pk, patient.public_id, {"patient_ids": [str(patient.public_id)]})
    ]


@pytest.mark.parametrize("drafts", [1, 50])
def test_review_queue_queries_do_not_grow_with_the_drafts(
    *, practice, physician, client_for, in_practice, django_assert_max_num_queries, drafts
):
    # given
    with in_practice(practice):
        for _ in range(drafts):
            CarePlanVersionFactory.create(
                practice=practice,
                care_plan__patient=PatientFactory.create(
                    practice=practice, billing_practitioner=physician
                ),
                care_plan__created_by=physician,
                submitted_by=physician,
                submitted_at=dt.datetime(2025, 3, 9, 12, 0, tzinfo=dt.UTC),
            )
    client = client_for(physician)
    # when (session, user, MFA, membership, RLS settings, savepoints: 19; the queue: 2 reads
    # and 1 audit row)
    with django_assert_max_num_queries(22):
        response = client.get(reverse("care_plan_review_queue"))
    # then
    assert response.status_code == 200
    assert _body(response).count("Review changes") == drafts


def test_coordinator_may_not_open_the_sign_form(*, coordinator, revision, client_for):
    # when
    response = client_for(coordinator).get(
        reverse("care_plan_version_sign", args=[revision.public_id])
    )
    # then
    assert response.status_code == 403


def test_wrong_password_is_refused_with_a_message_and_nothing_changes(
    *, practice, physician, revision, client_for, in_practice, snapshot
):
    # given
    client = client_for(physician)
    before = snapshot(practice)
    # when
    response = client.post(
        reverse("care_plan_version_sign", args=[revision.public_id]),
        {"password": "guess", "substantial_revision": "on"},
    )
    # then
    assert response.status_code == 200
    assert "That password or authenticator code is not right" in _body(response)
    assert snapshot(practice) == before


def test_physician_signs_a_substantial_revision(
    *, practice, physician, revision, patient, client_for, in_practice
):
    # when
    response = client_for(physician).post(
        reverse("care_plan_version_sign", args=[revision.public_id]),
        {"password": PASSWORD, "substantial_revision": "on"},
    )
    # then
    with in_practice(practice):
        stored = CarePlanVersion.objects.for_practice(practice).get(pk=revision.pk)
    assert response.status_code == 302
    assert response["Location"] == reverse("care_plan_detail", args=[patient.public_id])
    assert (stored.status, stored.signed_by_id, stored.substantial_revision) == (
        "signed",
        physician.pk,
        True,
    )


def test_other_physician_signing_gets_the_reason(
    *, practice, revision, client_for, in_practice, snapshot
):
    # given
    with in_practice(practice):
        colleague = MembershipFactory.create(practice=practice, role=Role.PHYSICIAN)
    before = snapshot(practice)
    # when
    response = client_for(colleague).post(
        reverse("care_plan_version_sign", args=[revision.public_id]), {"password": PASSWORD}
    )
    # then
    assert response.status_code == 403
    assert "Only the patient&#x27;s billing practitioner" in _body(response)
    assert snapshot(practice) == before


# --- copies and the PDF -----------------------------------------------------------------------


def test_copy_recorded_from_the_plan_page(
    *, practice, coordinator, signed, client_for, in_practice
):
    # when
    response = client_for(coordinator).post(
        reverse("care_plan_copy_record", args=[signed.public_id]),
        {
            "given_on": "2025-03-10",
            "method": "mail",
            "recipient": "caregiver",
            "recipient_name": "Ann",
        },
        follow=True,
    )
    # then
    with in_practice(practice):
        copy = CarePlanCopy.objects.for_practice(practice).get()
    assert "Recorded that the patient copy was given." in _body(response)
    assert (copy.method, copy.recipient, copy.recipient_name) == ("mail", "caregiver", "Ann")


def test_copy_of_a_draft_is_refused_on_the_page(
    *, practice, coordinator, draft, client_for, in_practice, snapshot
):
    # given
    client = client_for(coordinator)
    before = snapshot(practice)
    # when
    response = client.post(
        reverse("care_plan_copy_record", args=[draft.public_id]),
        {"given_on": "2025-03-10", "method": "mail", "recipient": "patient"},
    )
    # then
    assert response.status_code == 302
    assert snapshot(practice) == before
    assert "Version 1 is not signed yet" in _body(client.get(response["Location"]))


def test_the_pdf_downloads_for_the_practice_with_a_read_audit(
    *, practice, coordinator, signed, patient, client_for, in_practice, private_storage
):
    # given
    with in_practice(practice):
        care_plan_document_render(
            practice=practice, document=CarePlanDocument.objects.for_practice(practice).get()
        )
    # when
    response = client_for(coordinator).get(
        reverse("care_plan_document_download", args=[signed.public_id]) + "?download=1"
    )
    # then
    content = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="care-plan-{patient.last_name.lower()}-v1.pdf"'
    )
    assert content.startswith(b"%PDF-")
    assert _reads(practice, in_practice, AuditEvent.CARE_PLAN_PDF_DOWNLOADED)[0][:2] == (
        coordinator.pk,
        patient.public_id,
    )


def test_a_pdf_not_rendered_yet_is_404(*, coordinator, signed, client_for):
    # when
    response = client_for(coordinator).get(
        reverse("care_plan_document_download", args=[signed.public_id])
    )
    # then
    assert response.status_code == 404


# --- goal progress ----------------------------------------------------------------------------


def test_coordinator_updates_a_goal_from_the_plan_page(
    *, practice, coordinator, signed, client_for, in_practice
):
    # when
    response = client_for(coordinator).post(
        reverse("care_plan_goal_progress", args=[signed.public_id]),
        {
            "goal": signed.goals[0]["key"],
            "status": "in_progress",
            "measured_value": "8.1 %",
            "recorded_on": "2025-03-10",
        },
        follow=True,
    )
    # then
    body = _body(response)
    assert "Goal progress recorded." in body
    assert "<strong>8.1 %</strong>" in body


# --- complexity -------------------------------------------------------------------------------


def test_billing_practitioner_attests_complexity_on_the_page(
    *, practice, physician, patient, client_for, in_practice
):
    # when
    response = client_for(physician).post(
        reverse("complexity_attestations", args=[patient.public_id]),
        {"service_month": "2025-03", "mdm": "moderate", "note": "Two unstable conditions."},
        follow=True,
    )
    # then
    body = _body(response)
    assert "Complexity attested." in body
    assert "March 2025" in body


def test_coordinator_attesting_complexity_is_refused_and_told_why(
    *, practice, coordinator, patient, client_for, in_practice, snapshot
):
    # given
    before = snapshot(practice)
    # when
    response = client_for(coordinator).post(
        reverse("complexity_attestations", args=[patient.public_id]),
        {"service_month": "2025-03", "mdm": "high", "note": "x"},
    )
    # then
    assert response.status_code == 403
    assert "Only a physician attests medical decision making (R-WHO-6)." in _body(response)
    assert snapshot(practice) == before


def test_complexity_page_is_read_audited(*, practice, manager, patient, client_for, in_practice):
    # when
    response = client_for(manager).get(reverse("complexity_attestations", args=[patient.public_id]))
    # then
    assert response.status_code == 200
    assert _reads(practice, in_practice, AuditEvent.COMPLEXITY_VIEWED) == [
        (manager.pk, patient.public_id, {"patient_ids": [str(patient.public_id)]})
    ]


# --- templates --------------------------------------------------------------------------------


def test_practice_adds_its_own_template(*, practice, physician, client_for, in_practice):
    # when
    response = client_for(physician).post(
        reverse("care_plan_template_create"),
        {
            "name": "Obesity",
            "icd10_prefixes": "E66, Z68.4",
            "symptom_management": "Call for chest pain on exertion.",
            "goals": "Lose weight | Body weight | 5 % lower | 180\nMove more | Steps a day | 7,000",
            "interventions": "Refer to a dietitian | care_coordinator | Once",
            "sources": "USPSTF 2018 weight-loss interventions",
        },
    )
    # then
    with in_practice(practice):
        template = CarePlanTemplate.objects.for_practice(practice).get()
    assert response.status_code == 302
    assert template.icd10_prefixes == ["E66", "Z68.4"]
    assert template.goals[1] == {
        "goal": "Move more",
        "measure": "Steps a day",
        "target": "7,000",
        "target_in_days": 90,
    }


def test_template_goal_without_a_measure_is_refused(
    *, practice, physician, client_for, in_practice, snapshot
):
    # given
    before = snapshot(practice)
    # when
    response = client_for(physician).post(
        reverse("care_plan_template_create"),
        {"name": "Obesity", "icd10_prefixes": "E66", "goals": "Lose weight"},
    )
    # then
    assert "Line 1: give goal | measure | target (a goal needs a measure)." in _body(response)
    assert snapshot(practice) == before


def test_template_list_shows_the_built_in_templates(*, coordinator, client_for):
    # when
    response = client_for(coordinator).get(reverse("care_plan_template_list"))
    # then
    body = _body(response)
    assert response.status_code == 200
    assert "Heart failure" in body
    assert "KDIGO 2024" in body


def test_patient_of_another_patient_condition_list_is_not_offered(
    *, practice, physician, draft, client_for
):
    # given
    other = make_patient(practice, physician, mrn="OTHER-2")
    # when
    response = client_for(physician).get(reverse("care_plan_version_edit", args=[draft.public_id]))
    # then
    assert response.status_code == 200
    assert other.mrn not in _body(response)


def test_coordinator_sees_why_the_first_draft_is_not_theirs_to_edit(
    *, coordinator, draft, client_for
):
    # when
    response = client_for(coordinator).get(
        reverse("care_plan_version_edit", args=[draft.public_id])
    )
    # then
    assert response.status_code == 200
    assert "The first version of a care plan is developed by the patient's billing" in _body(
        response
    )
