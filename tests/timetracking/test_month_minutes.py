"""Counted minutes per patient-month: one aggregate query over merged intervals."""

from __future__ import annotations

import pytest
import time_machine

from ccm.permissions import Role
from tests.factories import MembershipFactory, PatientFactory
from tests.timetracking.helpers import MARCH, ny
from timetracking import selectors
from timetracking.services.entries import time_entry_log, time_entry_void


@pytest.fixture(autouse=True)
def _april_10_noon():
    with time_machine.travel(ny(2025, 4, 10, 12), tick=False):
        yield


def _log(practice, actor, patient, start, end, **fields):
    return time_entry_log(
        practice=practice,
        actor=actor,
        patient=patient,
        start=start,
        end=end,
        activity="coordination",
        **fields,
    )


def test_overlapping_time_of_two_people_counts_once(
    practice, coordinator, physician, patient, in_practice
):
    # given a nurse 10:00-10:20 and the billing practitioner 10:10-10:30 on the same call
    with in_practice(practice):
        _log(practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 20))
        _log(practice, physician, patient, ny(2025, 3, 10, 10, 10), ny(2025, 3, 10, 10, 30))
        # when
        minutes = selectors.patient_month_minutes(practice=practice, service_month=MARCH)
    # then
    assert minutes == {patient.pk: 30}


def test_seconds_are_summed_before_flooring_to_minutes(practice, coordinator, patient, in_practice):
    # given 10 min 40 s and 9 min 30 s: 20 min 10 s in all
    with in_practice(practice):
        _log(
            practice, coordinator, patient, ny(2025, 3, 10, 10), ny(2025, 3, 10, 10, 10, second=40)
        )
        _log(practice, coordinator, patient, ny(2025, 3, 11, 10), ny(2025, 3, 11, 10, 9, second=30))
        # when
        minutes = selectors.patient_month_minutes(practice=practice, service_month=MARCH)
    # then
    assert minutes == {patient.pk: 20}


def test_voided_other_service_non_clinical_and_other_practitioner_time_do_not_count(
    practice, coordinator, patient, in_practice
):
    # given
    with in_practice(practice):
        scheduler = MembershipFactory.create(
            practice=practice, role=Role.CARE_COORDINATOR, credential=""
        )
        colleague = MembershipFactory.create(practice=practice, role=Role.PHYSICIAN)
        (voided,) = _log(practice, coordinator, patient, ny(2025, 3, 3, 9), ny(2025, 3, 3, 9, 30))
        time_entry_void(practice=practice, actor=coordinator, entry=voided, reason="Twice")
        _log(
            practice,
            coordinator,
            patient,
            ny(2025, 3, 4, 9),
            ny(2025, 3, 4, 9, 30),
            part_of="99495",
        )
        _log(
            practice,
            coordinator,
            patient,
            ny(2025, 3, 5, 9),
            ny(2025, 3, 5, 9, 30),
            part_of="visit",
        )
        _log(practice, scheduler, patient, ny(2025, 3, 6, 9), ny(2025, 3, 6, 9, 30))
        _log(practice, colleague, patient, ny(2025, 3, 7, 9), ny(2025, 3, 7, 9, 30))
        _log(practice, coordinator, patient, ny(2025, 3, 8, 9), ny(2025, 3, 8, 9, 7))
        # when
        minutes = selectors.patient_month_minutes(practice=practice, service_month=MARCH)
    # then only the coordinator's 7 counted minutes
    assert minutes == {patient.pk: 7}


def test_every_patient_of_the_month_in_one_query(
    practice, coordinator, patient, in_practice, django_assert_num_queries
):
    # given
    with in_practice(practice):
        others = PatientFactory.create_batch(3, practice=practice)
        for day, other in enumerate(others, start=10):
            _log(practice, coordinator, other, ny(2025, 3, day, 9), ny(2025, 3, day, 9, day))
        _log(practice, coordinator, patient, ny(2025, 4, 2, 9), ny(2025, 4, 2, 9, 30))
        # when
        with django_assert_num_queries(1):
            minutes = selectors.patient_month_minutes(practice=practice, service_month=MARCH)
    # then April's time is not March's
    assert minutes == {others[0].pk: 10, others[1].pk: 11, others[2].pk: 12}


def test_other_practices_time_is_not_counted(
    *, practice, other_practice, coordinator, other_members, patient, other_patient, in_practice
):
    # given
    with in_practice(other_practice):
        _log(
            other_practice,
            other_members[Role.CARE_COORDINATOR],
            other_patient,
            ny(2025, 3, 10, 10),
            ny(2025, 3, 10, 11),
        )
    with in_practice(practice):
        # when
        minutes = selectors.patient_month_minutes(practice=practice, service_month=MARCH)
    # then
    assert minutes == {}


@pytest.mark.parametrize(
    ("minutes", "is_complex", "next_threshold", "needed", "percent"),
    [
        (0, False, 20, 20, 0),
        (19, False, 20, 1, 95),
        (20, False, 40, 20, 50),
        (59, False, 60, 1, 98),
        (60, False, None, 0, 100),
        (45, True, 60, 15, 75),
        (60, True, 90, 30, 66),
        (125, True, None, 0, 100),
    ],
)
def test_progress_to_the_next_threshold(minutes, is_complex, next_threshold, needed, percent):
    # when
    progress = selectors.month_progress(minutes=minutes, is_complex=is_complex)
    # then
    assert (progress.next_threshold, progress.minutes_needed, progress.percent) == (
        next_threshold,
        needed,
        percent,
    )
