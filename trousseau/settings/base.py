"""Settings for every environment, read from the process environment: all but the protocols' (federation.py).

Nothing lives only in production: the demo, the tests and a deployment differ by environment
variables alone (`DATABASE_URL`, `REDIS_URL`, `TROUSSEAU_*`).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, SELF
from django.core.exceptions import ImproperlyConfigured

from trousseau.ops.logs import TEXT_FORMAT

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        msg = f"Missing environment variable {name}"
        raise ImproperlyConfigured(msg)
    return value


def env_bool(name: str, *, default: bool) -> bool:
    return env(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("TROUSSEAU_DEBUG", default=False)
# A secret in the environment is required outside debug; the debug fallback is per-checkout.
SECRET_KEY = env("TROUSSEAU_SECRET_KEY", "insecure-dev-key-only-for-debug" if DEBUG else None)
# Rollover (docs/deployment.md, "Keys"): the new key in TROUSSEAU_SECRET_KEY, the old ones here, comma-separated,
# for as long as what they signed may still come back (sessions, signed states).
SECRET_KEY_FALLBACKS = [key for key in env("TROUSSEAU_SECRET_KEY_FALLBACKS", "").split(",") if key.strip()]
# The key of the identifiers service providers store (FrEduCtId, SAML persistent NameID, OIDC pairwise
# sub). It must never change, or every account looks new to every service: unset it is the secret key,
# so pin it to the current secret key before the first secret key rollover.
IDENTIFIER_KEY = env("TROUSSEAU_IDENTIFIER_KEY", SECRET_KEY)
# Keys that seal secrets kept at rest (core.sealing): base64url, 32 bytes each, the first one seals.
# Unset, one key is derived from SECRET_KEY. A new key: `trousseau.core.sealing.new_key()`.
SEALING_KEYS = [key for key in env("TROUSSEAU_SEALING_KEYS", "").split(",") if key.strip()]
ALLOWED_HOSTS = env("TROUSSEAU_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
PUBLIC_URL = env("TROUSSEAU_PUBLIC_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "dsfr",
    "django_tasks",
    "django_tasks_db",
    "trousseau.core",
    "trousseau.audit",
    "trousseau.directory",
    "trousseau.accounts",
    "trousseau.provisioning",
    "trousseau.notifications",
    "trousseau.flows",
    "trousseau.signin",
    "trousseau.console",
    "trousseau.federation.saml",
    "oauth2_provider",
    "trousseau.federation.oidc",
    "trousseau.retention",
    "trousseau.demo",
    "trousseau.ops",
]

MIDDLEWARE = [
    # trousseau.ops first: every log line has a request id, probes skip the rest, latency covers the rest.
    "trousseau.ops.middleware.RequestIdMiddleware",
    "trousseau.ops.middleware.ProbeMiddleware",
    "trousseau.ops.middleware.RequestMetricsMiddleware",
    # Work held until the response is sent (core/after_response.py): every view runs inside it.
    "trousseau.core.after_response.AfterResponseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Server-to-server endpoints (token, userinfo…) answered here: none of the browser's middleware below.
    "trousseau.core.back_channel.BackChannelMiddleware",
    "trousseau.core.csp_middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's, without the language-prefix reads our URLs cannot use (core/locale_middleware.py).
    "trousseau.core.locale_middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, taking the account read with the session (accounts/backends.py).
    "trousseau.accounts.middleware.AuthenticationMiddleware",
    "trousseau.accounts.middleware.AbsoluteSessionAgeMiddleware",
    # Django's, its storage made at first use (core/messages_middleware.py).
    "trousseau.core.messages_middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "trousseau.urls"
WSGI_APPLICATION = "trousseau.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Each journey keeps its templates in its folder (flows/<journey>/templates): not an app, so listed here.
        "DIRS": [BASE_DIR / "trousseau" / "templates", *sorted((BASE_DIR / "trousseau" / "flows").glob("*/templates"))],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'trousseau.sqlite3'}"),
        conn_max_age=int(env("TROUSSEAU_DB_CONN_MAX_AGE", "60")),
        # A persistent connection the database dropped (a restart, a failover) is replaced before the
        # next request uses it, instead of failing that request (security.md §7 check 37).
        conn_health_checks=True,
    ),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same backend, whose health check asks the socket before it asks the server (core/postgresql).
    DATABASES["default"]["ENGINE"] = "trousseau.core.postgresql"
# The hot paths' large statements prepared, planned once per connection (core/planned.py). Off behind a
# pool in transaction mode that does not carry prepared statements (PgBouncer < 1.21).
DATABASE_PLANNED_STATEMENTS = env_bool("TROUSSEAU_DB_PLANNED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL")
if REDIS_URL:
    # Timeouts: a Redis that stops answering fails a request (and the readiness probe) in seconds
    # instead of holding a worker until gunicorn's timeout kills it.
    _redis_timeout = float(env("TROUSSEAU_REDIS_TIMEOUT", "2"))
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": _redis_timeout, "socket_timeout": _redis_timeout},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.Account"
AUTHENTICATION_BACKENDS = ["trousseau.accounts.backends.AccountBackend"]
LOGIN_URL = "flows:login"

# argon2id at OWASP's second configuration (m=19 MiB, t=2, p=1); Django rehashes on login
# whenever these parameters change.
PASSWORD_HASHERS = [env("TROUSSEAU_PASSWORD_HASHER", "trousseau.accounts.hashers.TrousseauArgon2Hasher")]

# Database sessions that a request does not write twice with the same data (a login saves its session
# in its own transaction, then the middleware's save has nothing new): trousseau/core/session_store.py.
SESSION_ENGINE = "trousseau.core.session_store"
SESSION_COOKIE_AGE = int(env("TROUSSEAU_SESSION_AGE", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# However active, a login ends this long after it happened (accounts.middleware); SESSION_COOKIE_AGE
# is the idle limit, renewed whenever the session changes.
SESSION_ABSOLUTE_AGE = timedelta(seconds=int(env("TROUSSEAU_SESSION_ABSOLUTE_AGE", str(12 * 3600))))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = env_bool("TROUSSEAU_SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
# Over HTTPS the __Host- prefix pins each cookie to this exact host, path / and Secure: no sibling
# subdomain can plant or overwrite it (session fixation from *.ac-academie.fr). Browsers refuse the
# prefix without Secure, hence the plain names over HTTP (the demo, the tests, the benchmarks).
SESSION_COOKIE_NAME = "__Host-sessionid" if SECURE_COOKIES else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if SECURE_COOKIES else "csrftoken"
CSRF_FAILURE_VIEW = "trousseau.core.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = int(env("TROUSSEAU_HSTS_SECONDS", "0" if DEBUG else "31536000"))
# The service has its own host name: its subdomains, if any, are its own too. HSTS preload is a
# commitment for the whole registrable domain (ac-academie.fr), the operator's to make, hence silenced.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("TROUSSEAU_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("TROUSSEAU_HSTS_PRELOAD", default=False)
# oauth2_provider.W008 (http redirect URIs allowed): http is accepted for loopback hosts only, which
# client registration enforces (federation/oidc/services.check_uri); docs/deployment.md lists both.
SILENCED_SYSTEM_CHECKS = ["security.W021", "oauth2_provider.W008"]
# Plain HTTP is redirected to HTTPS whenever cookies are Secure (they would not come back over HTTP).
# Behind a TLS-terminating proxy gunicorn reads X-Forwarded-Proto from the addresses in
# forwarded_allow_ips (deploy/gunicorn.conf.py), so the scheme Django sees is the client's.
SECURE_SSL_REDIRECT = env_bool("TROUSSEAU_SSL_REDIRECT", default=SECURE_COOKIES)
# Forms post back to the public origin; trusting it keeps CSRF's Origin check right even when a proxy
# in front does not forward the scheme.
CSRF_TRUSTED_ORIGINS = [PUBLIC_URL.rstrip("/")]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": [SELF, NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}

LANGUAGE_CODE = "fr"
# French first; English complete; the families' other languages for the parent journeys (issue #17). The
# staff console and the import speak French and English only: their messages live in their own
# catalogues (trousseau/{console,provisioning,directory/importers}/locale), which ship "en" alone, and show
# in French under the other languages. `make messages` keeps every catalogue in step with the code.
LANGUAGES = [
    ("fr", "Français"),
    ("en", "English"),
    ("ar", "العربية"),
    ("es", "Español"),
    ("pt", "Português"),
    ("tr", "Türkçe"),
]
FAMILY_LANGUAGES = ("ar", "es", "pt", "tr")
# The import's file reading (staff only) is not an app: its catalogue is named here.
LOCALE_PATHS = [BASE_DIR / "trousseau" / "locale", BASE_DIR / "trousseau" / "directory" / "importers" / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("TROUSSEAU_STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "trousseau" / "static"]
# A deployment runs `collectstatic` once at build time with TROUSSEAU_STATIC_MANIFEST=1, and its web
# processes serve STATIC_ROOT themselves (WhiteNoise): hashed names, an immutable cache, pre-compressed
# copies. Without it (the demo's runserver, the tests) static files come from the sources, unhashed.
STATIC_MANIFEST = env_bool("TROUSSEAU_STATIC_MANIFEST", default=False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
if STATIC_MANIFEST:  # right after SecurityMiddleware, as WhiteNoise asks
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

EMAIL_BACKEND = env("TROUSSEAU_EMAIL_BACKEND", "trousseau.notifications.email_backends.OutboxEmailBackend")
EMAIL_HOST = env("TROUSSEAU_EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(env("TROUSSEAU_EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("TROUSSEAU_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env("TROUSSEAU_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("TROUSSEAU_EMAIL_TLS", default=False)
# Seconds before a silent SMTP server counts as down: the delivery is then retried later (outbox).
EMAIL_TIMEOUT = float(env("TROUSSEAU_EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = env("TROUSSEAU_EMAIL_FROM", "Trousseau <ne-pas-repondre@trousseau.localhost>")
# The envelope sender of letters sent by email (local+token@domain, VERP): the mailbox whose bounces
# `manage.py letter_email_bounces` reads. Empty: the From address.
LETTER_EMAIL_BOUNCE_ADDRESS = env("TROUSSEAU_LETTER_EMAIL_BOUNCE_ADDRESS", "")
SMS_BACKEND = env("TROUSSEAU_SMS_BACKEND", "trousseau.notifications.sms.OutboxSmsBackend")
SMS_SENDER = env("TROUSSEAU_SMS_SENDER", "TROUSSEAU")

# Background work (deliveries, imports). The immediate backend runs a task inside the request that queued
# it (demo, tests); production sets `django_tasks_db.DatabaseBackend` and runs `manage.py db_worker`.
TASKS = {"default": {"BACKEND": env("TROUSSEAU_TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")}}

# Lifespans and limits, named as the domain names them (seeds 001-004, DESIGN.md).
ACTIVATION_LETTER_VALIDITY = timedelta(days=90)
ACTIVATION_FLOW_LIFESPAN = timedelta(minutes=30)
ACTIVATION_MAX_ATTEMPTS = 5
# Wrong birth dates a letter takes (activation and grouping together), whatever the logins in between
# (issue #15, finding 2): then it pauses until the next day, and past the total it is blocked until the
# school issues a new one.
LETTER_BIRTH_DATE_FAILURES_PER_DAY = 5
LETTER_BIRTH_DATE_FAILURES_IN_ALL = 10
EMAIL_VERIFICATION_LIFESPAN = timedelta(hours=24)  # ASVS: a verification link lives at most a day
EMAIL_OWN_MIN_AGE = 15
# SMS codes (seed: valid 30 minutes) and what guards them (research/security.md §3.3).
# ASVS 6.5.5 and NIST ask for 10 minutes: TROUSSEAU_SMS_CODE_MINUTES=10 gives it; the seed's 30 stays the
# default, with the compensations docs/security.md lists (5 tries per code, budgets, binding).
SMS_CODE_LIFESPAN = timedelta(minutes=int(env("TROUSSEAU_SMS_CODE_MINUTES", "30")))
SMS_CODE_MAX_ATTEMPTS = 5
SMS_RESEND_DELAY = timedelta(seconds=60)
SMS_PER_PHONE_PER_HOUR = 3
SMS_PER_PHONE_PER_DAY = 5
SMS_PER_IP_PER_HOUR = 10
SMS_PER_FOREIGN_COUNTRY_PER_HOUR = int(env("TROUSSEAU_SMS_PER_FOREIGN_COUNTRY_PER_HOUR", "20"))
# The breakers, one per country calling code: past this many SMS in a day that code gets none and the
# operators are alerted, while the other codes (France's above all) still get theirs (sms_budgets.py).
SMS_PER_HOME_COUNTRY_PER_DAY = int(env("TROUSSEAU_SMS_PER_HOME_COUNTRY_PER_DAY", "20000"))
SMS_PER_FOREIGN_COUNTRY_PER_DAY = int(env("TROUSSEAU_SMS_PER_FOREIGN_COUNTRY_PER_DAY", "200"))
# Mobile changes one account may start in a day: each sends a code to a number no school recorded.
MOBILE_CHANGES_PER_ACCOUNT_PER_DAY = int(env("TROUSSEAU_MOBILE_CHANGES_PER_ACCOUNT_PER_DAY", "3"))
# An account without a password confirms a change of email, mobile or password by a FranceConnect
# login at most this old (ASVS 7.5.1: re-authentication before changing an authentication factor).
REAUTH_FRESH_LOGIN = timedelta(minutes=int(env("TROUSSEAU_REAUTH_FRESH_LOGIN_MINUTES", "5")))
# "Ce n'était pas moi" links in the notices of an email or mobile change.
CHANGE_REPORT_LIFESPAN = timedelta(days=7)
SELF_SERVICE_FLOW_LIFESPAN = timedelta(hours=1)
PASSWORD_RESET_TIMEOUT = 3600  # seconds an emailed reset link lives
# Misses from one address (block) before its self-registration or FranceConnect first login waits: both
# match the same school records against what a stranger types.
SELF_REGISTRATION_IP_FREE_FAILURES = 10
# Throttling: growing delays after a free allowance, capped so that nobody can lock an account out.
THROTTLE_ACCOUNT_FREE_FAILURES = 5
THROTTLE_ACCOUNT_HARD_LIMIT = 100  # failures in a row, then closed until a recovery (core.throttle.Guard)
THROTTLE_IP_FREE_FAILURES = 30
THROTTLE_BASE_DELAY = timedelta(seconds=30)
THROTTLE_MAX_DELAY = timedelta(minutes=15)
THROTTLE_FORGET_AFTER = timedelta(hours=24)
# Device cookies (accounts/devices.py, OWASP): a browser where someone logged in keeps its own budget for
# that account, so an attacker's failures elsewhere do not lock it out. 400 days is the most browsers keep.
DEVICE_COOKIE_AGE = timedelta(days=int(env("TROUSSEAU_DEVICE_COOKIE_DAYS", "365")))
# Behind a load balancer the client address comes from this header (set it only behind a proxy).
CLIENT_IP_HEADER = os.environ.get("TROUSSEAU_CLIENT_IP_HEADER", "")

# Log lines (trousseau/ops/logs.py): one JSON object per line by default outside debug, each with its
# request id, phone numbers and emails masked. "text" is for a person reading a terminal.
LOG_FORMAT = env("TROUSSEAU_LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    msg = f"TROUSSEAU_LOG_FORMAT must be json or text, not {LOG_FORMAT!r}"
    raise ImproperlyConfigured(msg)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "trousseau.ops.logs.RequestIdFilter"},
        "redact": {"()": "trousseau.ops.logs.RedactFilter"},
    },
    "formatters": {
        "json": {"()": "trousseau.ops.logs.json_formatter"},
        "text": {"format": TEXT_FORMAT},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id", "redact"]}
    },
    "root": {"handlers": ["console"], "level": env("TROUSSEAU_LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
# Prometheus metrics at /metrics, only for a scraper giving this as a Bearer token; unset: 404.
METRICS_TOKEN = env("TROUSSEAU_METRICS_TOKEN", "")

# --- Notifications: SMS gateways and durable delivery (trousseau/notifications) -------------------
# TROUSSEAU_SMS_BACKEND picks one of: trousseau.notifications.sms.OutboxSmsBackend (dev twin),
# trousseau.notifications.backends.http_gateway.HttpGatewaySmsBackend (any JSON-over-HTTP gateway),
# trousseau.notifications.backends.smsmode.SmsModeSmsBackend (SMSmode).
SMS_HTTP_URL = env("TROUSSEAU_SMS_HTTP_URL", "")
SMS_HTTP_AUTH_HEADER = env("TROUSSEAU_SMS_HTTP_AUTH_HEADER", "")  # e.g. "Authorization: Bearer abc"
# JSON with {to} (E.164), {to_digits} (no "+"), {body} and {sender} inside strings; values are JSON-encoded.
SMS_HTTP_BODY_TEMPLATE = env("TROUSSEAU_SMS_HTTP_BODY_TEMPLATE", '{"to": "{to}", "text": "{body}", "from": "{sender}"}')
SMS_HTTP_TIMEOUT = float(env("TROUSSEAU_SMS_HTTP_TIMEOUT", "10"))
SMSMODE_API_KEY = env("TROUSSEAU_SMSMODE_API_KEY", "")
SMSMODE_BASE_URL = env("TROUSSEAU_SMSMODE_BASE_URL", "https://rest.smsmode.com")
# Retries: doubling delays from the base up to the cap (with jitter); a message still unsent after
# MAX_ATTEMPTS tries or MAX_AGE is marked failed and logged. About 6 hours of retries by default.
NOTIFICATIONS_MAX_ATTEMPTS = int(env("TROUSSEAU_NOTIFICATIONS_MAX_ATTEMPTS", "12"))
NOTIFICATIONS_MAX_AGE = timedelta(hours=int(env("TROUSSEAU_NOTIFICATIONS_MAX_AGE_HOURS", "24")))
NOTIFICATIONS_RETRY_BASE_DELAY = timedelta(seconds=30)
NOTIFICATIONS_RETRY_MAX_DELAY = timedelta(hours=1)
# How long a worker owns a row it is sending; far above SMS_HTTP_TIMEOUT and EMAIL_TIMEOUT.
NOTIFICATIONS_CLAIM_LEASE = timedelta(minutes=5)
# --- end of notifications settings ---------------------------------------------------------------

# --- Directory imports and activation letters (trousseau/provisioning, directory/importers, accounts/letters_*) ---
# Uploads through the console are capped (académie-sized files go through `manage.py import_records`);
# rows of pupils and guardians who left are kept this long after the import that saw them leave,
# then `manage.py purge_directory` deletes them with their disabled accounts.
IMPORT_MAX_UPLOAD_BYTES = int(env("TROUSSEAU_IMPORT_MAX_UPLOAD_BYTES", str(20 * 1024 * 1024)))
# A console import that would remove more than this share of a school's pupils needs that share confirmed.
IMPORT_DEPARTURE_SHARE_LIMIT = float(env("TROUSSEAU_IMPORT_DEPARTURE_SHARE_LIMIT", "0.2"))
DIRECTORY_RETENTION_DAYS = int(env("TROUSSEAU_DIRECTORY_RETENTION_DAYS", "365"))
# --- end of directory import settings ----------------------------------------------------------------

# --- Retention (trousseau/retention, `manage.py purge_expired`; docs/security.md "Retention") ------
# How long each kind of row outlives its purpose before the daily purge deletes it (days). The other
# rows go at their own end: sessions at expiry, throttle counters after THROTTLE_FORGET_AFTER, OpenID
# Connect tokens at their expiry (django-oauth-toolkit), SAML request ids once they could not replay.
RETENTION_FLOWS = timedelta(days=int(env("TROUSSEAU_RETENTION_FLOWS_DAYS", "1")))
RETENTION_DELIVERIES = timedelta(days=int(env("TROUSSEAU_RETENTION_DELIVERIES_DAYS", "30")))
RETENTION_OUTBOX = timedelta(days=int(env("TROUSSEAU_RETENTION_OUTBOX_DAYS", "7")))
RETENTION_LETTER_SECRETS = timedelta(days=int(env("TROUSSEAU_RETENTION_LETTER_SECRETS_DAYS", "90")))
RETENTION_AUDIT = timedelta(days=int(env("TROUSSEAU_RETENTION_AUDIT_DAYS", "365")))  # CNIL 2021-122: 6 months-1 year
RETENTION_IMPORT_JOBS = timedelta(days=int(env("TROUSSEAU_RETENTION_IMPORT_JOBS_DAYS", "7")))
RETENTION_TASKS = timedelta(days=int(env("TROUSSEAU_RETENTION_TASKS_DAYS", "7")))
RETENTION_BATCH_SIZE = int(env("TROUSSEAU_RETENTION_BATCH_SIZE", "5000"))  # rows per DELETE, each its own transaction
# --- end of retention settings --------------------------------------------------------------------
