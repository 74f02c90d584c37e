"""Settings for every environment, read from the environment through ``ccm.env``.

The defaults are the production ones: no debug, no demo mode, HTTPS-only cookies, a strict CSP.
``ccm.settings.dev`` (the README's demo) and ``ccm.settings.test`` relax only what they must.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from ccm import env

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

SECRET_KEY = env.SECRET_KEY
DEBUG = env.DEBUG
DEMO_MODE = env.DEMO_MODE
ALLOWED_HOSTS = env.ALLOWED_HOSTS
CSRF_TRUSTED_ORIGINS = env.CSRF_TRUSTED_ORIGINS

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "csp",
    "ccm",
    "patients",
    "careplans",
    "timetracking",
    "billing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "ccm.middleware.IdleSignOutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "ccm.middleware.RequestIdMiddleware",
    "ccm.middleware.MfaRequiredMiddleware",
    "ccm.tenancy.PracticeMiddleware",
    # django-axes wants to be last: it turns a lockout into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ccm.urls"
WSGI_APPLICATION = "ccm.wsgi.application"
AUTH_USER_MODEL = "ccm.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "ccm.context_processors.shell",
            ],
        },
    },
]

DATABASES = {
    "default": {
        **dj_database_url.parse(env.DATABASE_URL, conn_max_age=60, conn_health_checks=True),
        # The practice middleware opens the transaction (it must, for SET LOCAL of the
        # practice); ATOMIC_REQUESTS would open a second one around it.
        "ATOMIC_REQUESTS": False,
    }
}
DATABASE_OWNER_URL = env.DATABASE_OWNER_URL
DATABASE_APP_ROLE = env.DATABASE_APP_ROLE or str(DATABASES["default"].get("USER", ""))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out login before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # Private files (scanned consents, PDFs): never under STATIC_ROOT, only served by
        # views that check the practice.
        "OPTIONS": {"location": env.MEDIA_ROOT or str(VAR_DIR / "private"), "base_url": None},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Cache and sessions --------------------------------------------------------------------


def cache_and_session_engine(
    *, broker_url: str, redis_url: str
) -> tuple[dict[str, dict[str, object]], str]:
    """``CACHES`` and ``SESSION_ENGINE``: in Redis when the app has a Redis server.

    A session is read, and its idle expiry pushed forward, on every request. In the database
    that costs a SELECT, an UPDATE and a commit (a WAL flush) per request, a timer poll
    included; in Redis it is one GET and one SET with a 15-minute TTL. The cache also holds
    allauth's rate limits, which then count across all gunicorn workers rather than per
    process. The README demo runs without a Redis server (its Celery broker is a folder):
    it keeps the sessions in the database and a per-process cache.
    """
    if broker_url.startswith("filesystem://") or not redis_url:
        return (
            {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
            "django.contrib.sessions.backends.db",
        )
    return (
        {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis_url,
                # The Celery broker may share the Redis database: keep the two apart.
                "KEY_PREFIX": "ccm",
            }
        },
        "django.contrib.sessions.backends.cache",
    )


CACHES, SESSION_ENGINE = cache_and_session_engine(
    broker_url=env.CELERY_BROKER_URL or env.REDIS_URL, redis_url=env.REDIS_URL
)

# --- Sessions, cookies, HTTPS -------------------------------------------------------------
SESSION_COOKIE_AGE = 15 * 60  # 15 minutes idle: every request pushes the expiry forward
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.SECURE_COOKIES
CSRF_COOKIE_SECURE = env.SECURE_COOKIES
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.SECURE_SSL_REDIRECT
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Content Security Policy (django-csp 4) -----------------------------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # allauth shows the TOTP QR code as an SVG data: URI.
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- Sign-in: allauth + MFA + axes ----------------------------------------------------------
SITE_ID = 1
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_ADAPTER = "ccm.auth.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[ccm] "
# Password reset for an address we do not know sends nothing (no mail to strangers), and the
# page says the same as for a known address (no account oracle).
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "ccm"
MFA_RECOVERY_CODE_COUNT = 10
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
# Lock the account from the address that failed, not the whole address: a practice shares one
# office IP, and one person's typos must not lock all its staff out (nor can a stranger lock a
# clinician out from elsewhere). Guessing from many addresses is still throttled by allauth's
# "login_failed" rate limit (5 failures per account per 5 minutes, 10 a minute per IP), and a
# password alone opens nothing without the TOTP code.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"
# allauth authenticates with email=..., its form posts login=...: count both as one account.
AXES_USERNAME_CALLABLE = "ccm.auth.axes_username"
AXES_RESET_ON_SUCCESS = True
# Renders templates/account/lockout.html (HTTP 429) with the lock's length in minutes.
AXES_LOCKOUT_CALLABLE = "ccm.auth.lockout_response"
AXES_VERBOSE = False

EMAIL_BACKEND = env.EMAIL_URL_BACKEND
EMAIL_HOST = env.EMAIL_HOST
EMAIL_PORT = env.EMAIL_PORT
DEFAULT_FROM_EMAIL = env.DEFAULT_FROM_EMAIL

# --- API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "ccm.schema.PracticeAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "ccm.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ccm API",
    "DESCRIPTION": "Chronic Care Management: patients, consent, care plans, time and billing.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from the vendored sidecar package: no CDN, and no inline script (CSP).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One schema name per stored choice set, whatever the field is called.
    "ENUM_NAME_OVERRIDES": {
        "EnrollmentStatusEnum": "patients.models.EnrollmentStatus",
        "ConsentMethodEnum": "patients.models.ConsentMethod",
        "ConsentOutcomeEnum": "patients.models.ConsentOutcome",
        "OutreachOutcomeEnum": "patients.models.OutreachOutcome",
        "FacilityStayKindEnum": "patients.models.FacilityStayKind",
        "EncounterKindEnum": "patients.imports.encounters.EncounterKind",
    },
}

# --- Celery ------------------------------------------------------------------------------
CELERY_BROKER_URL = env.CELERY_BROKER_URL or env.REDIS_URL
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The demo's broker that needs no server: kombu keeps each message as a file in one folder
    # that producers and the worker share (one machine only). Claimed messages are moved, not
    # copied, to ``processed`` on the same file system, which is what makes a claim atomic.
    _broker_folder = Path(env.CELERY_BROKER_FOLDER or VAR_DIR / "demo" / "broker")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_folder / "queue"),
        "data_folder_out": str(_broker_folder / "queue"),
        "control_folder": str(_broker_folder / "control"),
        "store_processed": True,
        "processed_folder": str(_broker_folder / "processed"),
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # An unacknowledged message (acks_late) goes to another worker after this many seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.CELERY_VISIBILITY_TIMEOUT,
        "unacked_restore_interval": env.CELERY_UNACKED_RESTORE_INTERVAL,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TASK_ALWAYS_EAGER = env.CELERY_ALWAYS_EAGER
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Hourly: closes each practice-month once its local end plus the grace days has passed.
    "billing-months-dispatch": {
        "task": "billing.tasks.billing_months_dispatch_task",
        "schedule": crontab(minute=5),
    },
}
BILLING_CLOSE_TEST_PAUSE_SECONDS = env.BILLING_CLOSE_TEST_PAUSE_SECONDS

FIELD_ENCRYPTION_KEY = env.FIELD_ENCRYPTION_KEY

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.LOG_LEVEL},
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
