"""Settings for AI Gateway, read from the environment (see the README's table)."""

import base64
import binascii
import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A `.env` beside manage.py (written by `make run`) fills in what the process
# environment leaves unset; real environment variables always win.
_env_file = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
if _env_file and Path(_env_file).is_file():
    env.read_env(_env_file)

DEBUG = env.bool("DEBUG", default=False)


def _value(name: str, default: str = "") -> str:
    """`name` from the environment, or the contents of the file that `name_FILE` points to.

    The file form suits Docker/Kubernetes/systemd secrets; one trailing newline
    is dropped. Setting both forms is an error rather than a silent choice.
    """
    file_name = f"{name}_FILE"
    path = env.str(file_name, default="")
    if not path:
        return env.str(name, default="") or default
    if env.str(name, default=""):
        raise ImproperlyConfigured(f"Both {name} and {file_name} are set: set only one of them.")
    try:
        content = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImproperlyConfigured(f"{file_name}: cannot read {path} ({exc}).") from None
    return content.removesuffix("\n").removesuffix("\r")


def _secret(name: str) -> str:
    value = _value(name)
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set. Set it (or {name}_FILE) in the environment or in .env "
            "(`make run` writes a .env with fresh secrets on first run)."
        )
    return value


def _decode_key(name: str, raw: str) -> bytes:
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured(f"{name} must be the base64 encoding of exactly 32 bytes.")
    return key


def _key_bytes(name: str) -> bytes:
    return _decode_key(name, _secret(name))


def _old_keys(name: str) -> list[bytes]:
    """Comma-separated retired keys, still accepted while a rotation is under way."""
    return [_decode_key(name, part) for part in _value(name).split(",") if part.strip()]


def _refuse_weak_secret_key(value: str) -> None:
    """Django's own `check --deploy` rule (W009), enforced at start-up rather than only warned about:
    a short or repetitive key can be guessed, and a guessed SECRET_KEY forges sessions and reset links."""
    if len(value) < 50 or len(set(value)) < 5 or value.startswith("django-insecure-"):
        raise ImproperlyConfigured(
            "SECRET_KEY is too weak: use at least 50 characters with at least 5 different ones, "
            "not starting with 'django-insecure-' (generate one as the README shows)."
        )


SECRET_KEY = _secret("SECRET_KEY")
# Retired SECRET_KEYs (comma-separated) still accepted for sessions and tokens during a rotation.
SECRET_KEY_FALLBACKS = [part.strip() for part in _value("SECRET_KEY_FALLBACKS").split(",") if part.strip()]
# AES-256-GCM key for API keys at rest, and the separate HMAC secret that makes
# the indexed lookup digest. Two secrets, so either can be rotated on its own.
# The *_OLD lists hold retired ones during a rotation (docs/security.md): keys
# are always written under the current secret, and read under any of them.
KEY_ENCRYPTION_KEY = _key_bytes("KEY_ENCRYPTION_KEY")
KEY_ENCRYPTION_KEYS_OLD = _old_keys("KEY_ENCRYPTION_KEY_OLD")
KEY_DIGEST_SECRET = _key_bytes("KEY_DIGEST_SECRET")
KEY_DIGEST_SECRETS_OLD = _old_keys("KEY_DIGEST_SECRET_OLD")
# Unless DEBUG: a weak SECRET_KEY, or one 32-byte key used for both jobs (which would make
# rotating one of them alone impossible and a leak of one a leak of both), stops start-up.
if not DEBUG:
    _refuse_weak_secret_key(SECRET_KEY)
    if KEY_ENCRYPTION_KEY == KEY_DIGEST_SECRET:
        raise ImproperlyConfigured("KEY_DIGEST_SECRET must differ from KEY_ENCRYPTION_KEY: generate a separate one.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# HTTPS hardening is on unless DEBUG is; each switch can be turned off for a
# plain-HTTP local run.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# HSTS is off unless set: once browsers have seen it, a domain cannot go back to
# plain HTTP for that long. `manage.py check --deploy` wants all three on.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Load balancers probe /healthz over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# The dashboard's Content Security Policy (gateway.infra.web_middleware): no inline scripts or
# styles, nothing from other origins; see docs/dashboard.md.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels_app",
    "conversations",
    "accounts",
    "alerts",
    "teams",
    "knowledge",
    "dashboard",
    "axes",
]

