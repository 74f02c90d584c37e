"""The patients pages that write: every action's form, its refusals and its permissions.

A refused input is shown next to its field (or above the form), and nothing is saved: the
patients tables and the audit log are exactly as before.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ccm.audit import AuditEvent
from ccm.permissions import Role
from ccm.tenancy import practice_context
from patients.models import (
    Condition,
    Consent,
    ConsentOutcome,
    EnrollmentStatus,
    FacilityStay,
    OutreachAttempt,
    Patient,
    Visit,
)
from patients.services.condition import condition_add
from patients.services.encounter import facility_stay_record, visit_record
from tests.factories import PatientFactory
from tests.patients.web import EXPLAINED, audit_rows, consented, eligible_patient


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    """Scanned consents go to a throw-away private folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": None},
        },
    }
    return tmp_path


@pytest.fixture
def patient(practice, coordinator, physician):
    return eligible_patient(
        practice, by=coordinator, billing_practitioner=physician, first_name="Harold"
    )


def _url(name, row):
    return reverse(name, args=[row.public_id])


def _field_errors(response, field):
    return response.context["form"].errors.get(field, [])


def _patient_form(**changes):
    data = {
        "mrn": "N-1",
        "first_name": "Nora",
        "last_name": "Quinn",
        "date_of_birth": "1950-02-03",
        "sex": "female",
        "preferred_language": "English",
        "medicare_part_b": "on",
    }
    data.update(changes)
    return data


