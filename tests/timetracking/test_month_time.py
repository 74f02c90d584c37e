"""The worklist's per-patient-month summary: kept equal to the entries by every entry change."""

from __future__ import annotations

import datetime as dt
import importlib
import threading

import pytest
import time_machine
from django.db import connection, transaction

from ccm.permissions import Role
from ccm.tenancy import practice_context
from patients.services.patient import patient_update
from tests.factories import MembershipFactory, PatientFactory, PracticeFactory, UserFactory
from tests.timetracking.conftest import enrolled_patient
from tests.timetracking.helpers import APRIL, MARCH, ny
from timetracking import selectors
from timetracking.models import PatientMonthTime
from timetracking.services.entries import time_entry_edit, time_entry_log, time_entry_void
from timetracking.services.month_time import month_time_rebuild

NOW = ny(2025, 4, 10, 12)


@pytest.fixture(autouse=True)
def _april_10_noon():
    with time_machine.travel(NOW, tick=False):
        yield


def _log(practice, actor, patient, start, minutes, *, activity="care_plan", **fields):
    return time_entry_log(
        practice=practice,
        actor=actor,
        patient=patient,
        start=start,
        end=start + dt.timedelta(minutes=minutes),
        activity=activity,
        **fields,
    )


def _summary(practice, patient):
    return list(
        PatientMonthTime.objects.for_practice(practice)
        .filter(patient=patient)
        .order_by("service_month")
        .values_list("service_month", "staff_minutes", "has_practitioner_time", "last_contact_at")
    )


def _all_summaries(practice):
    return sorted(
        PatientMonthTime.objects.for_practice(practice).values_list(
            "patient_id",
            "service_month",
            "staff_minutes",
            "has_practitioner_time",
            "last_contact_at",
        )
    )


def test_time_of_two_staff_on_one_call_is_summed_up_once(
    practice, coordinator, patient, in_practice
):
    # given a second nurse
    with in_practice(practice):
        nurse = MembershipFactory.create(practice=practice, role=Role.CARE_COORDINATOR)
        # when both log the same call, overlapping by ten minutes
        _log(
            practice,
            coordinator,
            patient,
            ny(2025, 3, 10, 10),
            20,
            activity="patient_communication",
        )
        _log(practice, nurse, patient, ny(2025, 3, 10, 10, 10), 20)
        # then
        assert _summary(practice, patient) == [(MARCH, 30, False, ny(2025, 3, 10, 10, 20))]


def test_an_entry_across_midnight_is_summed_up_in_both_months(
    practice, coordinator, patient, in_practice
):
    # when
    with in_practice(practice):
        _log(practice, coordinator, patient, ny(2025, 3, 31, 23, 50), 30)
        # then
        assert _summary(practice, patient) == [(MARCH, 10, False, None), (APRIL, 20, False, None)]


def test_a_correction_into_another_month_moves_its_minutes(
    practice, coordinator, patient, in_practice
):
    # given
    with in_practice(practice):
        (entry,) = _log(
            practice, coordinator, patient, ny(2025, 3, 20, 9), 20, activity="patient_communication"
        )
        # when
        time_entry_edit(
            practice=practice,
            actor=coordinator,
            entry=entry,
            reason="Wrong day",
            start=ny(2025, 4, 2, 9),
            end=ny(2025, 4, 2, 9, 25),
        )
        # then
        assert _summary(practice, patient) == [
            (MARCH, 0, False, None),
            (APRIL, 25, False, ny(2025, 4, 2, 9, 25)),
        ]


def test_a_voided_entry_no_longer_counts_nor_is_a_contact(
    practice, coordinator, patient, in_practice
):
    # given
    with in_practice(practice):
        _log(practice, coordinator, patient, ny(2025, 3, 3, 9), 15)
        (call,) = _log(
            practice, coordinator, patient, ny(2025, 3, 4, 9), 20, activity="patient_communication"
        )
        # when
        time_entry_void(practice=practice, actor=coordinator, entry=call, reason="Logged twice")
        # then
        assert _summary(practice, patient) == [(MARCH, 15, False, None)]


def test_time_of_another_billed_service_counts_nothing_but_is_a_contact(
    practice, coordinator, patient, in_practice
):
    # when
    with in_practice(practice):
        _log(
            practice,
            coordinator,
            patient,
            ny(2025, 3, 5, 9),
            10,
            activity="patient_communication",
            part_of="visit",
        )
        # then
        assert _summary(practice, patient) == [(MARCH, 0, False, ny(2025, 3, 5, 9, 10))]


def test_practitioner_time_follows_the_current_billing_practitioner(
    *, practice, coordinator, physician, patient, in_practice, manager
):
    # given the billing practitioner logged 25 minutes, a nurse 10 of them too
    with in_practice(practice):
        _log(practice, physician, patient, ny(2025, 3, 6, 9), 25)
        _log(practice, coordinator, patient, ny(2025, 3, 6, 9), 10)
        before = selectors.worklist(
            practice=practice, member=coordinator, service_month=MARCH, now=NOW
        )
        colleague = MembershipFactory.create(
            practice=practice,
            role=Role.PHYSICIAN,
            user=UserFactory(email="second.physician@practice.test"),
        )
        # when the patient changes billing practitioner
        patient_update(
            practice=practice, actor=manager, patient=patient, billing_practitioner=colleague
        )
        after = selectors.worklist(
            practice=practice, member=coordinator, service_month=MARCH, now=NOW
        )
        summary = _summary(practice, patient)
    # then the first physician's time no longer counts: only the nurse's 10 minutes
    assert summary == [(MARCH, 10, True, None)]
    shown = [(row.patient.public_id, row.progress.minutes) for row in before.rows]
    assert shown == [(patient.public_id, 25)]
    shown = [(row.patient.public_id, row.progress.minutes) for row in after.rows]
    assert shown == [(patient.public_id, 10)]