MIDDLEWARE = [
    # First, so the request time it measures includes every other middleware.
    "gateway.infra.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "gateway.infra.web_middleware.SecurityHeadersMiddleware",
    "gateway.infra.web_middleware.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gateway.urls"
WSGI_APPLICATION = "gateway.wsgi.application"
ASGI_APPLICATION = "gateway.asgi.application"

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
                "accounts.context_processors.signup",
                "dashboard.context_processors.gateway_state",
                "teams.context_processors.organisation",
            ],
        },
    },
]

# Database: a SQLite file by default, PostgreSQL (psycopg 3 with Django's
# built-in connection pool) when DATABASE_URL says so.
# /healthz gives up on the database or the cache after this many seconds (a 503).
HEALTHZ_TIMEOUT = env.float("HEALTHZ_TIMEOUT", default=3.0)

DATABASES = {"default": env.db_url_config(_value("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
_db = DATABASES["default"]
_db["CONN_MAX_AGE"] = 0
if _db["ENGINE"] == "django.db.backends.postgresql":
    # The pool checks a connection before lending it, so connections the server
    # dropped (a restart, a failover, pg_terminate_backend) are replaced, not
    # handed to a request.
    _db["CONN_HEALTH_CHECKS"] = True
    _db.setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=2),
        "max_size": env.int("DATABASE_POOL_MAX", default=20),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
    }
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE transactions take
    # the write lock up front so concurrent writers queue instead of failing.
    _db.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # Tests use a file, not shared-cache memory: shared-cache SQLite fails
    # concurrent writers at once instead of waiting for the lock.
    # One file per test process, so parallel runs never share a database.
    _db["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test-db-{os.getpid()}.sqlite3")}

# Database phases of API requests running at once per server process (each on one of
# as many threads); more wait on the event loop. At most 8, and never more than the pool:
# measured, more threads only contend for the GIL (docs/performance.md).
DB_PHASE_CONCURRENCY = env.int(
    "DB_PHASE_CONCURRENCY",
    default=min(8, _db["OPTIONS"]["pool"]["max_size"]) if "pool" in _db.get("OPTIONS", {}) else 8,
)

# Seconds a request waits for a pooled PostgreSQL connection before failing.
DATABASE_POOL_TIMEOUT = env.float("DATABASE_POOL_TIMEOUT", default=10.0)
# The chat's statements (gateway/infra/adb.py) are prepared by PostgreSQL after this many runs on a connection
# (psycopg's prepare_threshold; its default), so they are parsed and planned once per connection, not per chat.
# Django turns preparing off for its own connections (for PgBouncer in transaction mode before 1.21); set
# DATABASE_PREPARE_THRESHOLD=none behind such a pooler. Measured: docs/performance.md.
_prepare = env.str("DATABASE_PREPARE_THRESHOLD", default="5").strip().lower()
DATABASE_PREPARE_THRESHOLD = None if _prepare in ("", "none", "off") else int(_prepare)
# The chat's database steps (conversations/engine/store): on PostgreSQL one statement each, sent from the
# event loop; elsewhere the ORM on the database phase threads. CHAT_STORE=orm keeps the ORM on
# PostgreSQL too. Chosen once, at start-up.
CHAT_STORE = {
    "postgresql": "conversations.engine.store.postgresql.PostgreSQLStore",
    "orm": "conversations.engine.store.orm.OrmStore",
}[env.str("CHAT_STORE", default="postgresql" if _db["ENGINE"] == "django.db.backends.postgresql" else "orm")]

# Rows each channel's usage roll-ups of a day are split over (conversations/engine/rollups.py): each chat adds to one
# chosen at random, so a busy channel's concurrent chats rarely wait on one row's lock; readers sum the shards.
# Lowering it leaves rows of higher shards, still summed.
USAGE_SHARDS = 8

# Verified keys kept in each process (channels_app/key_cache.py), with Redis only:
# invalidated at once on any change; this is only a backstop age. 0 turns it off.
KEY_CACHE_SECONDS = env.int("KEY_CACHE_SECONDS", default=60)
# The longest a process serves chats from its copy of the model catalog (channels_app/providers/catalog.py);
# changes made through the application reach every process at once, whatever this says.
CATALOG_CACHE_SECONDS = env.int("CATALOG_CACHE_SECONDS", default=60)

