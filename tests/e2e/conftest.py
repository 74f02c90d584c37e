"""Browser journeys: Playwright drives Debian's Chromium against a real server.

The session builds a fresh database (``test_ccm_e2e``), migrates it as the owner, seeds the
demo data with ``seed_demo``, and starts gunicorn and a Celery worker (Redis, a spare db
number) as the app role, exactly as the README's demo does, so a journey exercises the same
stack a practice uses. Screenshots land in ``tests/e2e/screenshots/`` to be looked at.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import dj_database_url
import psycopg2
import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from playwright.sync_api import Browser, Page, sync_playwright
from psycopg2 import sql

from ccm import env as ccm_env
from ccm.demo_data import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
# One database per session (by process id): concurrent runs never share one; dropped at the end.
E2E_DATABASE = f"test_ccm_e2e_{os.getpid()}"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _url_with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def _maintain_database(*, create: bool) -> None:
    owner = dj_database_url.parse(settings.DATABASE_OWNER_URL)
    admin = psycopg2.connect(
        dbname="postgres",
        user=owner["USER"],
        password=owner["PASSWORD"],
        host=owner["HOST"],
        port=owner["PORT"] or 5432,
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        name = sql.Identifier(E2E_DATABASE)
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        if create:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(name))
    admin.close()


def _wait_for(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


@pytest.fixture(scope="session")
def e2e_environment() -> dict[str, str]:
    port = _free_port()
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ccm.settings.dev",
        "SECRET_KEY": "e2e-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-0123456789",
        "DATABASE_URL": _url_with_database(ccm_env.DATABASE_URL, E2E_DATABASE),
        "DATABASE_OWNER_URL": _url_with_database(settings.DATABASE_OWNER_URL, E2E_DATABASE),
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/13",
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "CCM_DEMO_MODE": "1",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MEDIA_ROOT": str(ROOT / "var" / "e2e" / "private"),
        "E2E_PORT": str(port),
    }


@pytest.fixture(scope="session")
def live_url(e2e_environment: dict[str, str]) -> Iterator[str]:
    """A seeded app served by gunicorn, with a Celery worker, on a free local port."""
    _maintain_database(create=True)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        python = sys.executable
        env = e2e_environment
        manage = [python, "manage.py"]
        subprocess.run([*manage, "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
        subprocess.run(
            [*manage, "seed_demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{env['E2E_PORT']}"
        server_command = [python, "-m", "gunicorn", "ccm.wsgi", "--workers", "2"]
        server_command += ["--bind", base.removeprefix("http://"), "--log-level", "warning"]
        worker_command = [python, "-m", "celery", "-A", "ccm", "worker", "--concurrency", "1"]
        worker_command += ["--loglevel", "WARNING", "--without-gossip", "--without-mingle"]
        processes.append(subprocess.Popen(server_command, cwd=ROOT, env=env))
        processes.append(subprocess.Popen(worker_command, cwd=ROOT, env=env))
        _wait_for(f"{base}/healthz", processes[0])
        yield base
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        _maintain_database(create=False)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def signed_in(browser: Browser, live_url: str) -> Iterator[Callable[[str], Page]]:
    """``signed_in("coordinator@maple.example")`` → a page of a signed-in browser context."""
    contexts = []

    def sign_in(email: str) -> Page:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_url}/accounts/login/")
        page.fill("input[name=login]", email)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    yield sign_in
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