def _consent_form(physician, coordinator, **changes):
    data = {
        "practitioner": str(physician.public_id),
        "obtained_on": "2025-03-14",
        "obtained_time": "",
        "method": "verbal",
        "obtained_by": str(coordinator.public_id),
        "language": "English",
        **dict.fromkeys(EXPLAINED, "on"),
        "note": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# --- Patients ---------------------------------------------------------------------------------


def test_coordinator_adds_a_patient(practice, coordinator, physician, client_for):
    # when
    response = client_for(coordinator).post(
        reverse("patient_create"),
        _patient_form(billing_practitioner=str(physician.public_id), mbi="1eg4-te5-mk73"),
    )
    # then
    with practice_context(practice.pk):
        patient = Patient.objects.for_practice(practice).get(mrn="N-1")
    assert response.status_code == 302
    assert response["Location"] == _url("patient_detail", patient)
    assert (patient.full_name, patient.mbi, patient.billing_practitioner_id) == (
        "Nora Quinn",
        "1EG4TE5MK73",
        physician.pk,
    )
    assert len(audit_rows(practice, AuditEvent.PATIENT_CREATED)) == 1


def test_duplicate_mrn_is_refused_next_to_the_field_and_nothing_is_saved(
    practice, coordinator, client_for, snapshot
):
    # given
    with practice_context(practice.pk):
        PatientFactory.create(practice=practice, mrn="N-1")
    before = snapshot(practice)
    # when
    response = client_for(coordinator).post(reverse("patient_create"), _patient_form())
    # then
    assert response.status_code == 200
    assert _field_errors(response, "mrn") == ["Another patient already has MRN N-1."]
    assert snapshot(practice) == before


def test_a_billing_practitioner_of_another_practice_is_not_a_choice(
    practice, coordinator, other_members, client_for, snapshot
):
    # given
    stranger = other_members[Role.PHYSICIAN]
    before = snapshot(practice)
    # when
    response = client_for(coordinator).post(
        reverse("patient_create"), _patient_form(billing_practitioner=str(stranger.public_id))
    )
    # then
    assert _field_errors(response, "billing_practitioner") == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert snapshot(practice) == before


def test_coordinator_edits_a_patient_and_keeps_the_mbi_when_left_empty(
    practice, coordinator, patient, client_for
):
    # given
    with practice_context(practice.pk):
        patient.mbi = "1EG4TE5MK73"
        patient.save()
    url = _url("patient_edit", patient)
    client = client_for(coordinator)
    form = client.get(url).context["form"]
    data = {
        name: value
        for name, value in form.initial.items()
        if value not in (None, False) and name != "medicare_part_b"
    }
    data.update(medicare_part_b="on", phone="518-555-0199", mbi="")
    # when
    response = client.post(url, data)
    # then
    assert response.status_code == 302
    with practice_context(practice.pk):
        patient.refresh_from_db()
    assert (patient.phone, patient.mbi, patient.medicare_part_b) == (
        "518-555-0199",
        "1EG4TE5MK73",
        True,
    )


def test_a_date_of_death_before_birth_is_refused_on_its_field(
    practice, coordinator, patient, client_for, snapshot
):
    # given
    before = snapshot(practice)
    # when
    response = client_for(coordinator).post(
        _url("patient_edit", patient),
        _patient_form(mrn=patient.mrn, date_of_death="1940-01-01"),
    )
    # then
    assert _field_errors(response, "date_of_death") == [
        "The date of death is before the birth date."
    ]
    assert response.context["patient"].first_name == "Harold"
    assert snapshot(practice) == before


@pytest.mark.parametrize("name", ["patient_create", "patient_edit", "outreach_record"])
def test_physicians_may_not_edit_patients_or_reach_out(
    practice, physician, patient, client_for, name, *, snapshot
):
    # given
    url = reverse(name) if name == "patient_create" else _url(name, patient)
    client = client_for(physician)
    before = snapshot(practice)
    # when
    shown = client.get(url)
    posted = client.post(url, _patient_form())
    # then
    assert (shown.status_code, posted.status_code) == (403, 403)
    assert snapshot(practice) == before


# --- Conditions -------------------------------------------------------------------------------


def test_coordinator_adds_and_attests_a_condition(practice, coordinator, patient, client_for):
    # when
    response = client_for(coordinator).post(
        _url("condition_add", patient),
        {"code": "i50.22", "description": "Heart failure", "chronic_attested": "on"},
    )
    # then
    assert response.status_code == 302
    assert response["Location"].endswith("#conditions")
    with practice_context(practice.pk):
        added = Condition.objects.for_practice(practice).get(patient=patient, code="I50.22")
    assert (added.chronic_attested, added.attested_by_id) == (True, coordinator.pk)


def test_a_malformed_icd10_code_is_refused_next_to_the_field(
    practice, coordinator, patient, client_for, snapshot
):
    # given
    before = snapshot(practice)
    # when
    response = client_for(coordinator).post(_url("condition_add", patient), {"code": "11E.9X"})
    # then
    assert response.status_code == 200
    (message,) = _field_errors(response, "code")
    assert message.startswith("“11E.9X” is not an ICD-10-CM code")
    assert snapshot(practice) == before


def test_managers_cannot_attest_so_the_form_does_not_offer_it(
    practice, manager, patient, client_for
):
    # when
    form = client_for(manager).get(_url("condition_add", patient)).context["form"]
    # then
    assert "chronic_attested" not in form.fields


def test_attest_and_withdraw_a_condition(practice, coordinator, manager, patient, client_for):
    # given an unattested condition
    with practice_context(practice.pk):
        condition = condition_add(practice=practice, actor=manager, patient=patient, code="N18.30")
    url = _url("condition_attest", condition)
    client = client_for(coordinator)
    # when
    attested = client.post(url, {"chronic": "true"})
    with practice_context(practice.pk):
        condition.refresh_from_db()
    after_attest = condition.chronic_attested
    client.post(url, {"chronic": "false"})
    # then
    assert attested.status_code == 302
    with practice_context(practice.pk):
        condition.refresh_from_db()
    assert (after_attest, condition.chronic_attested) == (True, False)
    assert client_for(manager).post(url, {"chronic": "true"}).status_code == 403


def test_a_resolution_before_onset_is_refused(practice, coordinator, patient, client_for, snapshot):
    # given
    with practice_context(practice.pk):
        condition = condition_add(
            practice=practice,
            actor=coordinator,
            patient=patient,
            code="J45.40",
            onset_date=dt.date(2024, 5, 1),
        )
    before = snapshot(practice)
    # when
    response = client_for(coordinator).post(
        _url("condition_resolve", condition), {"resolved_on": "2024-01-01"}
    )
    # then
    assert _field_errors(response, "resolved_on") == [
        "The condition cannot resolve before its onset."
    ]
    assert snapshot(practice) == before


def test_edit_a_condition(practice, coordinator, patient, client_for):
    # given
    with practice_context(practice.pk):
        condition = Condition.objects.for_practice(practice).filter(patient=patient).first()
    # when
    response = client_for(coordinator).post(
        _url("condition_edit", condition), {"description": "Diet controlled", "onset_date": ""}
    )
    # then
    assert response.status_code == 302
    with practice_context(practice.pk):
        condition.refresh_from_db()
    assert condition.description == "Diet controlled"


# --- Outreach and enrollment ------------------------------------------------------------------


def test_outreach_from_the_eligibility_list_returns_there(
    practice, coordinator, patient, client_for
):
    # when
    response = client_for(coordinator).post(
        _url("outreach_record", patient),
        {
            "attempted_on": "2025-03-14",
            "channel": "phone",
            "outcome": "left_message",
            "return_to": "eligibility",
        },
    )
    # then
    assert response["Location"] == reverse("patient_eligibility")
    with practice_context(practice.pk):
        patient.refresh_from_db()
        attempts = OutreachAttempt.objects.for_practice(practice).filter(patient=patient)
        assert [a.outcome for a in attempts] == ["left_message"]
    assert patient.enrollment_status == EnrollmentStatus.OUTREACH


def test_an_outreach_date_in_the_future_is_refused(
    practice, coordinator, patient, client_for, snapshot
):
    # given
    before = snapshot(practice)
    # when
    response = client_for(coordinator).post(
        _url("outreach_record", patient),
        {"attempted_on": "2025-03-16", "channel": "phone", "outcome": "reached"},
    )
    # then
    assert _field_errors(response, "attempted_on") == ["The attempt date cannot be in the future."]
    assert snapshot(practice) == before


def test_status_change_offers_only_allowed_statuses(practice, coordinator, patient, client_for):
    # given
    url = _url("enrollment_change", patient)
    client = client_for(coordinator)
    # when
    choices = [value for value, _ in client.get(url).context["form"].fields["status"].choices]
    refused = client.post(url, {"status": "enrolled"})
    done = client.post(url, {"status": "identified", "reason": "Reviewed the panel"})
    # then
    assert choices == ["identified", "outreach", "declined", "ineligible", "enrolled_elsewhere"]
    assert "status" in refused.context["form"].errors
    assert done.status_code == 302
    with practice_context(practice.pk):
        patient.refresh_from_db()
    assert patient.enrollment_status == EnrollmentStatus.IDENTIFIED


def test_enrolling_without_consent_says_why_and_changes_nothing(
    practice, coordinator, patient, client_for, snapshot
):
    # given a patient moved on without consent
    before = snapshot(practice)
    # when
    response = client_for(coordinator).post(_url("patient_enroll", patient), {"reason": ""})
    # then
    assert response.context["form"].non_field_errors() == [
        "A patient who is “Not reviewed” cannot become “Enrolled”."
    ]
    assert snapshot(practice) == before


def test_coordinator_enrolls_a_consented_patient(
    practice, coordinator, physician, patient, client_for
):
    # given
    consented(practice, actor=coordinator, patient=patient, practitioner=physician)
    # when
    response = client_for(coordinator).post(_url("patient_enroll", patient), {"reason": "Ready"})
    # then
    assert response.status_code == 302
    with practice_context(practice.pk):
        patient.refresh_from_db()
    assert patient.enrollment_status == EnrollmentStatus.ENROLLED


# --- Consent ----------------------------------------------------------------------------------


def test_consent_form_shows_the_script_for_the_three_explanations(
    practice, coordinator, patient, client_for
):
    # when
    response = client_for(coordinator).get(_url("consent_record", patient))
    # then
    html = response.content.decode()
    assert "your usual cost sharing applies" in html
    assert "Only one practitioner can provide and bill this service" in html
    assert "You may stop at any time" in html
    assert html.count('type="checkbox"') == 3


def test_consent_is_recorded_with_its_time_and_scanned_document(
    practice, coordinator, physician, patient, client_for, *, private_storage
):
    # given
    scan = SimpleUploadedFile("signed.pdf", b"%PDF-1.4 consent", content_type="application/pdf")
    # when
    response = client_for(coordinator).post(
        _url("consent_record", patient),
        {**_consent_form(physician, coordinator, obtained_time="09:30"), "document": scan},
    )
    # then
    assert response.status_code == 302
    with practice_context(practice.pk):
        consent = Consent.objects.for_practice(practice).get(patient=patient)
        patient.refresh_from_db()
    assert consent.obtained_at == dt.datetime(2025, 3, 14, 13, 30, tzinfo=dt.UTC)
    assert consent.document.name.endswith(".pdf")
    assert (private_storage / consent.document.name).read_bytes() == b"%PDF-1.4 consent"
    assert patient.enrollment_status == EnrollmentStatus.CONSENTED


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"obtained_on": "2025-03-16"},
            "obtained_on",
            "The consent date cannot be in the future.",
        ),
        (
            {"explained_one_practitioner": None},
            "explained_one_practitioner",
            "Confirm that the patient was told that only one practitioner can furnish and bill "
            "CCM in a calendar month (R-CONS-3).",
        ),
        (
            {"obtained_time": "23:59", "obtained_on": "2025-03-15"},
            "obtained_time",
            "The consent time cannot be in the future.",
        ),
        (
            {"obtained_time": "23:59", "obtained_on": "9999-12-31"},
            "obtained_on",
            "Enter a real date.",
        ),
    ],
)
def test_a_refused_consent_is_shown_on_its_field_and_nothing_is_saved(
    practice, coordinator, physician, patient, client_for, *, snapshot, changes, field, message
):
    # given
    before = snapshot(practice)
    # when
    response = client_for(coordinator).post(
        _url("consent_record", patient), _consent_form(physician, coordinator, **changes)
    )
    # then
    assert response.status_code == 200
    assert _field_errors(response, field) == [message]
    assert snapshot(practice) == before


