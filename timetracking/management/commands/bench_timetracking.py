"""``manage.py bench_timetracking``: load-test the timer and the worklist over real HTTP.

In a throwaway database (created as the tables' owner, migrated, analysed, dropped at the end)
it seeds one practice in bulk, serves the app with gunicorn on a free local port in demo mode
(no MFA), signs the simulated coordinators in through the real login form (each from its own
loopback address, as from its own machine), and drives each from a thread with its own
keep-alive connection, doing what the browser does for a person at work:

1. open the worklist; think;
2. start a timer from a row (htmx; the answer marks the row in place, out of band);
3. stay on the call, while the page polls the timer partial every ``--poll-seconds``;
4. stop the timer with an activity (htmx; the answer swaps the row in place); think;
5. open the patient's page; think; log a manual entry (the browser follows the redirect back
   to the patient's page); think.

Thinking and calls last a uniformly random 0.5x to 1.5x of their mean. Each coordinator
starts at a random point of the first round, and its first ``--warmup-rounds`` are not
measured. It prints the server's configuration, p50/p95/max latency per action, the request
rate and the load average, and fails if a request failed.
"""

from __future__ import annotations

import datetime as dt
import gc
import http.client
import ipaddress
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from argparse import ArgumentParser
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils import timezone

from ccm import env
from ccm.management.benchdb import analyze, throwaway_database
from timetracking.services.bench import BenchPractice, bench_practice_seed

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "bench-password-" + "x" * 12
TARGETS_MS = {
    "worklist": 150.0,
    "timer start": 50.0,
    "timer stop": 50.0,
}
ACTIONS = (
    "worklist",
    "timer start",
    "timer poll",
    "timer stop",
    "patient page",
    "manual entry",
)
WORKLIST = "/time/worklist/"
TIMER_ID = re.compile(r"/time/timers/([0-9a-f-]{36})/stop/")
SESSION_COOKIES = ("sessionid", "csrftoken")
# Coordinators connect from 127.0.1.0, 127.0.1.1, ...: allauth limits sign-ins per address.
FIRST_CLIENT_ADDRESS = ipaddress.IPv4Address("127.0.1.0")
# Manual entries are 10 minutes long, one every 15 minutes of each coordinator's free hours.
MANUAL_ENTRY_MINUTES = 10
MANUAL_ENTRY_SPACING = dt.timedelta(minutes=15)


class Browser:
    """One simulated coordinator: a keep-alive connection and the session's cookies."""

    def __init__(self, host: str, port: int, source: str) -> None:
        self.connection = http.client.HTTPConnection(
            host, port, timeout=60, source_address=(source, 0)
        )
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        *,
        htmx: bool = False,
    ) -> tuple[int, str, str]:
        """Send one request; its status, body and ``Location`` header."""
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        if htmx:
            headers["HX-Request"] = "true"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.connection.close()  # the server closed an idle keep-alive connection
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                if name in SESSION_COOKIES:
                    self.cookies[name] = rest.split(";", 1)[0]
        text = response.read().decode("utf-8", errors="replace")
        return response.status, text, response.getheader("Location") or ""

    def sign_in(self, email: str) -> None:
        for attempt in range(10):
            self.request("GET", "/accounts/login/")
            status, _, _ = self.request(
                "POST",
                "/accounts/login/",
                {
                    "login": email,
                    "password": PASSWORD,
                    "csrfmiddlewaretoken": self.cookies.get("csrftoken", ""),
                },
            )
            if status == 302:  # noqa: PLR2004
                return
            if status != 429:  # noqa: PLR2004  (allauth's login rate limit: wait and retry)
                raise CommandError(f"signing in {email} answered {status}")
            time.sleep(2 + attempt)
        raise CommandError(f"signing in {email} stayed rate-limited")


class GcWatch:
    """The bench client's own garbage-collection pauses while it measures.

    A collection stops every simulated person's thread at once, and the requests in flight
    are measured that much slower: the report prints the longest pause, so a slow tail can be
    told apart from a slow server.
    """

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._started = 0.0

    def __call__(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((time.perf_counter() - self._started) * 1000)

    @contextmanager
    def watching(self) -> Iterator[None]:
        # What was seeded and set up lives on: freeze it, so collections do not walk it again.
        gc.collect()
        gc.freeze()
        gc.callbacks.append(self)
        try:
            yield
        finally:
            gc.callbacks.remove(self)
            gc.unfreeze()


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)
    gc: GcWatch = field(default_factory=GcWatch)

    def record(self, action: str, milliseconds: float, problem: str | None) -> None:
        with self.lock:
            self.latencies[action].append(milliseconds)
            if problem:
                self.errors[action].append(problem)

    @property
    def requests(self) -> int:
        return sum(len(values) for values in self.latencies.values())


