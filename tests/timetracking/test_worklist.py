"""The coordinator's worklist: order, filter, constant queries, read audit."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from ccm.audit import AuditEvent
from ccm.models import AuditLog
from ccm.permissions import Role
from tests.factories import ComplexityAttestationFactory, MembershipFactory, PatientFactory
from tests.timetracking.conftest import enrolled_patient
from tests.timetracking.helpers import MARCH, ny
from timetracking import selectors
from timetracking.services.entries import time_entry_log
from timetracking.services.timer import timer_start

NOW = ny(2025, 3, 20, 15)
# The user and MFA (sessions are in the cache: no session query), the practice context (its
# savepoint here, a transaction in production; settings, memberships, practice; restore and
# release on the way out: 6), then the worklist's own: the complex months, the ordered page
# with its patients, the running timer, the audit row, the coordinators (5).
WORKLIST_PAGE_QUERIES = 13


@pytest.fixture(autouse=True)
def _march_20():
    with time_machine.travel(NOW, tick=False):
        yield


def _log(practice, actor, patient, day, minutes, *, activity="care_plan", hour=9):
    start = ny(2025, 3, day, hour)
    return time_entry_log(
        practice=practice,
        actor=actor,
        patient=patient,
        start=start,
        end=start + dt.timedelta(minutes=minutes),
        activity=activity,
    )


def _enrolled(practice, physician, coordinator, last_name):
    return enrolled_patient(
        practice=practice, physician=physician, coordinator=coordinator, last_name=last_name
    )


def _worklist(practice, member, **filters):
    return selectors.worklist(
        practice=practice, member=member, service_month=MARCH, now=NOW, **filters
    )


def test_patients_needing_the_fewest_minutes_to_a_first_threshold_come_first(
    practice, coordinator, physician, in_practice
):
    # given
    with in_practice(practice):
        done = _enrolled(practice, physician, coordinator, "Done")
        between = _enrolled(practice, physician, coordinator, "Between")
        nearly = _enrolled(practice, physician, coordinator, "Nearly")
        _enrolled(practice, physician, coordinator, "Nothing")
        PatientFactory.create(practice=practice, last_name="NotEnrolled")
        _log(practice, coordinator, done, 3, 61)
        _log(practice, coordinator, between, 4, 25)
        _log(practice, coordinator, nearly, 5, 17)
        # when
        worklist = _worklist(practice, coordinator)
    # then
    assert [row.patient.last_name for row in worklist.rows] == [
        "Nearly",
        "Nothing",
        "Between",
        "Done",
    ]
    assert [row.progress.minutes_needed for row in worklist.rows] == [3, 20, 15, 0]
    assert (worklist.total, worklist.days_left) == (4, 12)


def test_among_equals_the_longest_without_contact_comes_first(
    practice, coordinator, physician, in_practice
):
    # given three patients with no counted minutes; two were called (as part of a visit)
    with in_practice(practice):
        recent = _enrolled(practice, physician, coordinator, "Recent")
        older = _enrolled(practice, physician, coordinator, "Older")
        _enrolled(practice, physician, coordinator, "Never")
        for patient, day in ((recent, 18), (older, 2)):
            start = ny(2025, 3, day, 9)
            time_entry_log(
                practice=practice,
                actor=coordinator,
                patient=patient,
                start=start,
                end=start + dt.timedelta(minutes=5),
                activity="patient_communication",
                part_of="visit",
            )
        # when
        worklist = _worklist(practice, coordinator)
    # then
    assert [row.patient.last_name for row in worklist.rows] == ["Never", "Older", "Recent"]
    assert worklist.rows[2].last_contact_at == ny(2025, 3, 18, 9, 5)


def test_complex_patients_are_measured_against_60_90_120(
    practice, coordinator, physician, in_practice
):
    # given
    with in_practice(practice):
        complex_patient = _enrolled(practice, physician, coordinator, "Complex")
        _log(practice, coordinator, complex_patient, 3, 45)
        # when
        worklist = _worklist(practice, coordinator, complex_patient_ids={complex_patient.pk})
    # then
    (row,) = worklist.rows
    assert (row.progress.next_threshold, row.progress.minutes_needed) == (60, 15)


def test_filter_by_coordinator_keeps_the_patients_they_logged_time_for(
    practice, coordinator, physician, in_practice
):
    # given
    with in_practice(practice):
        colleague = MembershipFactory.create(practice=practice, role=Role.CARE_COORDINATOR)
        mine = _enrolled(practice, physician, coordinator, "Mine")
        theirs = _enrolled(practice, physician, coordinator, "Theirs")
        _enrolled(practice, physician, coordinator, "Nobodys")
        _log(practice, coordinator, mine, 3, 5)
        _log(practice, colleague, theirs, 3, 5)
        # when
        worklist = _worklist(practice, coordinator, coordinator=colleague)
    # then
    assert [row.patient.last_name for row in worklist.rows] == ["Theirs"]


def test_the_row_of_the_running_timer_is_marked(practice, coordinator, physician, in_practice):
    # given
    with in_practice(practice):
        timed = _enrolled(practice, physician, coordinator, "Timed")
        _enrolled(practice, physician, coordinator, "Other")
        timer_start(practice=practice, actor=coordinator, patient=timed)
        # when
        worklist = _worklist(practice, coordinator)
    # then
    assert {row.patient.last_name: row.has_running_timer for row in worklist.rows} == {
        "Timed": True,
        "Other": False,
    }


def test_the_worklist_is_paginated(practice, coordinator, physician, in_practice):
    # given
    with in_practice(practice):
        for index in range(5):
            _enrolled(practice, physician, coordinator, f"Patient{index}")
        # when
        second = _worklist(practice, coordinator, page=2, page_size=2)
    # then
    assert [row.patient.last_name for row in second.rows] == ["Patient2", "Patient3"]
    assert (second.total, second.page_count, second.has_previous, second.has_next) == (
        5,
        3,
        True,
        True,
    )


@pytest.mark.parametrize("patient_count", [1, 50])
def test_worklist_page_runs_a_constant_number_of_queries(
    *,
    practice,
    coordinator,
    physician,
    in_practice,
    client_for,
    django_assert_max_num_queries,
    patient_count,
):
    # given
    client = client_for(coordinator)
    with in_practice(practice):
        for index in range(patient_count):
            patient = _enrolled(practice, physician, coordinator, f"Patient{index:02d}")
            _log(
                practice, coordinator, patient, 1 + index % 19, 5 + index % 30, hour=8 + index // 19
            )
            if index % 7 == 0:
                _log(practice, physician, patient, 1 + index % 19, 12, hour=8 + index // 19)
    # when
    with django_assert_max_num_queries(WORKLIST_PAGE_QUERIES):
        response = client.get(reverse("time_worklist"))
    # then
    assert response.status_code == 200
    assert response.content.decode().count("▶ Start") == patient_count


def test_the_worklist_page_writes_one_read_audit_row_with_the_patients_shown(
    practice, coordinator, physician, in_practice, client_for
):
    # given
    client = client_for(coordinator)
    with in_practice(practice):
        first = _enrolled(practice, physician, coordinator, "First")
        second = _enrolled(practice, physician, coordinator, "Second")
        before = AuditLog.objects.count()
    # when
    response = client.get(reverse("time_worklist"))
    # then
    assert response.status_code == 200
    with in_practice(practice):
        assert AuditLog.objects.count() == before + 1
        audit = AuditLog.objects.get(event=AuditEvent.WORKLIST_VIEWED)
    assert audit.actor_id == coordinator.pk
    assert audit.changes == {"patient_ids": [str(first.public_id), str(second.public_id)]}


def test_the_worklist_shows_only_this_practices_patients(
    *, practice, coordinator, physician, other_practice, other_members, in_practice, client_for
):
    # given
    with in_practice(other_practice):
        enrolled_patient(
            practice=other_practice,
            physician=other_members[Role.PHYSICIAN],
            coordinator=other_members[Role.CARE_COORDINATOR],
            last_name="Elsewhere",
        )
    with in_practice(practice):
        _enrolled(practice, physician, coordinator, "Here")
    # when
    body = client_for(coordinator).get(reverse("time_worklist")).content.decode()
    # then
    assert "Here" in body
    assert "Elsewhere" not in body


def test_managers_see_the_worklist_without_timer_buttons(
    *, practice, coordinator, physician, manager, in_practice, client_for
):
    # given
    with in_practice(practice):
        _enrolled(practice, physician, coordinator, "Here")
    # when
    response = client_for(manager).get(reverse("time_worklist"))
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert "Here" in body
    assert "▶ Start" not in body


def test_htmx_reloads_the_table_alone_with_its_start_buttons(
    practice, coordinator, physician, in_practice, client_for
):
    # given a running timer for one of two patients
    client = client_for(coordinator)
    with in_practice(practice):
        timed = _enrolled(practice, physician, coordinator, "Timed")
        _enrolled(practice, physician, coordinator, "Other")
        timer_start(practice=practice, actor=coordinator, patient=timed)
    # when the timer-changed event reloads the table
    response = client.get(reverse("time_worklist"), headers={"HX-Request": "true"})
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('<table class="table worklist">')
    assert 'id="timer"' not in html
    timing = '<span class="badge ok timing">timing</span>'
    assert (html.count("▶ Start"), html.count(timing)) == (1, 1)
    assert html.count('name="next" value="/time/worklist/"') == 1


def test_the_worklist_page_measures_an_attested_complex_month_against_60(
    practice, coordinator, physician, in_practice, client_for
):
    # given two patients with 45 minutes each, one attested complex for March
    client = client_for(coordinator)
    with in_practice(practice):
        complex_patient = _enrolled(practice, physician, coordinator, "Complex")
        plain = _enrolled(practice, physician, coordinator, "Plain")
        _log(practice, coordinator, complex_patient, 3, 45)
        _log(practice, coordinator, plain, 4, 45)
        ComplexityAttestationFactory.create(
            practice=practice, patient=complex_patient, service_month=MARCH, attested_by=physician
        )
    # when
    response = client.get(reverse("time_worklist"))
    # then the complex month needs 15 more minutes to 60, the other 15 to 60 as its third unit
    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>45</strong> / 60 min" in html
    assert html.count('<strong>15 min</strong> <span class="muted small">to 60</span>') == 2
    rows = html.split("<tr")[2:]
    assert "Complex" in rows[0]
    assert 'aria-valuemax="60"' in rows[0]
    assert 'aria-valuemax="60"' in rows[1]


def test_a_voided_complexity_attestation_measures_the_month_as_non_complex_again(
    practice, coordinator, physician, in_practice, client_for
):
    # given a complex attestation voided since
    client = client_for(coordinator)
    with in_practice(practice):
        patient = _enrolled(practice, physician, coordinator, "Voided")
        _log(practice, coordinator, patient, 3, 25)
        ComplexityAttestationFactory.create(
            practice=practice,
            patient=patient,
            service_month=MARCH,
            attested_by=physician,
            voided_at=NOW,
            voided_by=physician,
            void_reason="Attested for the wrong month",
        )
    # when
    response = client.get(reverse("time_worklist"))
    # then
    assert "<strong>25</strong> / 40 min" in response.content.decode()


def test_each_row_names_the_patient_mrn_and_billing_practitioner(
    practice, coordinator, physician, in_practice, client_for
):
    # given
    client = client_for(coordinator)
    with in_practice(practice):
        patient = _enrolled(practice, physician, coordinator, "Okafor")
        physician.user.full_name = "Dr. Ada Lindqvist"
        physician.user.save(update_fields=["full_name"])
    # when
    response = client.get(reverse("time_worklist"))
    # then
    html = response.content.decode()
    assert f"Okafor, {patient.first_name}</a>" in html
    assert f"MRN {patient.mrn}" in html
    assert "<td>Dr. Ada Lindqvist</td>" in html
    assert f'href="{reverse("time_patient", args=[patient.public_id])}"' in html


def _htmx_post(client, url, data):
    return client.post(url, data, headers={"HX-Request": "true"})


def test_a_start_on_the_worklist_marks_its_row_in_place_without_reloading_the_list(
    practice, coordinator, physician, in_practice, client_for
):
    # given
    client = client_for(coordinator)
    with in_practice(practice):
        patient = _enrolled(practice, physician, coordinator, "Started")
    # when the row's start button posts
    response = _htmx_post(
        client, reverse("time_timer_start", args=[patient.public_id]), {"next": "/time/worklist/"}
    )
    # then the timer panel, and the row's timer cell swapped out of band; nothing reloads
    html = response.content.decode()
    assert response.status_code == 200
    assert f'hx-swap-oob="innerHTML:#worklist-timer-{patient.public_id}"' in html
    assert '<span class="badge ok timing">timing</span>' in html
    assert not response.has_header("HX-Trigger")


def test_a_stop_on_the_worklist_swaps_its_row_with_the_new_minutes(
    practice, coordinator, physician, in_practice, client_for
):
    # given 10 minutes logged, and a timer started 12 minutes ago
    client = client_for(coordinator)
    with in_practice(practice):
        patient = _enrolled(practice, physician, coordinator, "Stopped")
        _log(practice, coordinator, patient, 3, 10)
        with time_machine.travel(NOW - dt.timedelta(minutes=12), tick=False):
            timer = timer_start(practice=practice, actor=coordinator, patient=patient)
    # when the timer panel stops it
    response = _htmx_post(
        client,
        reverse("time_timer_stop", args=[timer.public_id]),
        {"activity": "care_plan", "next": "/time/worklist/?page=1"},
    )
    # then the row is swapped in place: 22 minutes, and its start button back
    html = response.content.decode()
    row = html[html.index("<template>") :]
    assert "Logged 12 min" in html
    assert f'<tr id="worklist-row-{patient.public_id}" hx-swap-oob="true">' in row
    assert "<strong>22</strong> / 40 min" in row
    assert "▶ Start" in row
    assert 'name="next" value="/time/worklist/?page=1"' in row
    assert not response.has_header("HX-Trigger")


def test_a_start_from_a_patient_page_reloads_what_depends_on_the_timer(
    practice, coordinator, physician, in_practice, client_for
):
    # given
    client = client_for(coordinator)
    with in_practice(practice):
        patient = _enrolled(practice, physician, coordinator, "Paged")
    page = reverse("time_patient", args=[patient.public_id])
    # when
    response = _htmx_post(
        client, reverse("time_timer_start", args=[patient.public_id]), {"next": page}
    )
    # then no out-of-band row; the page's month reloads on the event
    assert "hx-swap-oob" not in response.content.decode()
    assert response["HX-Trigger"] == "timer-changed"
