"""Settings for every process (web, worker, beat, tests), read from the environment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import env

# Lets admin and model classes be subscripted for type checking (ModelAdmin[Office]).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env.path("RCC_VAR_DIR", BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.boolean("DEBUG", False)
DEMO_MODE = env.boolean("DEMO_MODE", False)

SECRET_KEY = env.string("SECRET_KEY", "")
if not SECRET_KEY:
    if DEMO_MODE:
        # The quick start runs with DEBUG off (no technical pages for people) and nobody to set
        # a key: one is made on first start and kept, so sessions survive a restart.
        SECRET_KEY = env.kept_secret(VAR_DIR / "secret-key")
    elif DEBUG:
        SECRET_KEY = "insecure-development-key-only-used-when-DEBUG-is-on"
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (it signs sessions and tokens); "
            "only DEMO_MODE makes and keeps one of its own."
        )

ALLOWED_HOSTS = env.csv_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.csv_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "config.apps.AdminConfig",  # Django's admin on a site that shows why a save was refused
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "simple_history",
    "django_celery_beat",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "outbox",
    "accounts",
    "audit",
    "systems",
    "actions",
    "cases",
    "quality",
    "vulnerabilities",
    "committee",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.security.SecurityHeadersMiddleware",
    "config.requests.MalformedRequestMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.availability.DatabaseAvailabilityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.request_memo.RequestMemoMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    "accounts.middleware.RequireMFAMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "django.template.context_processors.i18n",
                "config.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

DATABASES: dict[str, dict[str, Any]] = {
    "default": env.database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'rcc.sqlite3'}")
}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: WAL lets readers run beside the writer, and
    # IMMEDIATE transactions take the write lock up front so writers queue instead of failing.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    # A file, not memory, so that a Celery worker started by the tests sees the test database.
    _db["TEST"] = {"NAME": str(VAR_DIR / "test-rcc.sqlite3")}
else:
    _db["CONN_MAX_AGE"] = env.integer("CONN_MAX_AGE", 60, minimum=0)
    _db["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL's JIT compiles any query its planner costs high, which for our short paged
    # reads costs far more than it saves (the directives list at company scale: 621 ms of JIT
    # for a 0.2 ms query). Off for our sessions; a URL's own `options` are kept after it.
    _pg_options = _db.setdefault("OPTIONS", {})
    _pg_options["options"] = " ".join(["-c jit=off", _pg_options.get("options", "")]).strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", "locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Redis down must not take the product down: see config/cache.py for what fails open.
    CACHES["default"]["BACKEND"] = "config.cache.ResilientRedisCache"
    _options = CACHES["default"].setdefault("OPTIONS", {})
    _options.setdefault("socket_connect_timeout", 0.5)
    _options.setdefault("socket_timeout", 0.5)
# How far a worker has read a scanner report, for the page that waits on it: Redis when the
# cache is Redis, else files under var/ (the dev worker is another process).
CACHES["progress"] = (
    {**CACHES["default"], "KEY_PREFIX": "progress"}
    if CACHES["default"]["BACKEND"] == "config.cache.ResilientRedisCache"
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "progress"),
    }
)

# --- Accounts, login and MFA ----------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
# Sign-up is closed (accounts.adapters): a password reset for an address nobody has sends no
# mail, rather than allauth's invitation to sign up. The page says the same either way.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
# Behind a load balancer every request arrives from the balancer: name what it vouches for,
# so that limits and audit records see each person's own address (config/client.py). Either
# the number of proxies that append to X-Forwarded-For, or a header the proxy sets alone.
TRUSTED_PROXY_COUNT = env.integer("TRUSTED_PROXY_COUNT", 0, minimum=0)
TRUSTED_CLIENT_IP_HEADER = env.string("TRUSTED_CLIENT_IP_HEADER", "") or None
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = TRUSTED_CLIENT_IP_HEADER
# Repeated failed sign-ins (password or code) lock that account out for a while: allauth's
# rate limit per account, in the shared cache so every web process counts the same attempts.
# Failures are also counted per client address (accounts/adapters.py): past the limit that
# address's wrong guesses are refused and recorded, but a person there who gives the right
# password and code still signs in, so nobody can lock a whole office out with made-up names.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env.string("LOGIN_FAILED_LIMIT", "5/5m/key"),
    # allauth's default caps every sign-in per address, right password or not: off, as above.
    "login": None,
    "reset_password": "20/m/ip,5/m/key",
}
LOGIN_FAILED_ADDRESS_LIMIT = env.integer("LOGIN_FAILED_ADDRESS_LIMIT", 10, minimum=1)
LOGIN_FAILED_ADDRESS_WINDOW = env.integer("LOGIN_FAILED_ADDRESS_WINDOW", 60, minimum=1)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.string("MFA_TOTP_ISSUER", "Risk Compliance Committee")

# Paths a signed-in user without MFA may still reach: enrolment itself, logout, and assets.
MFA_ENROLMENT_EXEMPT_PREFIXES = ["/accounts/", "/static/", "/healthz", "/i18n/", "/favicon.ico"]

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_IDLE_TIMEOUT = env.integer("SESSION_IDLE_TIMEOUT", 30 * 60, minimum=60)
SESSION_ABSOLUTE_TIMEOUT = env.integer("SESSION_ABSOLUTE_TIMEOUT", 8 * 60 * 60, minimum=60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
# The quick start (DEMO_MODE) serves plain http://127.0.0.1, where a browser would never send a
# Secure cookie back; production, behind HTTPS, keeps them Secure unless told otherwise.
SESSION_COOKIE_SECURE = env.boolean("SESSION_COOKIE_SECURE", not (DEBUG or DEMO_MODE))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = env.boolean("CSRF_COOKIE_SECURE", not (DEBUG or DEMO_MODE))
SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 0, minimum=0)
# Only in effect once SECURE_HSTS_SECONDS is set: the whole domain, and the browsers' preload list.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.boolean("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env.boolean("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Paths whose third-party pages need inline script and style (config/security.py).
CSP_RELAXED_PREFIXES = ["/admin/", "/api/docs/"]
if env.boolean("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Internationalisation -------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ja", _("Japanese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.string("TIME_ZONE", "Asia/Tokyo")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", VAR_DIR / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every start without it
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", VAR_DIR / "media")
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.boolean("STATIC_MANIFEST", False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Static files come from the app folders as they are, with DEBUG off too (the quick start runs
# runserver without DEBUG, which then serves none): no collectstatic step before the first run.
WHITENOISE_USE_FINDERS = True

# --- Mail -----------------------------------------------------------------------------------

EMAIL_BACKEND = env.string("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env.path("EMAIL_FILE_PATH", VAR_DIR / "mail")
EMAIL_HOST = env.string("EMAIL_HOST", "localhost")
EMAIL_PORT = env.integer("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env.string("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.string("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.boolean("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env.integer("EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", "Risk Compliance Committee <rcc@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where people reach the site: every mail about a record links to its page under this address
# (config/mail.py). Mail is composed by workers, far from any request that could tell.
SITE_URL = env.site_url("SITE_URL", "http://127.0.0.1:8000")

# --- REST API -------------------------------------------------------------------------------

REST_FRAMEWORK = {
    # Token first, so an anonymous call is told how to authenticate (401 + WWW-Authenticate).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.api.CursorPagination",
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    # A runaway integration, or someone guessing, is slowed down (429 with Retry-After), per
    # person (or per address when signed out); counts live in the shared cache.
    "DEFAULT_THROTTLE_CLASSES": [
        "config.client.AnonRateThrottle",
        "config.client.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.string("API_THROTTLE_ANON", "60/minute"),
        "user": env.string("API_THROTTLE_USER", "1200/minute"),
    },
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
API_MAX_PAGE_SIZE = 200
REST_KNOX = {
    # Every token expires: issue_api_token sets each one's life (--days); this is the cap for
    # any token made another way.
    "TOKEN_TTL": timedelta(days=90),
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Risk Compliance Committee API",
    "DESCRIPTION": "Cases, systems, actions and the committee, scoped to what the caller may see.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation documents the refusals it can answer with (config/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.add_error_responses",
    ],
    # Choice sets that share a field name get names of their own in the schema.
    "ENUM_NAME_OVERRIDES": {
        "FindingPriorityEnum": "vulnerabilities.models.Priority",
        "ActionPriorityEnum": "actions.models.Action.Priority",
        "ComponentKindEnum": "systems.models.Component.Kind",
        "NetworkIdentityKindEnum": "systems.models.NetworkIdentity.Kind",
        "FeedKindEnum": "vulnerabilities.models.FeedImport.Kind",
        "AgendaItemKindEnum": "committee.models.AgendaItem.Kind",
        "AttendanceKindEnum": "committee.models.Attendance.Kind",
        "AttendanceStatusEnum": "committee.models.Attendance.Status",
        "CadenceExceptionKindEnum": "committee.models.CadenceException.Kind",
        "MeetingStatusEnum": "committee.models.Meeting.Status",
        "MinutesStatusEnum": "committee.models.Minutes.Status",
        "ActionStatusEnum": "actions.models.Action.Status",
        "DirectiveStatusEnum": "actions.models.Directive.Status",
        "IncidentStatusEnum": "cases.models.Incident.Status",
        "RiskStatusEnum": "cases.models.Risk.Status",
        "RiskLevelEnum": "cases.models.RiskLevel",
        "SystemStatusEnum": "systems.models.System.Status",
        "SystemCriticalityEnum": "systems.models.System.Criticality",
        "SuspensionStatusEnum": "systems.models.SuspensionOrder.Status",
        "DecisionOutcomeEnum": "committee.models.Decision.Outcome",
        "DecisionEffectEnum": "committee.models.Decision.Effect",
        "ResolutionEffectEnum": "committee.models.WrittenResolution.Effect",
        "ReleaseOutcomeEnum": "quality.models.ReleaseDecision.Outcome",
        "RagEnum": "quality.models.Rag",
        "ProjectPhaseEnum": "quality.models.Phase",
        "ReviewVerdictEnum": "quality.models.Review.Verdict",
    },
}

# --- Celery ---------------------------------------------------------------------------------

CELERY_BROKER_URL = env.broker_url("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The filesystem transport needs no server; producer and consumer share one folder.
    BROKER_DIR = env.path("CELERY_BROKER_DIR", VAR_DIR / "broker")
    for _sub in ("queue", "processed", "control"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),  # else kombu writes ./control/
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker keeps trying to reach a broker that went away, however long it takes (None: for
# ever), instead of exiting after a couple of minutes; a number bounds it.
CELERY_BROKER_CONNECTION_MAX_RETRIES: int | None = (
    env.integer("CELERY_BROKER_CONNECTION_MAX_RETRIES", 0, minimum=1)
    if env.string("CELERY_BROKER_CONNECTION_MAX_RETRIES", "")
    else None
)
CELERY_BROKER_CONNECTION_TIMEOUT = 5
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# django-celery-beat's scheduler, kept alive through a database outage (config/beat.py).
CELERY_BEAT_SCHEDULER = "config.beat:ResilientDatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Governance ----------------------------------------------------------------------------

# A risk whose residual score (likelihood x impact, 1..25) is above this goes to the committee.
RISK_APPETITE_SCORE = env.integer("RISK_APPETITE_SCORE", 12, minimum=1)

# Chasing (beat, hourly): stage, days from the due date (negative: before it), escalation level
# it raises the action to, and who hears of it. Each stage reaches each action once.
CHASE_STAGES = [
    {"stage": "reminder_7d", "days": -7, "level": 0, "audience": "owner"},
    {"stage": "reminder_1d", "days": -1, "level": 0, "audience": "owner"},
    {"stage": "overdue", "days": 1, "level": 0, "audience": "owner"},
    {"stage": "unit_head", "days": 7, "level": 1, "audience": "unit_head"},
    {"stage": "owning_office", "days": 14, "level": 2, "audience": "office"},
    {"stage": "committee", "days": 30, "level": 3, "audience": "committee"},
]
CHASE_BATCH_SIZE = env.integer("CHASE_BATCH_SIZE", 2000, minimum=1)

# Evidence attached to actions: what a unit may upload, and how large. The type is what the
# file's bytes are (actions/evidence.py), never what the client declares; text/plain and
# text/csv are the only types without a signature (UTF-8 text, told apart by the name).
EVIDENCE_MAX_BYTES = env.integer("EVIDENCE_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
EVIDENCE_CONTENT_TYPES = env.csv_list(
    "EVIDENCE_CONTENT_TYPES",
    [
        "application/pdf",
        "image/png",
        "image/jpeg",
        "text/plain",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ],
)

# Vulnerabilities. SBOM uploads larger than this are refused before they are read. The feeds
# the beat task imports: "kind=url-or-path" entries, kind osv, nvd or kev (none by default:
# an installation names the feeds it trusts; the command reads local files as well).
SBOM_MAX_BYTES = env.integer("SBOM_MAX_BYTES", 50 * 1000 * 1000, minimum=1024)
VULNERABILITY_FEEDS = env.csv_list("VULNERABILITY_FEEDS", [])
FEED_TIMEOUT_SECONDS = env.integer("FEED_TIMEOUT_SECONDS", 60, minimum=1)
# Scanner reports: refused above SCAN_MAX_BYTES; up to SCAN_INLINE_BYTES imported while the
# upload waits, bigger ones by a worker (the page shows progress, the API answers 202). An
# address nobody registered is to be triaged by the CISO's office within this many days.
SCAN_MAX_BYTES = env.integer("SCAN_MAX_BYTES", 1024 * 1024 * 1024, minimum=1024)
SCAN_INLINE_BYTES = env.integer("SCAN_INLINE_BYTES", 2 * 1024 * 1024, minimum=0)
DISCOVERED_ASSET_TRIAGE_DAYS = env.integer("DISCOVERED_ASSET_TRIAGE_DAYS", 14, minimum=1)

# --- Logging --------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "config.logs.SingleLineFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.string("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