# Cache and every limit counter: in-process by default, Redis (shared by all
# processes) when REDIS_URL is set.
REDIS_URL = _value("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "gateway.infra.cache.SharedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="gw"),
            # A dead or hung Redis must fail a request fast (it becomes a 503), not
            # hang it. (Pooled connections that died with a Redis restart are
            # noticed and replaced by redis-py before use: gateway/tests/test_redis_down.py.)
            "OPTIONS": {
                "socket_connect_timeout": env.float("REDIS_CONNECT_TIMEOUT", default=1.0),
                "socket_timeout": env.float("REDIS_TIMEOUT", default=1.0),
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "gateway",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
# The limit counters (conversations/engine/counters): Redis, shared by every process, when REDIS_URL is
# set; else the in-process cache (one process). Chosen once, at start-up.
CHAT_COUNTERS = (
    "conversations.engine.counters.redis_lua.RedisCounters" if REDIS_URL else "conversations.engine.counters.in_process.InProcessCounters"
)
RATELIMIT_USE_CACHE = "default"
RATELIMIT_CACHE_PREFIX = "rl:"

# Sessions live in the database under a SHA-256 of their key, so a dump opens none of them
# (accounts/session_store.py).
SESSION_ENGINE = "accounts.session_store"

# Accounts: owners sign up with their email (it is also their username).
SIGNUP_ENABLED = env.bool("SIGNUP_ENABLED", default=True)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:channel-list"
LOGOUT_REDIRECT_URL = "home"
# Revealing or rotating a key needs a password entered this recently.
REAUTH_WINDOW_SECONDS = env.int("REAUTH_WINDOW_SECONDS", default=15 * 60)
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="AI Gateway <noreply@localhost>")
# For EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend.
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = _value("EMAIL_HOST_PASSWORD") or ""
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)

# Sign-up cannot mint credits (docs/security.md, "Sign-up and credits"): sign-ups and
# confirmation e-mails are throttled per client address, a new owner's e-mail must be
# confirmed before the one starting grant, and an owner has at most so many channels.
SIGNUP_RATE = env.str("SIGNUP_RATE", default="5/h")
CONFIRMATION_RESEND_RATE = env.str("CONFIRMATION_RESEND_RATE", default="3/h")
EMAIL_CONFIRMATION_MAX_AGE_HOURS = env.int("EMAIL_CONFIRMATION_MAX_AGE_HOURS", default=72)
# Days an organisation invitation (teams/invitations.py) stays valid; resending starts the days again.
INVITATION_MAX_AGE_DAYS = env.int("INVITATION_MAX_AGE_DAYS", default=7)
MAX_CHANNELS_PER_OWNER = env.int("MAX_CHANNELS_PER_OWNER", default=20)

# Failed logins are throttled per (username, client address) by django-axes.
# Behind N reverse proxies set TRUSTED_PROXY_COUNT=N, so the client address
# is read from X-Forwarded-For as the proxies saw it.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Refuses a password sign-in where the person's organisation requires single sign-on (teams/backends.py).
    "teams.backends.SsoRequiredBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Single sign-on (teams/sso.py): mozilla-django-oidc reverses this URL name for the redirect URI;