def test_a_practitioner_of_another_practice_cannot_be_chosen_for_consent(
    practice, coordinator, physician, other_members, patient, *, client_for, snapshot
):
    # given
    before = snapshot(practice)
    stranger = other_members[Role.PHYSICIAN]
    # when
    response = client_for(coordinator).post(
        _url("consent_record", patient),
        _consent_form(physician, coordinator, practitioner=str(stranger.public_id)),
    )
    # then
    assert _field_errors(response, "practitioner") == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert snapshot(practice) == before


def test_a_document_that_is_not_a_scan_is_refused(
    practice, coordinator, physician, patient, client_for, *, snapshot
):
    # given
    before = snapshot(practice)
    # when
    response = client_for(coordinator).post(
        _url("consent_record", patient),
        {
            **_consent_form(physician, coordinator),
            "document": SimpleUploadedFile("run.exe", b"MZ"),
        },
    )
    # then
    assert _field_errors(response, "document") == [
        "Attach the scanned consent as PDF, PNG, JPEG or TIFF."
    ]
    assert snapshot(practice) == before


def test_a_refusal_is_recorded(practice, coordinator, physician, patient, client_for):
    # when
    response = client_for(coordinator).post(
        _url("consent_decline", patient),
        {
            "practitioner": str(physician.public_id),
            "obtained_on": "2025-03-10",
            "method": "verbal",
            "obtained_by": str(coordinator.public_id),
        },
    )
    # then
    assert response.status_code == 302
    with practice_context(practice.pk):
        consent = Consent.objects.for_practice(practice).get(patient=patient)
        patient.refresh_from_db()
    assert (consent.outcome, patient.enrollment_status) == (
        ConsentOutcome.DECLINED,
        EnrollmentStatus.DECLINED,
    )


