"""Crash safety: a worker killed in the middle of a month close, on a real Redis broker.

The first worker runs the close with the test-only pause (``CCM_BILLING_CLOSE_TEST_PAUSE_SECONDS``)
that holds the transaction open after the claims are written and before the commit. The test
kills it with SIGKILL there. Its message is still unacknowledged (``acks_late``), so once the
short ``visibility_timeout`` has passed a second worker gets it and runs the close again. The
month must end closed once, with exactly the claims the engine decides, and no duplicate.

Both workers use a spare Redis database and the test database (``transaction=True``: the
workers see what the test committed).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings

from billing.models import BillingMonth, BillingMonthState, Claim, NotBillable
from billing.tasks import billing_month_close_task
from ccm.audit import AuditEvent
from ccm.celery import app
from ccm.models import AuditLog, Membership, Practice
from ccm.permissions import Role
from ccm.tenancy import practice_context
from tests.billing.builders import FEBRUARY, enrolled_patient, log_minutes
from timetracking.models import MonthLock

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

SPARE_REDIS_DB = 13
VISIBILITY_TIMEOUT = 4
PAUSE_SECONDS = 120
ROOT = Path(__file__).resolve().parents[2]


def _broker_url() -> str:
    base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
    return f"{base}/{SPARE_REDIS_DB}"


def _database_url() -> str:
    db = settings.DATABASES["default"]
    return (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


class Worker:
    """A Celery worker process (solo pool) in its own session, its output in a log file."""

    def __init__(self, name: str, log: Path, media: Path, pause: int) -> None:
        self.log = log
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ccm.settings.test",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": _broker_url(),
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
            "CCM_BILLING_CLOSE_TEST_PAUSE_SECONDS": str(pause),
            "MEDIA_ROOT": str(media),
            "PYTHONUNBUFFERED": "1",
        }
        self.handle = log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "ccm",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname={name}@%h",
            ],
            cwd=ROOT,
            env=environment,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"worker never logged {text!r}:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the worker's whole session: no cleanup, no acknowledgement."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.handle.close()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[Worker]]:
    broker = redis.Redis.from_url(_broker_url())
    broker.flushdb()
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.kill()
    broker.flushdb()


def _month(practice: Practice) -> BillingMonth | None:
    with practice_context(practice.pk):
        return BillingMonth.objects.for_practice(practice).filter(service_month=FEBRUARY).first()


def _claims(practice: Practice) -> list[tuple[str, int, tuple[tuple[str, int], ...]]]:
    with practice_context(practice.pk):
        return [
            (
                claim.patient.mrn,
                claim.generation,
                tuple((line.code, line.units) for line in claim.lines.order_by("position")),
            )
            for claim in Claim.objects.for_practice(practice)
            .select_related("patient")
            .order_by("patient__mrn")
        ]


def test_a_worker_killed_mid_close_leaves_nothing_and_the_redelivered_close_ends_the_same(
    practice: Practice, members: dict[Role, Membership], workers: list[Worker], tmp_path: Path
) -> None:
    # given four patients with 25, 45, 70 and 12 minutes in February
    manager, physician = members[Role.PRACTICE_MANAGER], members[Role.PHYSICIAN]
    coordinator = members[Role.CARE_COORDINATOR]
    minutes = (25, 45, 70, 12)
    patients = []
    for index, count in enumerate(minutes):
        patient = enrolled_patient(practice, physician, coordinator)
        log_minutes(practice, coordinator, patient, minutes=count, day=dt.date(2025, 2, 3 + index))
        patients.append(patient)
    first = Worker("crash1", tmp_path / "worker1.log", tmp_path / "media", PAUSE_SECONDS)
    workers.append(first)
    first.wait_for(" ready.")
    # when the close is queued, and its worker is killed while the close is paused uncommitted
    with app.connection_for_write(_broker_url()) as connection:
        # Celery's stubs omit apply_async's ``connection`` (the producer's broker).
        billing_month_close_task.apply_async(  # type: ignore[call-arg]
            kwargs={
                "practice_id": practice.pk,
                "service_month": FEBRUARY.isoformat(),
                "actor_id": manager.pk,
            },
            connection=connection,
        )
    first.wait_for("paused for")
    first.kill()
    killed_run_left = (_month(practice), _claims(practice))
    time.sleep(VISIBILITY_TIMEOUT + 1)
    second = Worker("crash2", tmp_path / "worker2.log", tmp_path / "media", 0)
    workers.append(second)
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        month = _month(practice)
        if month is not None and month.state == BillingMonthState.CLOSED:
            break
        time.sleep(0.5)
    # then the killed run committed nothing, and the redelivered run closed the month once
    assert killed_run_left == (None, [])
    month = _month(practice)
    assert month is not None, (
        f"first worker:\n{first.log.read_text()[-2000:]}\n"
        f"second worker:\n{second.log.read_text()[-3000:]}"
    )
    assert (month.state, month.generation, month.claim_count, month.not_billable_count) == (
        BillingMonthState.CLOSED,
        1,
        3,
        1,
    )
    assert month.closed_by_id == manager.pk
    assert _claims(practice) == [
        (patients[0].mrn, 1, (("99490", 1),)),
        (patients[1].mrn, 1, (("99490", 1), ("99439", 1))),
        (patients[2].mrn, 1, (("99490", 1), ("99439", 2))),
    ]
    with practice_context(practice.pk):
        assert list(
            NotBillable.objects.for_practice(practice).values_list("patient_id", "reason")
        ) == [(patients[3].pk, "NB_TIME_BELOW_THRESHOLD")]
        assert MonthLock.objects.for_practice(practice).count() == 1
        assert (
            AuditLog.objects.for_practice(practice)
            .filter(event=AuditEvent.BILLING_MONTH_CLOSED)
            .count()
            == 1
        )
    assert "paused for" not in second.log.read_text()