@dataclass(frozen=True, slots=True)
class Pace:
    """How fast a simulated person works (seconds); see the module docstring."""

    think: float
    call: float
    poll: float
    rounds: int
    warmup_rounds: int

    @property
    def round_seconds(self) -> float:
        """The mean length of one round: four pauses to think and one call."""
        return 4 * self.think + self.call


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.95 for p95) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


class Command(BaseCommand):
    help = "Benchmark time tracking over HTTP at scale, in a throwaway database."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--patients", type=int, default=5000)
        parser.add_argument("--coordinators", type=int, default=50)
        parser.add_argument("--rounds", type=int, default=5, help="measured rounds per person")
        parser.add_argument("--warmup-rounds", type=int, default=1, help="rounds not measured")
        # Processes, not threads: a thread waiting on PostgreSQL gets the GIL back only after
        # another thread's CPU-bound rendering lets go of it (up to 5 ms), once per query.
        parser.add_argument("--workers", type=int, default=6, help="gunicorn worker processes")
        parser.add_argument("--threads", type=int, default=1, help="threads per worker")
        parser.add_argument(
            "--think-seconds", type=float, default=5.0, help="mean pause between two actions"
        )
        parser.add_argument(
            "--call-seconds", type=float, default=20.0, help="mean time a timer runs"
        )
        parser.add_argument(
            "--poll-seconds",
            type=float,
            default=10.0,
            help="timer poll interval of an open page (the template's hx-trigger)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DATABASE_OWNER_URL:
            raise CommandError("Set DATABASE_OWNER_URL: the benchmark creates its own database.")
        pace = Pace(
            think=options["think_seconds"],
            call=options["call_seconds"],
            poll=options["poll_seconds"],
            rounds=options["rounds"],
            warmup_rounds=options["warmup_rounds"],
        )
        name = f"ccm_bench_{secrets.token_hex(4)}"
        with throwaway_database(name):
            self.stdout.write(f"Database {name}: migrating and seeding…")
            started = time.perf_counter()
            call_command("migrate", verbosity=0, interactive=False)
            seeded = bench_practice_seed(
                slug="bench",
                patients=options["patients"],
                coordinators=options["coordinators"],
                password=PASSWORD,
                now=timezone.now(),
            )
            _check_manual_window(seeded, pace)
            self.stdout.write(
                f"Seeded {len(seeded.patient_ids)} enrolled patients, "
                f"{len(seeded.coordinator_emails)} coordinators, {seeded.entries} entries "
                f"in {time.perf_counter() - started:.1f} s."
            )
            connections.close_all()
            analyze(name)
            with _server(name, options["workers"], options["threads"]) as port:
                results, elapsed, load = self._drive(seeded, port, pace)
        self._report(results, elapsed, load, pace, options)

    def _drive(
        self, seeded: BenchPractice, port: int, pace: Pace
    ) -> tuple[Results, float, tuple[float, float]]:
        browsers = [
            Browser("127.0.0.1", port, str(FIRST_CLIENT_ADDRESS + index))
            for index in range(len(seeded.coordinator_emails))
        ]
        started = time.perf_counter()
        _in_parallel(
            [
                lambda b=browser, e=email: b.sign_in(e)
                for browser, email in zip(browsers, seeded.coordinator_emails, strict=True)
            ],
            limit=4,
        )
        self.stdout.write(
            f"Signed in {len(browsers)} coordinators in {time.perf_counter() - started:.1f} s; "
            f"{pace.warmup_rounds} warm-up and {pace.rounds} measured rounds each, "
            f"about {pace.round_seconds:.0f} s a round…"
        )
        results = Results()
        load_before = os.getloadavg()[0]
        stopwatch = Stopwatch()
        people = [
            Coordinator(browser, index, seeded, pace, results, stopwatch)
            for index, browser in enumerate(browsers)
        ]
        threads = [threading.Thread(target=person.work, daemon=True) for person in people]
        with results.gc.watching():
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        failures = [person.failure for person in people if person.failure is not None]
        if failures:
            raise failures[0]
        return results, stopwatch.elapsed, (load_before, os.getloadavg()[0])

    def _report(
        self,
        results: Results,
        elapsed: float,
        load: tuple[float, float],
        pace: Pace,
        options: dict[str, Any],
    ) -> None:
        self.stdout.write(
            f"\n{options['patients']} patients, {options['coordinators']} coordinators; "
            f"gunicorn {options['workers']} workers x {options['threads']} threads (gthread); "
            f"{os.cpu_count()} CPUs\n"
            f"think {pace.think:g} s, call {pace.call:g} s, poll every {pace.poll:g} s; "
            f"{results.requests} measured requests in {elapsed:.1f} s "
            f"({results.requests / elapsed if elapsed else 0:.1f}/s); "
            f"load average {load[0]:.2f} before, {load[1]:.2f} after; "
            f"bench client: {len(results.gc.pauses)} garbage collections, the longest "
            f"{max(results.gc.pauses, default=0.0):.1f} ms\n"
        )
        self.stdout.write(
            f"{'action':<16}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}  errors"
        )
        failed = False
        for action in ACTIONS:
            values = results.latencies.get(action, [])
            if not values:
                continue
            p95 = percentile(values, 0.95)
            errors = results.errors.get(action, [])
            target = TARGETS_MS.get(action)
            verdict = "" if target is None else (" ok" if p95 <= target else f" > {target:.0f} ms")
            failed = failed or bool(errors)
            self.stdout.write(
                f"{action:<16}{len(values):>6}{statistics.median(values):>10.1f}{p95:>10.1f}"
                f"{max(values):>10.1f}  {len(errors)}{verdict}"
            )
        for action, errors in results.errors.items():
            self.stdout.write(f"first {action} error: {errors[0]}")
        if failed:
            raise CommandError("Some requests failed (see above).")


class Stopwatch:
    """The measured phase: from the first measured request to the last one."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.last = 0.0
        self.lock = threading.Lock()

    def seen(self, started: float, ended: float) -> None:
        with self.lock:
            self.first = started if self.first is None else min(self.first, started)
            self.last = max(self.last, ended)

    @property
    def elapsed(self) -> float:
        return 0.0 if self.first is None else self.last - self.first


class Coordinator:
    """One person's rounds (see the module docstring), in their own thread."""

    def __init__(  # noqa: PLR0917  (one person's whole setup)
        self,
        browser: Browser,
        index: int,
        seeded: BenchPractice,
        pace: Pace,
        results: Results,
        stopwatch: Stopwatch,
    ) -> None:
        self.browser = browser
        self.index = index
        self.seeded = seeded
        self.pace = pace
        self.results = results
        self.random = random.Random(index)  # noqa: S311  (load shaping, not security)
        self.shown = "none"  # the timer the open page shows (its poll sends it)
        self.next_poll = 0.0
        self.round = 0
        self.failure: BaseException | None = None
        self.stopwatch = stopwatch

    def work(self) -> None:
        try:
            # Each person is somewhere in a round when the measurement starts, not all at once.
            self.page_loaded()
            self.wait(self.random.uniform(0, self.pace.round_seconds))
            for round_ in range(self.pace.warmup_rounds + self.pace.rounds):
                self.round = round_
                self.one_round()
        except BaseException as exc:  # reported by the main thread
            self.failure = exc

    def vary(self, mean: float) -> float:
        return mean * (0.5 + self.random.random())

    def page_loaded(self) -> None:
        """A page (or the timer partial) was swapped in: its poll timer starts again."""
        self.next_poll = time.monotonic() + self.pace.poll

    def wait(self, seconds: float) -> None:
        """Stay on the page for ``seconds``, which polls the timer partial meanwhile."""
        until = time.monotonic() + seconds
        while self.next_poll < until:
            time.sleep(max(0.0, self.next_poll - time.monotonic()))
            self.call(
                "timer poll",
                "GET",
                f"/time/timer/?shown={self.shown}",
                htmx=True,
                check=lambda status, _body: status == HTTPStatus.NO_CONTENT,
            )
            self.next_poll += self.pace.poll
        time.sleep(max(0.0, until - time.monotonic()))

    def call(
        self,
        action: str,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        *,
        htmx: bool = False,
        check: Callable[[int, str], bool],
    ) -> tuple[int, str, str]:
        started = time.perf_counter()
        status, body, location = self.browser.request(method, path, form, htmx=htmx)
        ended = time.perf_counter()
        if self.round >= self.pace.warmup_rounds:
            problem = None if check(status, body) else _excerpt(status, body)
            self.results.record(action, (ended - started) * 1000, problem)
            self.stopwatch.seen(started, ended)
        return status, body, location

    def one_round(self) -> None:
        count = self.pace.warmup_rounds + self.pace.rounds
        patients = self.seeded.patient_ids
        patient = patients[(self.index * count + self.round) % len(patients)]
        self.call("worklist", "GET", WORKLIST, check=lambda s, _b: s == HTTPStatus.OK)
        self.page_loaded()
        self.wait(self.vary(self.pace.think))
        _, body, _ = self.call(
            "timer start",
            "POST",
            f"/time/patients/{patient}/timer/",
            {"next": WORKLIST},
            htmx=True,
            check=lambda _s, b: TIMER_ID.search(b) is not None and "hx-swap-oob" in b,
        )
        found = TIMER_ID.search(body)
        if found is None:
            raise CommandError(f"starting a timer showed no timer: {_excerpt(0, body)}")
        self.shown = found.group(1)
        self.page_loaded()
        self.wait(self.vary(self.pace.call))
        self.call(
            "timer stop",
            "POST",
            f"/time/timers/{self.shown}/stop/",
            {"activity": "care_plan", "note": "Benchmark call", "next": WORKLIST},
            htmx=True,
            check=lambda _s, b: "Logged " in b and "hx-swap-oob" in b,
        )
        self.shown = "none"
        self.page_loaded()
        self.wait(self.vary(self.pace.think))
        page = f"/time/patients/{patient}/"
        self.call("patient page", "GET", page, check=lambda s, _b: s == HTTPStatus.OK)
        self.page_loaded()
        self.wait(self.vary(self.pace.think))
        local = self.manual_start()
        status, _, location = self.call(
            "manual entry",
            "POST",
            f"/time/patients/{patient}/entries/",
            {
                "date": local.date().isoformat(),
                "start_time": f"{local:%H:%M}",
                "duration_minutes": str(MANUAL_ENTRY_MINUTES),
                "activity": "record_review",
            },
            check=lambda s, _b: s == HTTPStatus.FOUND,
        )
        if status == HTTPStatus.FOUND:  # the browser follows the redirect
            self.call("patient page", "GET", location, check=lambda s, _b: s == HTTPStatus.OK)
            self.page_loaded()
        self.wait(self.vary(self.pace.think))

    def manual_start(self) -> dt.datetime:
        window_start, _window_end = self.seeded.manual_window
        start = window_start + MANUAL_ENTRY_SPACING * self.round
        return start.astimezone(self.seeded.practice.tz)


def _check_manual_window(seeded: BenchPractice, pace: Pace) -> None:
    start, end = seeded.manual_window
    needed = MANUAL_ENTRY_SPACING * (pace.warmup_rounds + pace.rounds)
    if end - start < needed:
        raise CommandError(
            "Too early in the month for the manual entries (each coordinator needs "
            f"{needed} of free time since the middle of the month): run it later."
        )


def _excerpt(status: int, body: str) -> str:
    errors = re.findall(r'<ul class="errorlist">(.*?)</ul>|class="message error"[^>]*>(.*?)<', body)
    detail = " ".join("".join(pair) for pair in errors)[:200]
    return f"status {status}: {re.sub(r'<[^>]+>', ' ', detail).strip() or body[:120]}"


def _in_parallel(jobs: list[Any], *, limit: int) -> None:
    semaphore = threading.Semaphore(limit)
    failures: list[BaseException] = []

    def run(job: Any) -> None:
        with semaphore:
            try:
                job()
            except BaseException as exc:
                failures.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _server(database: str, workers: int, threads: int) -> Iterator[int]:
    """gunicorn serving the app on the benchmark's database, in demo mode (no MFA)."""
    port = _free_port()
    app = connections["default"].settings_dict
    database_url = (
        f"postgres://{urllib.parse.quote(app['USER'])}:{urllib.parse.quote(app['PASSWORD'])}"
        f"@{app['HOST'] or '127.0.0.1'}:{app['PORT'] or 5432}/{database}"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ccm.settings.dev",
        "CCM_DEMO_MODE": "1",
        "DATABASE_URL": database_url,
        # settings.SECRET_KEY refuses to be read empty; the server only needs some key.
        "SECRET_KEY": env.SECRET_KEY or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    if settings.FIELD_ENCRYPTION_KEY:
        environment["FIELD_ENCRYPTION_KEY"] = settings.FIELD_ENCRYPTION_KEY
    command = [sys.executable, "-m", "gunicorn", "ccm.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread"]
    command += ["--keep-alive", "30", "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=ROOT, env=environment)  # noqa: S603
    try:
        _wait_until_up(port, process)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError(f"gunicorn exited with {process.returncode}")
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            probe.request("GET", "/healthz")
            if probe.getresponse().status == 200:  # noqa: PLR2004
                return
        except OSError:
            time.sleep(0.3)
    raise CommandError("gunicorn did not answer /healthz within 60 s")