def test_a_revocation_before_the_consent_is_refused(
    practice, coordinator, physician, patient, client_for, *, snapshot
):
    # given
    consent = consented(practice, actor=coordinator, patient=patient, practitioner=physician)
    before = snapshot(practice)
    # when
    response = client_for(coordinator).post(
        _url("consent_revoke", consent), {"revoked_on": "2025-02-01", "reason": "Changed mind"}
    )
    # then
    assert _field_errors(response, "revoked_on") == [
        "The revocation cannot be dated before the consent (2025-03-01)."
    ]
    assert snapshot(practice) == before


def test_a_consent_is_revoked(practice, coordinator, physician, patient, client_for):
    # given
    consent = consented(practice, actor=coordinator, patient=patient, practitioner=physician)
    # when
    response = client_for(coordinator).post(
        _url("consent_revoke", consent), {"revoked_on": "2025-03-10", "reason": "Moving away"}
    )
    # then
    assert response.status_code == 302
    with practice_context(practice.pk):
        consent.refresh_from_db()
    assert (consent.revoked_on, consent.revocation_reason) == (dt.date(2025, 3, 10), "Moving away")


# --- The scanned consent ----------------------------------------------------------------------


def _consent_with_scan(practice, coordinator, physician, patient):
    with practice_context(practice.pk):
        from patients.services.consent import consent_record  # noqa: PLC0415

        return consent_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            practitioner=physician,
            obtained_on=dt.date(2025, 3, 1),
            method="written",
            document=SimpleUploadedFile("scan.png", b"\x89PNG scan"),
            **EXPLAINED,
        )


