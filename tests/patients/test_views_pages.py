"""The patients pages that read: the panel list, the eligibility finder, a patient's page.

Every page that shows patient data writes one read-audit row with the ids it showed; the lists
run the same number of queries at 1 and at 50 patients.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from ccm.audit import AuditEvent
from ccm.permissions import Role
from ccm.tenancy import practice_context
from patients.models import EnrollmentStatus
from patients.services.encounter import visit_record
from patients.services.enrollment import outreach_record
from patients.services.patient import patient_update
from tests.factories import MembershipFactory, PatientFactory, UserFactory
from tests.patients.web import audit_rows, consented, eligible_patient, ids, shown_ids

LIST = reverse("patient_list")
ELIGIBILITY = reverse("patient_eligibility")
# Middleware (session, user, MFA, memberships, two practice contexts with their savepoints:
# 17), then the page's own: count, page, status counts, practitioner choices, audit row (list);
# count, page, qualifying conditions, practitioner choices, audit row (eligibility).
LIST_QUERIES = 24
ELIGIBILITY_QUERIES = 24


def _patients(practice, count, **fields):
    with practice_context(practice.pk):
        return [PatientFactory.create(practice=practice, **fields) for _ in range(count)]


# --- The panel list ---------------------------------------------------------------------------


def test_patient_list_shows_the_columns_and_audits_the_patients_shown(
    practice, coordinator, physician, client_for
):
    # given an eligible, consented patient with a visit, and one without anything
    patient = eligible_patient(
        practice,
        by=coordinator,
        first_name="Harold",
        last_name="Whitaker",
        mrn="S-1001",
        date_of_birth=dt.date(1946, 3, 12),
        billing_practitioner=physician,
    )
    consented(practice, actor=coordinator, patient=patient, practitioner=physician)
    with practice_context(practice.pk):
        visit_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            date=dt.date(2025, 2, 3),
            code="99214",
            practitioner=physician,
        )
    (other,) = _patients(practice, 1, first_name="Zelda", last_name="Young", mrn="Z-9")
    # when
    response = client_for(coordinator).get(LIST)
    # then
    assert response.status_code == 200
    rows = list(response.context["page"])
    assert rows == [patient, other]
    assert (rows[0].chronic_condition_count, rows[0].has_current_consent) == (2, True)
    assert rows[0].last_visit_on == dt.date(2025, 2, 3)
    html = response.content.decode()
    assert "S-1001" in html
    assert "Mar 12, 1946 (79)" in html
    assert "Feb 3, 2025" in html
    assert physician.display_name in html
    (row,) = audit_rows(practice, AuditEvent.PATIENT_LIST_VIEWED)
    assert (row.actor_id, shown_ids(row)) == (coordinator.pk, ids(patient, other))


def test_patient_list_searches_by_name_or_mrn(practice, coordinator, client_for):
    # given
    harold = _patients(practice, 1, first_name="Harold", last_name="Whitaker", mrn="S-1001")[0]
    dolores = _patients(practice, 1, first_name="Dolores", last_name="Alvarez", mrn="S-1002")[0]
    client = client_for(coordinator)
    # when
    by_name = client.get(LIST, {"search": "whit"})
    by_mrn = client.get(LIST, {"search": "S-1002"})
    by_full_name = client.get(LIST, {"search": "Dolores Alvarez"})
    # then
    assert list(by_name.context["page"]) == [harold]
    assert list(by_mrn.context["page"]) == [dolores]
    assert list(by_full_name.context["page"]) == [dolores]


def test_patient_list_filters_by_status_and_practitioner(
    practice, coordinator, physician, client_for
):
    # given
    mine = _patients(practice, 1, billing_practitioner=physician)[0]
    declined = _patients(practice, 1, enrollment_status=EnrollmentStatus.DECLINED)[0]
    client = client_for(coordinator)
    # when
    by_practitioner = client.get(LIST, {"practitioner": str(physician.public_id)})
    by_status = client.get(LIST, {"status": "declined"})
    # then
    assert list(by_practitioner.context["page"]) == [mine]
    assert list(by_status.context["page"]) == [declined]


def test_patient_list_counts_patients_per_status(practice, coordinator, client_for):
    # given
    _patients(practice, 2)
    _patients(practice, 1, enrollment_status=EnrollmentStatus.ENROLLED)
    # when
    response = client_for(coordinator).get(LIST)
    # then
    counts = {status: count for status, _, count in response.context["status_counts"]}
    assert (counts["unreviewed"], counts["enrolled"], counts["declined"]) == (2, 1, 0)
    assert response.context["total"] == 3
    assert "<strong>2</strong><span>Not reviewed</span>" in response.content.decode()


def test_patient_list_shows_fifty_a_page(practice, coordinator, client_for):
    # given
    _patients(practice, 51)
    client = client_for(coordinator)
    # when
    first = client.get(LIST)
    second = client.get(LIST, {"page": "2"})
    # then
    assert len(first.context["page"]) == 50
    assert len(second.context["page"]) == 1
    assert "Page 1 of 2" in first.content.decode()
    assert len(shown_ids(audit_rows(practice, AuditEvent.PATIENT_LIST_VIEWED)[0])) == 50


def test_patient_list_answers_htmx_with_the_table_only(practice, coordinator, client_for):
    # given
    _patients(practice, 1)
    # when
    response = client_for(coordinator).get(LIST, {"search": "x"}, HTTP_HX_REQUEST="true")
    # then
    assert response.templates[0].name == "patients/_patient_table.html"
    assert "<html" not in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"page": "abc"},
        {"page": "-3"},
        {"page": "99999999999999999999"},
        {"status": "nonsense"},
        {"practitioner": "not-a-uuid"},
        {"practitioner": "00000000-0000-0000-0000-000000000000"},
        {"order": "DROP TABLE"},
        {"search": "a\x00b"},
        {"search": "x" * 5000},
    ],
)
def test_patient_list_ignores_garbage_filters(practice, coordinator, client_for, query):
    # given
    patient = _patients(practice, 1)[0]
    # when
    response = client_for(coordinator).get(LIST, query)
    # then
    assert response.status_code == 200
    assert list(response.context["page"]) in ([patient], [])


@pytest.mark.parametrize("count", [1, 50])
def test_patient_list_runs_a_constant_number_of_queries(
    practice, coordinator, physician, client_for, django_assert_max_num_queries, *, count
):
    # given patients with conditions, consent and practitioners
    for _ in range(count):
        patient = eligible_patient(practice, by=coordinator, billing_practitioner=physician)
    consented(practice, actor=coordinator, patient=patient, practitioner=physician)
    client = client_for(coordinator)
    # when / then
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(LIST)
    assert len(response.context["page"]) == count


# --- The eligibility finder -------------------------------------------------------------------


def test_eligibility_lists_candidates_with_why_they_qualify(
    practice, coordinator, physician, client_for
):
    # given one candidate, one with a single chronic condition, and one already enrolled
    candidate = eligible_patient(
        practice, by=coordinator, codes=("E11.9", "I50.22"), last_name="Adams"
    )
    eligible_patient(practice, by=coordinator, codes=("I10",), last_name="Baker")
    eligible_patient(
        practice, by=coordinator, last_name="Cole", enrollment_status=EnrollmentStatus.ENROLLED
    )
    # when
    response = client_for(coordinator).get(ELIGIBILITY)
    # then
    assert list(response.context["page"]) == [candidate]
    html = response.content.decode()
    assert "E11.9" in html
    assert "I50.22" in html
    assert "Diabetes" in html
    assert "Heart failure" in html
    assert "Record outreach" in html
    (row,) = audit_rows(practice, AuditEvent.ELIGIBILITY_VIEWED)
    assert shown_ids(row) == ids(candidate)


def test_eligibility_filters_by_category_practitioner_and_last_visit(
    practice, coordinator, physician, client_for
):
    # given
    heart = eligible_patient(
        practice, by=coordinator, codes=("I50.22", "I10"), billing_practitioner=physician
    )
    sugar = eligible_patient(practice, by=coordinator, codes=("E11.9", "N18.30"))
    with practice_context(practice.pk):
        visit_record(
            practice=practice,
            actor=coordinator,
            patient=sugar,
            date=dt.date(2025, 3, 1),
            code="99214",
            practitioner=physician,
        )
    client = client_for(coordinator)
    # when
    by_category = client.get(ELIGIBILITY, {"category": "diabetes"})
    by_practitioner = client.get(ELIGIBILITY, {"practitioner": str(physician.public_id)})
    seen_since = client.get(ELIGIBILITY, {"last_visit_after": "2025-02-01"})
    not_seen = client.get(ELIGIBILITY, {"last_visit_before": "2025-02-01"})
    # then
    assert list(by_category.context["page"]) == [sugar]
    assert list(by_practitioner.context["page"]) == [heart]
    assert list(seen_since.context["page"]) == [sugar]
    assert list(not_seen.context["page"]) == [heart]


def test_eligibility_hides_outreach_from_physicians(practice, coordinator, physician, client_for):
    # given
    eligible_patient(practice, by=coordinator)
    # when
    response = client_for(physician).get(ELIGIBILITY)
    # then
    assert response.status_code == 200
    assert "Record outreach" not in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"last_visit_before": "yesterday"},
        {"last_visit_after": "0000-00-00"},
        {"category": "'; --"},
        {"order": "-x"},
        {"practitioner": "1"},
    ],
)
def test_eligibility_ignores_garbage_filters(practice, coordinator, client_for, query):
    # given
    candidate = eligible_patient(practice, by=coordinator)
    # when
    response = client_for(coordinator).get(ELIGIBILITY, query)
    # then
    assert response.status_code == 200
    assert list(response.context["page"]) in ([candidate], [])


@pytest.mark.parametrize("count", [1, 50])
def test_eligibility_runs_a_constant_number_of_queries(
    practice, coordinator, physician, client_for, django_assert_max_num_queries, *, count
):
    # given
    for _ in range(count):
        eligible_patient(practice, by=coordinator, billing_practitioner=physician)
    client = client_for(coordinator)
    # when / then
    with django_assert_max_num_queries(ELIGIBILITY_QUERIES):
        response = client.get(ELIGIBILITY)
    assert len(response.context["page"]) == count


# --- A patient's page -------------------------------------------------------------------------


def test_patient_page_shows_the_record_and_audits_the_read(
    practice, coordinator, physician, client_for
):
    # given
    patient = eligible_patient(
        practice,
        by=coordinator,
        billing_practitioner=physician,
        mbi="1EG4TE5MK73",
        caregiver_name="Ruth Whitaker",
        caregiver_relationship="spouse",
    )
    consented(practice, actor=coordinator, patient=patient, practitioner=physician)
    with practice_context(practice.pk):
        outreach_record(
            practice=practice,
            actor=coordinator,
            patient=patient,
            attempted_on=dt.date(2025, 2, 20),
            channel="phone",
            outcome="reached",
        )
    # when
    response = client_for(coordinator).get(reverse("patient_detail", args=[patient.public_id]))
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "*******MK73" in html
    assert "1EG4TE5MK73" not in html
    assert "Ruth Whitaker (spouse)" in html
    assert "Part B fee-for-service" in html
    assert "Feb 20, 2025" in html
    assert response.context["detail"].current_consent is not None
    assert "Enroll in CCM" in html
    (row,) = audit_rows(practice, AuditEvent.PATIENT_VIEWED)
    assert (row.actor_id, row.patient_public_id) == (coordinator.pk, patient.public_id)


def test_patient_page_says_prominently_that_a_new_practitioner_needs_a_new_consent(
    practice, coordinator, physician, client_for
):
    # given a consent to one physician, then another physician billing
    patient = eligible_patient(practice, by=coordinator, billing_practitioner=physician)
    consented(practice, actor=coordinator, patient=patient, practitioner=physician)
    with practice_context(practice.pk):
        second = MembershipFactory.create(
            practice=practice,
            role=Role.PHYSICIAN,
            npi="1245319599",
            user=UserFactory(full_name="Dr. Second"),
        )
        patient_update(
            practice=practice, actor=coordinator, patient=patient, billing_practitioner=second
        )
    # when
    response = client_for(coordinator).get(reverse("patient_detail", args=[patient.public_id]))
    # then
    html = response.content.decode()
    assert 'class="callout warn renewal"' in html
    assert "a new consent to" in html
    assert "(R-CONS-4)" in html


def test_patient_page_shows_chronic_suggestions_and_attest_buttons_to_clinicians(
    practice, coordinator, manager, client_for
):
    # given a suggested but unattested chronic condition
    patient = eligible_patient(practice, by=coordinator, codes=("I10",))
    with practice_context(practice.pk):
        from patients.services.condition import condition_add  # noqa: PLC0415

        condition_add(practice=practice, actor=manager, patient=patient, code="E11.9")
    url = reverse("patient_detail", args=[patient.public_id])
    # when
    as_coordinator = client_for(coordinator).get(url).content.decode()
    as_manager = client_for(manager).get(url).content.decode()
    # then
    assert "suggested: Diabetes" in as_coordinator
    assert "Attest chronic" in as_coordinator
    assert "Attest chronic" not in as_manager


def test_physicians_see_no_patient_edit_button(practice, coordinator, physician, client_for):
    # given
    patient = eligible_patient(practice, by=coordinator)
    url = reverse("patient_detail", args=[patient.public_id])
    # when
    html = client_for(physician).get(url).content.decode()
    # then
    assert reverse("patient_edit", args=[patient.public_id]) not in html
    assert reverse("condition_add", args=[patient.public_id]) in html


def test_unknown_patient_is_404_and_audits_nothing(practice, coordinator, client_for):
    # given
    url = reverse("patient_detail", args=["00000000-0000-0000-0000-000000000001"])
    # when
    response = client_for(coordinator).get(url)
    # then
    assert response.status_code == 404
    assert audit_rows(practice, AuditEvent.PATIENT_VIEWED) == []


def test_a_form_page_is_a_read_of_the_patient(practice, coordinator, client_for):
    # given
    patient = eligible_patient(practice, by=coordinator)
    # when
    response = client_for(coordinator).get(reverse("outreach_record", args=[patient.public_id]))
    # then
    assert response.status_code == 200
    (row,) = audit_rows(practice, AuditEvent.PATIENT_VIEWED)
    assert row.patient_public_id == patient.public_id


def test_the_layout_links_the_patients_pages(practice, coordinator, physician, client_for):
    # when
    coordinator_nav = client_for(coordinator).get(LIST).context["nav_items"]
    # then
    labels = [item["label"] for item in coordinator_nav]
    assert {"Patients", "Eligibility", "Import"} <= set(labels)
    assert next(item for item in coordinator_nav if item["label"] == "Patients")["active"]
