"""Patients for the time-tracking tests, enrolled through the real patients services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

from ccm.models import Membership, Practice
from patients.models import ConsentMethod, Patient
from patients.services.consent import consent_record
from patients.services.enrollment import patient_enroll
from tests.factories import PatientFactory

InPractice = Callable[[Practice], AbstractContextManager[None]]


def enrolled_patient(
    *,
    practice: Practice,
    physician: Membership,
    coordinator: Membership,
    consented_on: dt.date = dt.date(2025, 1, 6),
    **fields: object,
) -> Patient:
    """A patient consented to ``physician`` and enrolled (call inside the practice context)."""
    patient = PatientFactory.create(practice=practice, **fields)
    consent_record(
        practice=practice,
        actor=coordinator,
        patient=patient,
        practitioner=physician,
        obtained_on=consented_on,
        method=ConsentMethod.VERBAL,
        explained_cost_sharing=True,
        explained_one_practitioner=True,
        explained_stop_anytime=True,
    )
    patient_enroll(practice=practice, actor=coordinator, patient=patient)
    patient.refresh_from_db()
    return patient


@pytest.fixture
def patient(
    practice: Practice, physician: Membership, coordinator: Membership, in_practice: InPractice
) -> Patient:
    with in_practice(practice):
        return enrolled_patient(
            practice=practice,
            physician=physician,
            coordinator=coordinator,
            first_name="Ruth",
            last_name="Alvarez",
        )


@pytest.fixture
def other_patient(
    other_practice: Practice,
    other_members: dict[object, Membership],
    in_practice: InPractice,
) -> Patient:
    with in_practice(other_practice):
        return PatientFactory.create(
            practice=other_practice, first_name="Hal", last_name="Other", mrn="OTHER1"
        )
