"""Test settings: a fast hasher, locmem email, plain static storage, a per-process cache.

Nothing else changes.
"""

from ccm import env
from ccm.settings.base import *  # noqa: F403

SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
FIELD_ENCRYPTION_KEY = "kJ1S3Xn4f3y5m0Ck8t8o6Gm3o2wW8fZr5r2aQm9VZ0E="
# Tests migrate as the owner and run as the app role, like production.
DATABASE_OWNER_URL = env.DATABASE_OWNER_URL or "postgres://ccm_owner:ccm_owner@127.0.0.1:5432/ccm"
# Static files straight from the finders: no collectstatic before the suite.
STATIC_ROOT = None  # type: ignore[assignment]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
ALLOW_AUDIT_LOG_FLUSH = True  # transactional tests end with a flush (owner only)
# Sessions in the cache, as with Redis in production, but the cache in this process: concurrent
# test sessions must not share rate limits or sessions, ``cache.clear()`` must not flush the
# Redis that Celery's integration tests use, and time_machine must move its expiry.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
