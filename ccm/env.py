"""The only module that reads ``os.environ``.

Everything configurable is read here once, typed, with a default that is safe in production
(no debug, no demo mode, secure cookies). Settings modules import these values.
"""

from __future__ import annotations

import os

_TRUE = {"1", "true", "yes", "on"}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, *, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in _TRUE


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def child_environment(overrides: dict[str, str]) -> dict[str, str]:
    """This process's environment plus ``overrides``, for a process the demo launcher starts."""
    return {**os.environ, **overrides}


SECRET_KEY = env_str("SECRET_KEY")
DEBUG = env_bool("DEBUG")
DEMO_MODE = env_bool("CCM_DEMO_MODE")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The app connects as a role that is neither superuser nor table owner (RLS applies to it).
DATABASE_URL = env_str("DATABASE_URL", "postgres://ccm_app:ccm_app@127.0.0.1:5432/ccm")
# Migrations run as the owner of the tables; `manage.py migrate` switches to this URL.
DATABASE_OWNER_URL = env_str("DATABASE_OWNER_URL", "")
# The role the migrate command grants table privileges to (defaults to DATABASE_URL's user).
DATABASE_APP_ROLE = env_str("DATABASE_APP_ROLE", "")
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
# With CELERY_BROKER_URL=filesystem:// (the demo), the folder of kombu's message files.
CELERY_BROKER_FOLDER = env_str("CELERY_BROKER_FOLDER", "")
CELERY_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER")
# Seconds a Redis broker waits for an unacknowledged message before handing it to another
# worker; must exceed the longest task (CELERY_TASK_TIME_LIMIT, 30 minutes).
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
# Seconds between a Redis worker's sweeps for such messages (kombu's default is 10 s, with
# only every 10th sweep scanning Redis).
CELERY_UNACKED_RESTORE_INTERVAL = env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10)
# Test-only hook: the month close sleeps this long before its commit, so that the crash-safety
# test can kill the worker mid-close. Always 0 outside that test.
BILLING_CLOSE_TEST_PAUSE_SECONDS = env_int("CCM_BILLING_CLOSE_TEST_PAUSE_SECONDS", 0)
EMAIL_URL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ccm <no-reply@localhost>")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
SECURE_COOKIES = env_bool("SECURE_COOKIES", default=True)
MEDIA_ROOT = env_str("MEDIA_ROOT", "")
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY", "")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