def test_the_scanned_consent_downloads_as_an_attachment_and_is_audited(
    practice, coordinator, physician, patient, client_for
):
    # given
    consent = _consent_with_scan(practice, coordinator, physician, patient)
    # when
    response = client_for(physician).get(_url("consent_document", consent))
    # then
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="ccm-consent-2025-03-01.png"'
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == b"\x89PNG scan"
    (row,) = audit_rows(practice, AuditEvent.CONSENT_DOCUMENT_DOWNLOADED)
    assert (row.actor_id, row.patient_public_id) == (physician.pk, patient.public_id)


def test_the_scanned_consent_is_404_to_another_practice(
    practice, coordinator, physician, other_members, patient, *, client_for
):
    # given
    consent = _consent_with_scan(practice, coordinator, physician, patient)
    # when
    response = client_for(other_members[Role.CARE_COORDINATOR]).get(
        _url("consent_document", consent)
    )
    # then
    assert response.status_code == 404
    assert audit_rows(practice, AuditEvent.CONSENT_DOCUMENT_DOWNLOADED) == []


def test_a_consent_without_a_scan_has_no_document(
    practice, coordinator, physician, patient, client_for
):
    # given
    consent = consented(practice, actor=coordinator, patient=patient, practitioner=physician)
    # when
    response = client_for(coordinator).get(_url("consent_document", consent))
    # then
    assert response.status_code == 404


# --- Visits, other services, stays ------------------------------------------------------------


def test_a_visit_is_recorded_and_voided_with_a_reason(
    practice, coordinator, physician, patient, client_for
):
    # given
    client = client_for(coordinator)
    # when
    recorded = client.post(
        _url("visit_record", patient),
        {
            "date": "2025-03-03",
            "code": "99214",
            "practitioner": str(physician.public_id),
            "ccm_discussed": "on",
        },
    )
    with practice_context(practice.pk):
        visit = Visit.objects.for_practice(practice).get(patient=patient)
    refused = client.post(_url("visit_void", visit), {"reason": ""})
    voided = client.post(_url("visit_void", visit), {"reason": "Wrong patient"})
    # then
    assert (recorded.status_code, refused.status_code, voided.status_code) == (302, 200, 302)
    with practice_context(practice.pk):
        visit.refresh_from_db()
    assert (visit.ccm_discussed, visit.void_reason) == (True, "Wrong patient")


def test_a_visit_with_both_kinds_of_practitioner_is_refused(
    practice, coordinator, physician, patient, client_for, *, snapshot
):
    # given
    before = snapshot(practice)
    # when
    response = client_for(coordinator).post(
        _url("visit_record", patient),
        {
            "date": "2025-03-03",
            "code": "99214",
            "practitioner": str(physician.public_id),
            "outside_practitioner_name": "Dr. Elsewhere",
        },
    )
    # then
    assert _field_errors(response, "practitioner") == [
        "Choose a practitioner of the practice or name an outside one, not both."
    ]
    assert snapshot(practice) == before


def test_another_service_is_recorded_with_an_outside_practitioner(
    practice, coordinator, patient, client_for
):
    # when
    response = client_for(coordinator).post(
        _url("other_service_record", patient),
        {"date": "2025-03-02", "code": "g0181", "outside_practitioner_name": "Home Health Co"},
    )
    # then
    assert response.status_code == 302
    with practice_context(practice.pk):
        (service,) = patient.other_services.all()
    assert (service.code, service.outside_practitioner_name) == ("G0181", "Home Health Co")


def test_a_stay_that_ends_before_it_starts_is_refused(
    practice, coordinator, patient, client_for, snapshot
):
    # given
    before = snapshot(practice)
    # when
    response = client_for(coordinator).post(
        _url("facility_stay_record", patient),
        {"kind": "inpatient", "from_date": "2025-03-05", "to_date": "2025-03-01"},
    )
    # then
    assert _field_errors(response, "to_date") == ["The stay cannot end before it starts."]
    assert snapshot(practice) == before


