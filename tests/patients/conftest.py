"""Patients-domain fixtures: a frozen clock, and a snapshot of every patients table + audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
import time_machine

from ccm.models import AuditLog, Practice
from ccm.tenancy import practice_context
from patients.models import (
    Condition,
    Consent,
    EnrollmentEvent,
    FacilityStay,
    OtherService,
    OutreachAttempt,
    Patient,
    Visit,
)

# 10:00 in New York (the ``practice`` fixture's zone) on Saturday 15 March 2025.
NOW = dt.datetime(2025, 3, 15, 14, 0, tzinfo=dt.UTC)
TODAY = dt.date(2025, 3, 15)

PATIENT_MODELS = (
    Patient,
    Condition,
    OutreachAttempt,
    EnrollmentEvent,
    Consent,
    Visit,
    OtherService,
    FacilityStay,
)


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def snapshot() -> Callable[[Practice], dict[str, list[tuple[object, ...]]]]:
    """Every row of every patients table and of the audit log, for "nothing changed" checks."""

    def take(practice: Practice) -> dict[str, list[tuple[object, ...]]]:
        with practice_context(practice.pk):
            state = {
                model.__name__: list(
                    model.objects.for_practice(practice).order_by("pk").values_list()
                )
                for model in PATIENT_MODELS
            }
            state["AuditLog"] = list(
                AuditLog.objects.for_practice(practice).order_by("pk").values_list("pk")
            )
        return state

    return take