# requests to the identity provider give up after SSO_TIMEOUT_SECONDS.
OIDC_AUTHENTICATION_CALLBACK_URL = "sso-callback"
SSO_TIMEOUT_SECONDS = env.float("SSO_TIMEOUT_SECONDS", default=10.0)
# Issuers (and the token, userinfo and JWKS URLs their discovery documents name) must be public http(s)
# addresses (gateway/infra/outbound.py) unless this is on (tests, a private installation).
SSO_ALLOW_PRIVATE_ISSUERS = env.bool("SSO_ALLOW_PRIVATE_ISSUERS", default=False)
# SSO domain verification looks TXT records up through these nameservers (empty: the system's resolver).
SSO_DNS_NAMESERVERS = env.list("SSO_DNS_NAMESERVERS", default=[])
SSO_DNS_PORT = env.int("SSO_DNS_PORT", default=53)
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# The app serves its own static files (WhiteNoise), DEBUG or not: no CDN, no
# separate web server. After `manage.py collectstatic` (production) they come
# hashed and compressed from STATIC_ROOT; without it (tests, a quick local run)
# straight from static/ and the apps' folders.
STATIC_COLLECTED = env.bool("STATIC_COLLECTED", default=(STATIC_ROOT / "staticfiles.json").is_file())
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_COLLECTED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_COLLECTED
WHITENOISE_AUTOREFRESH = DEBUG
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A chat body on /api is at most ~2,000 characters plus metadata; anything far larger
# is refused with 413 before it is parsed. A /v1 client (an agent framework) sends its whole
# conversation every time, tool results included: 1 MiB is more text than the largest context
# in the catalog holds (the pipeline trims what does not fit the model), and still bounded.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=64 * 1024)
V1_MAX_BODY_BYTES = env.int("V1_MAX_BODY_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(API_MAX_BODY_BYTES, V1_MAX_BODY_BYTES, 2_621_440)
# Any request body, on any path, larger than this is cut off with 413 at the ASGI
# edge (gateway.infra.body_limit) before Django reads it, chunked or not.
REQUEST_MAX_BODY_BYTES = env.int("REQUEST_MAX_BODY_BYTES", default=DATA_UPLOAD_MAX_MEMORY_SIZE)

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["gateway.infra.parsers.BoundedJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_THROTTLE_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "gateway.infra.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# The public API's OpenAPI 3 schema at /api/schema/, browsable at /api/docs/
# with Swagger UI served from this server (the sidecar package), not a CDN.
SPECTACULAR_SETTINGS = {
    "TITLE": "AI Gateway API",
    "DESCRIPTION": "Chat with a channel's AI assistant and read its conversations. "
    "Every error is a JSON object with an `error` field.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PREPROCESSING_HOOKS": ["gateway.infra.openapi_hooks.only_canonical_paths"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "gateway.infra.openapi_hooks.strict_request_bodies",
        "gateway.infra.openapi_hooks.required_request_bodies",
        "gateway.infra.openapi_hooks.add_response_headers",
        "gateway.infra.openapi_hooks.blank_or_text_any_of",
    ],
}

# Conversations and the AI provider.
SESSION_TTL_HOURS = env.int("SESSION_TTL_HOURS", default=24)
# How often each server process runs the retention purge (conversations/engine/retention.py); 0 turns it off
# (then run `manage.py purge_expired_data` from cron).
RETENTION_PURGE_INTERVAL_SECONDS = env.int("RETENTION_PURGE_INTERVAL_SECONDS", default=3600)
# Background jobs (gateway/infra/jobs): alerts, webhook deliveries, the retention purge. JOBS=celery sends
# them to Celery over Redis (CELERY_BROKER_URL, by default REDIS_URL; run a worker and one beat: deploy/);
# the default runs them on a thread of each server process. Chosen once, at start-up.
JOBS = env.str("JOBS", default="in-process")
JOB_RUNNER = {
    "in-process": "gateway.infra.jobs.in_process.InProcessRunner",
    "celery": "gateway.infra.jobs.celery_runner.CeleryRunner",
}[JOBS]
CELERY_BROKER_URL = _value("CELERY_BROKER_URL") or REDIS_URL
if JOBS == "celery" and not CELERY_BROKER_URL:
    raise ImproperlyConfigured("JOBS=celery needs CELERY_BROKER_URL or REDIS_URL.")
# The Redis list the jobs wait in (separate deployments on one Redis database need their own).
CELERY_QUEUE = env.str("CELERY_QUEUE", default="ai-gateway-jobs")
# A job not acknowledged this many seconds after a worker took it is handed to another (Redis transport).
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
JOB_MODULES = ["alerts.jobs", "knowledge.jobs", "channels_app.jobs"]
# A PostgreSQL credit hold's token older than CREDIT_HOLD_STALE_SECONDS belongs to a chat whose process died
# between its hold and its store: its credit is given back, looked for this often; 0: never
# (channels_app/services.py credit_holds_give_back_stale). The age is far above a chat's longest life
# (LLM_TOTAL_TIMEOUT per model tried).
CREDIT_HOLD_SWEEP_INTERVAL_SECONDS = env.int("CREDIT_HOLD_SWEEP_INTERVAL_SECONDS", default=600)
CREDIT_HOLD_STALE_SECONDS = env.int("CREDIT_HOLD_STALE_SECONDS", default=3600)
# How often deprecated models whose retirement day has come are retired (channels moved, owners told); 0: never
# (then run `manage.py models retire-due` from cron). docs/providers.md.
MODEL_RETIREMENT_INTERVAL_SECONDS = env.int("MODEL_RETIREMENT_INTERVAL_SECONDS", default=3600)
# How often each provider's GET /models is checked against the catalog (`manage.py models sync`); 0: never.
MODEL_SYNC_INTERVAL_SECONDS = env.int("MODEL_SYNC_INTERVAL_SECONDS", default=86400)
JOB_DEAD_LETTER = "alerts.services.job_dead"
JOB_RETRY_BACKOFF_BASE = env.float("JOB_RETRY_BACKOFF_BASE", default=30.0)
JOB_RETRY_BACKOFF_CAP = env.float("JOB_RETRY_BACKOFF_CAP", default=3600.0)
# Alerts (alerts/): thresholds are checked this often; a webhook gets this long to answer.
ALERT_CHECK_INTERVAL_SECONDS = env.int("ALERT_CHECK_INTERVAL_SECONDS", default=60)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
WEBHOOK_MAX_RETRIES = env.int("WEBHOOK_MAX_RETRIES", default=8)
# Webhook URLs must be public http(s) addresses unless this is on (tests, a private network).
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=False)
LLM_BASE_URL = env.str("LLM_BASE_URL", default="https://api.groq.com/openai/v1")
LLM_API_KEY = _value("LLM_API_KEY")
LLM_CONNECT_TIMEOUT = env.float("LLM_CONNECT_TIMEOUT", default=5.0)
LLM_READ_TIMEOUT = env.float("LLM_READ_TIMEOUT", default=60.0)
LLM_TOTAL_TIMEOUT = env.float("LLM_TOTAL_TIMEOUT", default=90.0)
LLM_MAX_CONNECTIONS = env.int("LLM_MAX_CONNECTIONS", default=1000)
# Retries (connect errors, 408, 429, 5xx) and the circuit breaker: channels_app/providers/resilience.py.
LLM_MAX_RETRIES = env.int("LLM_MAX_RETRIES", default=2)
LLM_RETRY_BACKOFF_BASE = env.float("LLM_RETRY_BACKOFF_BASE", default=0.25)
LLM_RETRY_BACKOFF_CAP = env.float("LLM_RETRY_BACKOFF_CAP", default=4.0)
LLM_RETRY_AFTER_CAP = env.float("LLM_RETRY_AFTER_CAP", default=10.0)
LLM_BREAKER_THRESHOLD = env.int("LLM_BREAKER_THRESHOLD", default=5)
LLM_BREAKER_COOLDOWN = env.float("LLM_BREAKER_COOLDOWN", default=30.0)
# Starting credits, once per confirmed owner (given to their oldest channel). NEW_CHANNEL_CREDITS
# is the deprecated name from when every channel got them; it is read when the new one is unset.
NEW_OWNER_CREDITS = env.int("NEW_OWNER_CREDITS", default=env.int("NEW_CHANNEL_CREDITS", default=100))
STREAM_HEARTBEAT_SECONDS = env.float("STREAM_HEARTBEAT_SECONDS", default=15.0)
# The widget's proof of work (ALTCHA, conversations/engine/proof_of_work.py), for channels that require it:
# the highest number a challenge may hide (a browser tries half of them on average) and how long it stays valid.
WIDGET_POW_MAX_NUMBER = env.int("WIDGET_POW_MAX_NUMBER", default=100_000)
WIDGET_POW_EXPIRES_SECONDS = env.int("WIDGET_POW_EXPIRES_SECONDS", default=300)

# /metrics (Prometheus) answers a bearer METRICS_TOKEN or a client address in
# METRICS_ALLOW_IPS (addresses or CIDRs); with neither set it is a 404.
METRICS_TOKEN = _value("METRICS_TOKEN")
METRICS_ALLOW_IPS = env.list("METRICS_ALLOW_IPS", default=[])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # No API key in any line (a `?key=` in a logged URL, say): gateway/infra/log_redaction.py.
    "filters": {"redact_keys": {"()": "gateway.infra.log_redaction.RedactKeysFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_keys"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # httpx logs every request URL at INFO; keep it quiet.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# Knowledge (knowledge/, docs/knowledge.md): the sources a channel answers from.
# Retrieval is full-text search in the database, chosen once at start-up like the chat store: FTS5 on SQLite,
# tsvector + GIN on PostgreSQL.
KNOWLEDGE_RETRIEVAL = {
    "django.db.backends.postgresql": "knowledge.retrieval.postgresql.PostgreSQLRetrieval",
    "django.db.backends.sqlite3": "knowledge.retrieval.sqlite.SqliteRetrieval",
}[_db["ENGINE"]]
# The crawler may fetch loopback and private addresses (a test site, an intranet) only when this is True.
KNOWLEDGE_ALLOW_PRIVATE = env.bool("KNOWLEDGE_ALLOW_PRIVATE", default=False)
KNOWLEDGE_FETCH_TIMEOUT_SECONDS = env.float("KNOWLEDGE_FETCH_TIMEOUT_SECONDS", default=10.0)
KNOWLEDGE_MAX_PAGE_BYTES = env.int("KNOWLEDGE_MAX_PAGE_BYTES", default=2 * 1024 * 1024)
KNOWLEDGE_MAX_FILE_BYTES = env.int("KNOWLEDGE_MAX_FILE_BYTES", default=10 * 1024 * 1024)
# A channel's caps: sources, pages over all its sites, and extracted text kept (characters).
KNOWLEDGE_MAX_SOURCES = env.int("KNOWLEDGE_MAX_SOURCES", default=50)
KNOWLEDGE_MAX_PAGES = env.int("KNOWLEDGE_MAX_PAGES", default=1000)
KNOWLEDGE_MAX_CHARS = env.int("KNOWLEDGE_MAX_CHARS", default=20_000_000)
# PostgreSQL: the most chunks one word of a question brings to be ranked (knowledge/retrieval/postgresql.py).
KNOWLEDGE_CANDIDATES_PER_WORD = env.int("KNOWLEDGE_CANDIDATES_PER_WORD", default=200)
# Passages given to the model per chat, and the most characters they hold together.
KNOWLEDGE_CHUNKS_PER_ANSWER = env.int("KNOWLEDGE_CHUNKS_PER_ANSWER", default=4)
KNOWLEDGE_CONTEXT_CHARS = env.int("KNOWLEDGE_CONTEXT_CHARS", default=6000)
# Optional embeddings (knowledge/embeddings.py): the provider's model for POST LLM_BASE_URL/embeddings; empty: off.
KNOWLEDGE_EMBEDDING_MODEL = env.str("KNOWLEDGE_EMBEDDING_MODEL", default="")
KNOWLEDGE_EMBEDDINGS = (
    "knowledge.embeddings.OpenAICompatible" if KNOWLEDGE_EMBEDDING_MODEL else "knowledge.embeddings.Off"
)
# US dollars per million embedding tokens, added to the chat's cost (0: the catalog knows no price for it).
KNOWLEDGE_EMBEDDING_PRICE = env.float("KNOWLEDGE_EMBEDDING_PRICE", default=0.0)
KNOWLEDGE_EMBEDDING_BATCH = env.int("KNOWLEDGE_EMBEDDING_BATCH", default=64)  # chunks per /embeddings request
KNOWLEDGE_EMBEDDING_TIMEOUT_SECONDS = env.float("KNOWLEDGE_EMBEDDING_TIMEOUT_SECONDS", default=10.0)
# The full-text candidates whose embeddings a chat compares with its question's (cosine in Python: no vector index).
KNOWLEDGE_EMBEDDING_CANDIDATES = env.int("KNOWLEDGE_EMBEDDING_CANDIDATES", default=50)
# How often every source is refreshed in the background (0: never; `manage.py knowledge refresh` from cron).
KNOWLEDGE_REFRESH_INTERVAL_SECONDS = env.int("KNOWLEDGE_REFRESH_INTERVAL_SECONDS", default=86400)
# The longest a server process goes on using its list of channels that have ready knowledge (chats of the
# others never search): a source made ready by another process is used after at most this long.
KNOWLEDGE_READY_CACHE_SECONDS = env.float("KNOWLEDGE_READY_CACHE_SECONDS", default=5.0)
