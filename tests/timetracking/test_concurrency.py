"""50 simultaneous timer stops and entry posts by one person, on the real PostgreSQL.

Each thread is a request with its own database connection, as under gunicorn. The data the
threads race on is committed first (inside practice_context), so they all see it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections import Counter

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ccm.audit import AuditEvent
from ccm.models import AuditLog
from ccm.permissions import Role
from ccm.tenancy import practice_context
from tests.factories import MembershipFactory, PatientFactory, PracticeFactory, UserFactory
from tests.timetracking.helpers import ny
from timetracking.models import TimeEntry, Timer, TimerOutcome
from timetracking.services.timer import timer_start

THREADS = 50
STOPPERS = 25
SLOT = dt.timedelta(minutes=10)


def _race(requests: list) -> list[int]:
    """Run every request at once, each in its own thread and connection; their statuses."""
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = [0] * len(requests)

    def run(index: int) -> None:
        try:
            barrier.wait()
            statuses[index] = requests[index]().status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_stops_and_posts_lose_nothing_and_accept_no_overlap():
    # given a coordinator with a running timer, committed
    practice = PracticeFactory.create(slug="race", timezone="America/New_York")
    with practice_context(practice.pk):
        coordinator = MembershipFactory.create(
            practice=practice, role=Role.CARE_COORDINATOR, user=UserFactory(email="race@x.test")
        )
        patient = PatientFactory.create(practice=practice)
        with time_machine.travel(ny(2025, 3, 10, 14, 0), tick=False):
            timer = timer_start(practice=practice, actor=coordinator, patient=patient)
    TOTP.activate(coordinator.user, generate_totp_secret())
    token = Token.objects.create(user=coordinator.user)

    def client() -> APIClient:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return api

    def stop():
        return client().post("/api/v1/timer/stop/", {"activity": "care_plan"}, format="json")

    def post(slot: int):
        # two threads per morning slot: one of each pair must win, the other overlaps it
        start = ny(2025, 3, 10, 9) + SLOT * slot
        body = {
            "patient": str(patient.public_id),
            "start": start.isoformat(),
            "end": (start + SLOT).isoformat(),
            "activity": "record_review",
        }
        return lambda: client().post("/api/v1/time-entries/", body, format="json")

    requests = [stop] * STOPPERS + [post(index // 2) for index in range(THREADS - STOPPERS)]
    slots = len({index // 2 for index in range(THREADS - STOPPERS)})
    # when
    with time_machine.travel(ny(2025, 3, 10, 14, 30), tick=False):
        statuses = _race(requests)
    # then no 500, one stop won, one post per slot won
    stop_statuses, post_statuses = Counter(statuses[:STOPPERS]), Counter(statuses[STOPPERS:])
    assert set(stop_statuses) <= {201, 404, 409}
    assert stop_statuses[201] == 1
    assert post_statuses == Counter({201: slots, 409: THREADS - STOPPERS - slots})
    with practice_context(practice.pk):
        entries = list(TimeEntry.objects.order_by("period"))
        stopped = Timer.objects.select_related("entry").get(pk=timer.pk)
        created_audits = AuditLog.objects.filter(event=AuditEvent.TIME_ENTRY_CREATED).count()
    assert len(entries) == slots + 1
    assert created_audits == slots + 1
    assert all(a.end <= b.start for a, b in itertools.pairwise(entries))
    assert (stopped.outcome, stopped.entry.minutes) == (TimerOutcome.LOGGED, 30)


@pytest.mark.django_db(transaction=True)
def test_concurrent_starts_leave_exactly_one_running_timer():
    # given
    practice = PracticeFactory.create(slug="race-start", timezone="America/New_York")
    with practice_context(practice.pk):
        coordinator = MembershipFactory.create(
            practice=practice, role=Role.CARE_COORDINATOR, user=UserFactory(email="start@x.test")
        )
        patients = PatientFactory.create_batch(5, practice=practice)
    TOTP.activate(coordinator.user, generate_totp_secret())
    token = Token.objects.create(user=coordinator.user)

    def start(patient):
        def request():
            api = APIClient()
            api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
            return api.post(
                "/api/v1/timer/start/", {"patient": str(patient.public_id)}, format="json"
            )

        return request

    # when
    statuses = _race([start(patients[index % 5]) for index in range(20)])
    # then
    assert Counter(statuses) == Counter({201: 1, 409: 19})
    with practice_context(practice.pk):
        assert Timer.objects.filter(stopped_at__isnull=True).count() == 1