def test_worklist_minutes_and_contacts_equal_those_counted_from_the_entries(
    practice, coordinator, physician, in_practice
):
    # given entries logged, split, corrected and voided for several patients
    with in_practice(practice):
        patients = [
            enrolled_patient(
                practice=practice,
                physician=physician,
                coordinator=coordinator,
                last_name=f"Patient{index}",
            )
            for index in range(4)
        ]
        first, second, third, _fourth = patients
        _log(practice, coordinator, first, ny(2025, 3, 3, 9), 12, activity="patient_communication")
        _log(practice, physician, first, ny(2025, 3, 3, 9, 5), 30)
        (moved,) = _log(practice, coordinator, second, ny(2025, 3, 4, 9), 25)
        time_entry_edit(
            practice=practice,
            actor=coordinator,
            entry=moved,
            reason="Shorter",
            end=ny(2025, 3, 4, 9, 18),
        )
        (voided,) = _log(practice, coordinator, third, ny(2025, 3, 5, 9), 40)
        time_entry_void(practice=practice, actor=coordinator, entry=voided, reason="Wrong patient")
        _log(
            practice, coordinator, third, ny(2025, 2, 27, 9), 5, activity="caregiver_communication"
        )
        _log(practice, coordinator, second, ny(2025, 3, 31, 23, 45), 30)
        counted = selectors.patient_month_minutes(practice=practice, service_month=MARCH)
        # when
        worklist = selectors.worklist(
            practice=practice, member=coordinator, service_month=MARCH, now=NOW
        )
    # then
    assert {row.patient.public_id: row.progress.minutes for row in worklist.rows} == {
        patient.public_id: counted.get(patient.pk, 0) for patient in patients
    }
    assert counted == {first.pk: 35, second.pk: 33}
    assert {row.patient.public_id: row.last_contact_at for row in worklist.rows} == {
        first.public_id: ny(2025, 3, 3, 9, 12),
        second.public_id: None,
        third.public_id: ny(2025, 2, 27, 9, 5),
        patients[3].public_id: None,
    }


def test_rebuild_and_migration_backfill_sum_up_what_the_services_did(
    practice, coordinator, physician, patient, in_practice
):
    # given entries logged through the services, and their summaries
    with in_practice(practice):
        _log(
            practice, coordinator, patient, ny(2025, 3, 3, 9), 12, activity="patient_communication"
        )
        _log(practice, physician, patient, ny(2025, 3, 3, 9, 5), 30)
        _log(practice, coordinator, patient, ny(2025, 3, 31, 23, 50), 20)
        kept = _all_summaries(practice)
        # when the summaries are written again, by the bulk rebuild and by the migration
        _forget_summaries(practice)
        rebuilt = [
            month_time_rebuild(practice=practice, service_month=month) for month in (MARCH, APRIL)
        ]
        after_rebuild = _all_summaries(practice)
        _forget_summaries(practice)
    migration = importlib.import_module("timetracking.migrations.0003_patient_month_time")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(migration.BACKFILL_SQL)
    with in_practice(practice):
        after_backfill = _all_summaries(practice)
    # then
    assert rebuilt == [1, 1]
    assert after_rebuild == kept
    assert after_backfill == kept
    assert len(kept) == 2


def _forget_summaries(practice):
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM timetracking_patientmonthtime WHERE practice_id = %s", [practice.pk]
        )


@pytest.mark.django_db(transaction=True)
def test_two_people_logging_for_one_patient_at_once_are_both_summed_up():
    # given two nurses of one practice and a patient, committed
    practice = PracticeFactory.create(slug="summary-race", timezone="America/New_York")
    with practice_context(practice.pk):
        first, second = (
            MembershipFactory.create(
                practice=practice,
                role=Role.CARE_COORDINATOR,
                user=UserFactory(email=f"nurse{index}@race.test"),
            )
            for index in range(2)
        )
        patient = PatientFactory.create(practice=practice)
    first_logged = threading.Event()
    second_started = threading.Event()
    failures = []

    def log_and_wait() -> None:
        # the first nurse's entry and summary are written, but not yet committed
        try:
            with practice_context(practice.pk):
                _log(practice, first, patient, ny(2025, 3, 10, 9), 20)
                first_logged.set()
                second_started.wait(10)
                threading.Event().wait(0.5)  # the second nurse is now waiting for this commit
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    def log_meanwhile() -> None:
        try:
            first_logged.wait(10)
            second_started.set()
            with practice_context(practice.pk):
                _log(practice, second, patient, ny(2025, 3, 10, 9, 30), 15)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=log_and_wait), threading.Thread(target=log_meanwhile)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert failures == []
    with practice_context(practice.pk):
        assert _summary(practice, patient) == [(MARCH, 35, False, None)]
