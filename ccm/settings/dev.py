"""The README's demo: DEBUG off-by-default stays off, but HTTP on localhost and demo mode."""

from ccm.settings.base import *  # noqa: F403

DEMO_MODE = True
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# No collectstatic step: WhiteNoise serves straight from the apps' and project's static folders.
WHITENOISE_USE_FINDERS = True
