"""The patient-copy PDF end to end: signing queues it, a real Celery worker on Redis renders it.

The worker is a subprocess (``celery -A ccm worker``) on the *test* database, which is why the
test commits its data (``transaction=True``) and why the broker is a Redis database of its own.
The first page is rendered to PNG with ``pdftoppm`` (kept beside the test's temporary files and
copied to ``/tmp/ccm-care-plan-page1.png`` for a person to look at).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.db import connection

from careplans.models import CarePlanDocument, DocumentStatus
from careplans.services.versions import care_plan_version_sign
from ccm.celery import app as celery_app
from ccm.permissions import Role
from ccm.tenancy import practice_context
from tests.careplans.conftest import make_patient, start_complete_plan
from tests.conftest import _members
from tests.factories import PracticeFactory

BROKER_DB = 11  # a Redis database no other suite uses
BROKER_URL = f"redis://127.0.0.1:6379/{BROKER_DB}"
PREVIEW = Path("/tmp/ccm-care-plan-page1.png")  # noqa: S108  (a file for a person to open)
WORKER_TIMEOUT_SECONDS = 90


@pytest.fixture
def frozen_clock():
    """The worker is another process: this test runs on the real clock."""
    return


@pytest.fixture
def broker(monkeypatch):
    """Point this process's producer at the spare Redis database, empty."""
    redis.Redis.from_url(BROKER_URL).flushdb()
    monkeypatch.setitem(celery_app.conf, "broker_url", BROKER_URL)
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)
    yield BROKER_URL
    celery_app.pool.force_close_all()
    redis.Redis.from_url(BROKER_URL).flushdb()


@pytest.fixture
def media_root(settings, tmp_path):
    root = tmp_path / "private"
    root.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": None},
        },
    }
    return root


@pytest.fixture
def worker(broker, media_root, tmp_path):
    settings_dict = connection.settings_dict
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ccm.settings.test",
        "DATABASE_URL": (
            f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD']}@"
            f"{settings_dict['HOST']}:{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
        ),
        "CELERY_BROKER_URL": broker,
        "MEDIA_ROOT": str(media_root),
    }
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "ccm",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env=environment,
        cwd=Path(__file__).resolve().parents[2],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def _wait_for_document(practice, document_pk, worker, log: Path) -> CarePlanDocument:
    deadline = time.monotonic() + WORKER_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        with practice_context(practice.pk):
            document = CarePlanDocument.objects.for_practice(practice).get(pk=document_pk)
        if document.status != DocumentStatus.PENDING:
            return document
        if worker.poll() is not None:
            pytest.fail(f"the worker exited ({worker.returncode}):\n{log.read_text()}")
        time.sleep(0.5)
    pytest.fail(f"the worker did not render the PDF in time:\n{log.read_text()}")


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_signing_renders_the_patient_copy_in_a_real_worker(worker, media_root, tmp_path):
    # given a committed, complete draft of the billing practitioner
    practice = PracticeFactory.create(
        name="Maple Family Medicine",
        slug="maple-worker",
        timezone="America/New_York",
        phone="(217) 555-0142",
    )
    physician = _members(practice, "maple-worker")[Role.PHYSICIAN]
    patient = make_patient(practice, physician, first_name="Dorothy", last_name="Ellison")
    draft = start_complete_plan(practice, physician, patient)
    # when the physician signs (the task is queued when the transaction commits)
    with practice_context(practice.pk):
        care_plan_version_sign(
            practice=practice,
            actor=physician,
            version=draft,
            substantial_revision=False,
            password="correct horse battery staple",
        )
        document_pk = CarePlanDocument.objects.for_practice(practice).get().pk
    document = _wait_for_document(practice, document_pk, worker, tmp_path / "worker.log")
    # then the worker stored a readable PDF in private storage
    pdf = media_root / document.file.name
    assert document.status == DocumentStatus.READY, document.error
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(
        [shutil.which("pdftotext") or "pdftotext", "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Your care plan" in text
    assert "Dorothy Ellison" in text
    assert "Your goals" in text
    assert "Keep blood sugar in a safe range" in text
    png_stem = tmp_path / "page"
    subprocess.run(
        [
            shutil.which("pdftoppm") or "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            str(pdf),
            str(png_stem),
        ],
        check=True,
    )
    page = next(tmp_path.glob("page*.png"))
    shutil.copyfile(page, PREVIEW)
    assert page.stat().st_size > 20_000
