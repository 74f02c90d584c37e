"""The patient copy: recording copies given (R-PLAN-4) and rendering the PDF."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import InternalError, connection, transaction

from careplans.models import CarePlanCopy, CarePlanDocument, CopyMethod, DocumentStatus
from careplans.services.documents import (
    care_plan_copy_record,
    care_plan_document_render,
    care_plan_document_request,
)
from ccm.audit import AuditEvent
from ccm.errors import InvalidState, NotFound
from ccm.models import AuditLog
from ccm.permissions import Role
from tests.careplans.conftest import TODAY, make_patient, signed_plan


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


def test_copy_given_in_person_is_recorded(practice, coordinator, signed, patient, in_practice):
    # when
    with in_practice(practice):
        copy = care_plan_copy_record(
            practice=practice,
            actor=coordinator,
            version=signed,
            given_on=TODAY,
            method=CopyMethod.IN_PERSON,
        )
        stored = CarePlanCopy.objects.for_practice(practice).get()
        audit = AuditLog.objects.for_practice(practice).get(
            event=AuditEvent.CARE_PLAN_COPY_RECORDED
        )
    # then
    assert stored.pk == copy.pk
    assert (stored.version_id, stored.given_on, stored.method, stored.given_by_id) == (
        signed.pk,
        TODAY,
        "in_person",
        coordinator.pk,
    )
    assert (audit.patient_public_id, audit.changes) == (
        patient.public_id,
        {"version": 1, "given_on": "2025-03-10", "method": "in_person", "recipient": "patient"},
    )


def test_copy_of_a_draft_is_refused(practice, coordinator, draft, in_practice, snapshot):
    # given
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        care_plan_copy_record(
            practice=practice,
            actor=coordinator,
            version=draft,
            given_on=TODAY,
            method=CopyMethod.MAIL,
        )
    # then
    assert error.value.message == (
        "Version 1 is not signed yet: a copy is given of a signed plan only (R-PLAN-4)."
    )
    assert snapshot(practice) == before


def test_copy_dated_before_the_signature_is_refused(
    practice, coordinator, signed, in_practice, snapshot
):
    # given
    before = snapshot(practice)
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        care_plan_copy_record(
            practice=practice,
            actor=coordinator,
            version=signed,
            given_on=TODAY - dt.timedelta(days=1),
            method=CopyMethod.PORTAL,
        )
    # then
    assert error.value.message == (
        "The copy cannot be given before the plan was signed (Mar 10, 2025)."
    )
    assert error.value.field == "given_on"
    assert snapshot(practice) == before


def test_copy_dated_in_the_future_is_refused(practice, coordinator, signed, in_practice):
    # when
    with in_practice(practice), pytest.raises(InvalidState) as error:
        care_plan_copy_record(
            practice=practice,
            actor=coordinator,
            version=signed,
            given_on=TODAY + dt.timedelta(days=1),
            method=CopyMethod.EMAIL,
        )
    # then
    assert error.value.message == "The date the copy was given cannot be in the future."


def test_the_database_refuses_a_copy_of_a_draft(practice, coordinator, draft, in_practice):
    # when
    with (
        in_practice(practice),
        pytest.raises(InternalError, match="signed care-plan version only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO careplans_careplancopy (practice_id, public_id, version_id, given_on, "
            "method, recipient, recipient_name, note, given_by_id, created_at) VALUES "
            "(%s, gen_random_uuid(), %s, %s, 'mail', 'patient', '', '', %s, now())",
            [practice.pk, draft.pk, TODAY, coordinator.pk],
        )
    # then
    with in_practice(practice):
        assert not CarePlanCopy.objects.for_practice(practice).exists()


def test_copy_of_another_practices_version_is_not_found(
    practice, other_practice, other_members, coordinator, in_practice
):
    # given
    foreign_physician = other_members[Role.PHYSICIAN]
    foreign = signed_plan(
        other_practice, foreign_physician, make_patient(other_practice, foreign_physician)
    )
    # when
    with in_practice(practice), pytest.raises(NotFound):
        care_plan_copy_record(
            practice=practice,
            actor=coordinator,
            version=foreign,
            given_on=TODAY,
            method=CopyMethod.MAIL,
        )


def test_render_writes_a_pdf_to_private_storage(practice, signed, in_practice, private_storage):
    # given
    with in_practice(practice):
        document = CarePlanDocument.objects.for_practice(practice).get()
    # when
    with in_practice(practice):
        rendered = care_plan_document_render(practice=practice, document=document)
        audit = AuditLog.objects.for_practice(practice).get(event=AuditEvent.CARE_PLAN_PDF_RENDERED)
    # then
    path = private_storage / rendered.file.name
    assert rendered.status == DocumentStatus.READY
    assert rendered.file.name.startswith(f"practices/{practice.public_id}/care-plans/")
    assert path.read_bytes().startswith(b"%PDF-")
    assert rendered.size_bytes == path.stat().st_size
    assert audit.actor_id is None
    assert audit.changes["status"] == "ready"


def test_render_of_a_ready_document_does_nothing(practice, signed, in_practice, private_storage):
    # given
    with in_practice(practice):
        document = care_plan_document_render(
            practice=practice, document=CarePlanDocument.objects.for_practice(practice).get()
        )
        audit_rows = AuditLog.objects.for_practice(practice).count()
    # when
    with in_practice(practice):
        again = care_plan_document_render(practice=practice, document=document)
        # then
        assert AuditLog.objects.for_practice(practice).count() == audit_rows
    assert (again.file.name, again.sha256) == (document.file.name, document.sha256)


def test_a_failed_render_is_recorded_and_can_be_requested_again(
    *, practice, coordinator, signed, in_practice, private_storage, monkeypatch
):
    # given
    def broken(**kwargs):
        raise RuntimeError("no fonts")

    monkeypatch.setattr("careplans.services.documents.render_patient_copy", broken)
    with in_practice(practice):
        document = CarePlanDocument.objects.for_practice(practice).get()
        failed = care_plan_document_render(practice=practice, document=document)
    # when
    with in_practice(practice):
        requested = care_plan_document_request(practice=practice, actor=coordinator, version=signed)
    # then
    assert (failed.status, failed.error) == (DocumentStatus.FAILED, "RuntimeError: no fonts")
    assert (requested.pk, requested.status, requested.error) == (
        document.pk,
        DocumentStatus.PENDING,
        "",
    )
    assert requested.requested_by_id == coordinator.pk