def test_a_stay_is_recorded_and_voided(practice, coordinator, patient, client_for):
    # given
    client = client_for(coordinator)
    client.post(
        _url("facility_stay_record", patient),
        {"kind": "snf_part_a", "from_date": "2025-03-01", "to_date": "2025-03-05"},
    )
    with practice_context(practice.pk):
        stay = FacilityStay.objects.for_practice(practice).get(patient=patient)
    # when
    response = client.post(_url("facility_stay_void", stay), {"reason": "Duplicate"})
    # then
    assert response.status_code == 302
    with practice_context(practice.pk):
        stay.refresh_from_db()
    assert stay.void_reason == "Duplicate"


def test_another_service_is_voided(practice, coordinator, physician, patient, client_for):
    # given
    with practice_context(practice.pk):
        from patients.services.encounter import other_service_record  # noqa: PLC0415

        service = other_service_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            date=dt.date(2025, 3, 1),
            code="99495",
            practitioner=physician,
        )
    # when
    response = client_for(coordinator).post(
        _url("other_service_void", service), {"reason": "Billed by mistake"}
    )
    # then
    assert response.status_code == 302
    with practice_context(practice.pk):
        service.refresh_from_db()
    assert service.is_voided


# --- No input makes a page fail ---------------------------------------------------------------

GARBAGE = [
    "",
    "\x00",
    "x" * 5000,
    "-1",
    "9999-12-31",
    "0001-01-01",
    "2025-02-30",
    "25:61",
    "not-a-uuid",
    "00000000-0000-0000-0000-000000000000",
    "<script>alert(1)</script>",
    "true",
    "1e308",
    "😀",
]


@pytest.fixture
def every_form_url(practice, coordinator, physician, patient):
    """One URL of every form page, with the names of its fields."""
    from patients import forms  # noqa: PLC0415

    with practice_context(practice.pk):
        condition = Condition.objects.for_practice(practice).filter(patient=patient).first()
        visit = visit_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            date=dt.date(2025, 3, 1),
            code="99214",
            practitioner=physician,
        )
        stay = facility_stay_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            kind="inpatient",
            from_date=dt.date(2025, 1, 1),
            to_date=dt.date(2025, 1, 3),
        )
    consent = consented(practice, actor=coordinator, patient=patient, practitioner=physician)
    return [
        (reverse("patient_create"), forms.PatientForm),
        (_url("patient_edit", patient), forms.PatientForm),
        (_url("condition_add", patient), forms.ConditionAddForm),
        (_url("condition_edit", condition), forms.ConditionEditForm),
        (_url("condition_resolve", condition), forms.ConditionResolveForm),
        (_url("condition_attest", condition), forms.AttestForm),
        (_url("outreach_record", patient), forms.OutreachForm),
        (_url("enrollment_change", patient), forms.EnrollmentStatusForm),
        (_url("patient_enroll", patient), forms.EnrollForm),
        (_url("consent_record", patient), forms.ConsentForm),
        (_url("consent_decline", patient), forms.ConsentDeclineForm),
        (_url("consent_revoke", consent), forms.ConsentRevokeForm),
        (_url("visit_record", patient), forms.VisitForm),
        (_url("other_service_record", patient), forms.OtherServiceForm),
        (_url("facility_stay_record", patient), forms.FacilityStayForm),
        (_url("visit_void", visit), forms.VoidForm),
        (_url("facility_stay_void", stay), forms.VoidForm),
        (reverse("panel_import_upload"), forms.PanelImportForm),
        (reverse("encounter_import_upload"), forms.EncounterImportForm),
        (reverse("import_commit"), forms.ImportConfirmForm),
    ]


@pytest.mark.parametrize("value", GARBAGE)
def test_no_garbage_value_in_any_field_of_any_form_is_a_server_error(
    coordinator, client_for, every_form_url, value
):
    # given
    client = client_for(coordinator)
    client.raise_request_exception = False
    failures = []
    for url, form in every_form_url:
        data = dict.fromkeys(form.base_fields, value)
        # when
        response = client.post(url, data)
        # then
        if response.status_code >= 500:
            failures.append(f"{url} {value!r}: {response.status_code}")
    assert failures == []
