"""Django settings for Nexiom.

Everything that differs between machines comes from the environment, with
defaults that work on a developer machine (PostgreSQL and Redis on
127.0.0.1). With ``DJANGO_DEBUG`` off (production) the secrets have no
defaults: a missing ``DJANGO_SECRET_KEY`` stops start-up with a clear error.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from nexiom.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", default=True)

# A fixed, obviously-local key keeps dev sessions alive across restarts; it is
# refused the moment DEBUG is off.
_DEV_SECRET_KEY = "django-insecure-nexiom-local-development-only"  # noqa: S105
_KEY_GENERATE_HINT = (
    'generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"'
)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off; {_KEY_GENERATE_HINT}"
        )
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    # Sessions, CSRF tokens and password resets are signed with it: a short or
    # published key lets anyone forge them. (The value is never echoed.)
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is too weak for DJANGO_DEBUG off: it must be at least 50 "
        f"characters and not the development key; {_KEY_GENERATE_HINT}"
    )

NEXIOM_BASE_DOMAIN = env_str("NEXIOM_BASE_DOMAIN", "localhost").strip().lower()
# Public URL scheme and port used when printing or building tenant URLs.
NEXIOM_PUBLIC_SCHEME = env_str("NEXIOM_PUBLIC_SCHEME", "http")
NEXIOM_PUBLIC_PORT = env_int("NEXIOM_PUBLIC_PORT", 8000)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [NEXIOM_BASE_DOMAIN, f".{NEXIOM_BASE_DOMAIN}"])
# Each host trusts only its own origin (Django compares Origin with the
# request's scheme and Host), so a page on one tenant cannot post to another.
# Never put a "*.<base domain>" wildcard here: every tenant would trust every
# other tenant. List only extra origins that really post forms to us.
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# --- Tenancy ---------------------------------------------------------------
# Apps in SHARED_APPS live in the public schema, apps in TENANT_APPS in every
# tenant schema. Apps listed in both (auth, admin, sessions, accounts) get a
# separate copy per schema: platform operators in public, each company's own
# users, sessions and admin log in its schema.
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "nexiom.apps.NexiomAdminConfig",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "accounts",
    "django_celery_beat",
    # Break-glass password attempts of every tenant, in one place for operators.
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served by us (no CDN)
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "nexiom.apps.NexiomAdminConfig",
    "django.contrib.sessions",
    "django.contrib.messages",
    "accounts",
    "vault",
    "connectors",
    "sync_history",
    "pipeline",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "nexiom.urls_public"
ROOT_URLCONF = "nexiom.urls_tenant"
# Unknown hosts answer 404 and never fall back to the public site.
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
# One `SET search_path` per schema switch instead of one before every statement (half
# the gateway's round trips). Safe with django-tenants 4: a rollback, a savepoint
# rollback or a closed connection forgets the cached path, so it is set again.
TENANT_LIMIT_SET_CALLS = True

AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    "tenants.middleware.TenantHostMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # OIDC sessions re-ask the provider (silently) every
    # OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS; break-glass sessions and bearer tokens
    # are not OIDC sessions and are left alone.
    "accounts.oidc.ProviderSessionRefresh",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a break-glass lockout into its page (accounts.backends).
    "axes.middleware.AxesMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # connectors/templates comes before the apps' folders too: its
        # admin/base_site.html (the Desk's banner) must win over django.contrib.admin's,
        # which APP_DIRS would find first (admin is listed before connectors).
        "DIRS": [BASE_DIR / "templates", BASE_DIR / "connectors" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "connectors.context_processors.reauth_banner",
            ],
        },
    },
]

WSGI_APPLICATION = "nexiom.wsgi.application"

# --- Data stores -------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nexiom")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        engine="django_tenants.postgresql_backend",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# The vault writes its audit of reveals on a connection of its own, same
# database, autocommit, so a caller that rolls back cannot erase the trace
# (vault/audit.py). Tests share the test database with default (MIRROR).
DATABASES["vault_audit"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # Cache keys carry the tenant schema, so tenants never read each
        # other's cached values.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}

# --- Celery ------------------------------------------------------------------
# Reliability: a task message is acknowledged only after the task finished
# (acks_late), and a worker killed mid-task puts it back (reject_on_worker_lost),
# so a crash never loses work; every task must therefore be safe to run twice.
# Redis redelivers an unacknowledged message after the visibility timeout; it
# must exceed the longest countdown plus the longest run, or a delayed task
# would be delivered twice while still waiting. tests/nexiom/test_celery_config.py
# fails when these drift apart.
CELERY_MAX_COUNTDOWN_SECONDS = 30 * 60
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_RESULT_EXPIRES = 24 * 3600
# Results are stored only for tasks that ask (ignore_result=False): a result
# can hold what a task revealed. What is stored, and every task event, passes
# through the vault's redaction first (vault/celery_guard.py).
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # a long task never holds others hostage
CELERY_TASK_TIME_LIMIT = 10 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 9 * 60
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_MAX_COUNTDOWN_SECONDS + CELERY_TASK_TIME_LIMIT + 20 * 60,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = CELERY_BROKER_TRANSPORT_OPTIONS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TRACK_STARTED = True
CELERY_WORKER_SEND_TASK_EVENTS = True  # Flower shows tasks live
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Platform-wide periodic jobs. The database scheduler copies these rows into
# django_celery_beat's tables at start, where operators can pause or re-time
# them in the admin of the public host.
CELERY_BEAT_SCHEDULE = {
    "tenants.audit_schemas": {
        "task": "tenants.audit_schemas",
        "schedule": 15 * 60.0,
    },
    "tenants.release_parked_tasks": {
        "task": "tenants.release_parked_tasks",
        "schedule": 5 * 60.0,
    },
    # Refresh tokens before they expire, test API keys, prune stale OAuth states.
    "connectors.health_sweep": {
        "task": "connectors.health_sweep",
        "schedule": 60.0,
    },
    # Raw payloads past each tenant's retention (the history's summaries stay).
    "sync_history.prune": {
        "task": "sync_history.prune",
        "schedule": 24 * 3600.0,
    },
    # Whatever a pipeline layer still owes (lost with Redis, or a retry come due).
    "pipeline.sweep": {
        "task": "pipeline.sweep",
        "schedule": 10.0,
    },
}
# Tenant rows are looked up per task; cache them briefly per worker process.
# The status is not taken from this cache: the gate below reads it at every
# task start, parks a suspended tenant's tasks and re-sends them on reactivation.
CELERY_TASK_TENANT_CACHE_SECONDS = 30
# Deliveries run on their own queue, so slow targets never starve parsing.
CELERY_TASK_ROUTES = {
    "pipeline.l5_deliver": {"queue": "delivery"},
    "pipeline.l5_later": {"queue": "delivery"},
}

# --- Pipeline ----------------------------------------------------------------
# How many ids each layer's task takes at once (pipeline/tasks.py).
NEXIOM_PIPELINE_BATCH = {"l2": 50, "l3": 200, "l4": 200, "l5": 100}
# The largest message /hooks/<token> accepts (Outbound Messages carry at most 100
# notifications, far below this); larger ones get 413 before being read.
NEXIOM_HOOK_MAX_BYTES = env_int("NEXIOM_HOOK_MAX_BYTES", 2 * 1024 * 1024)
# How long a provider's "per minute" lasts for the shared limiter (pipeline/limiter.py);
# only benchmarks shorten it, together with the sandbox's --rate-window.
NEXIOM_RATE_LIMIT_MINUTE_SECONDS = env_int("NEXIOM_RATE_LIMIT_MINUTE_SECONDS", 60)
# Deliveries: transient failures are retried this many times (backoff with full
# jitter, at most DELAY_MAX seconds apart), then dead-lettered.
NEXIOM_DELIVERY_MAX_ATTEMPTS = env_int("NEXIOM_DELIVERY_MAX_ATTEMPTS", 8)
NEXIOM_DELIVERY_DELAY_MAX = env_int("NEXIOM_DELIVERY_DELAY_MAX", 15 * 60)
# A worker sending a batch holds its deliveries this long; one that died lets them go
# then, and the sweeper (which leaves rows younger than SWEEP_GRACE alone) sends them again.
NEXIOM_DELIVERY_CLAIM_SECONDS = env_int("NEXIOM_DELIVERY_CLAIM_SECONDS", 5 * 60)
NEXIOM_SWEEP_GRACE_SECONDS = env_int("NEXIOM_SWEEP_GRACE_SECONDS", 20)
# A layer's drain task holds a flag in Redis while it runs (pipeline/queues.py); a
# worker killed mid-drain lets it expire after this long, then the sweeper starts another.
NEXIOM_PIPELINE_FLAG_SECONDS = env_int("NEXIOM_PIPELINE_FLAG_SECONDS", 30)
# A layer's drain starts this long after the first id arrives in an idle queue, so the
# ids of the next moments join its batch: at a trickle (one notification per message,
# many tenants) it turns one Celery task per record into one per batch. Adds at most
# this much latency per layer.
NEXIOM_PIPELINE_LINGER_SECONDS = env_float("NEXIOM_PIPELINE_LINGER_SECONDS", 1.0)
NEXIOM_TASK_TENANT_GATE = "tenants.parking.tenant_task_admit"

# --- Auth and the Desk ---------------------------------------------------------
# OIDC for everyone; a local password only for break-glass superusers.
AUTHENTICATION_BACKENDS = [
    "accounts.oidc.NexiomOIDCBackend",
    "accounts.backends.BreakGlassBackend",
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
# Break-glass password sign-in is throttled (django-axes, see accounts/backends.py):
# NEXIOM_BREAKGLASS_FAILURE_LIMIT failures per tenant and username, or per client
# address, lock password sign-in for NEXIOM_BREAKGLASS_COOLOFF_MINUTES, doubled
# by every further lockout within a day. OIDC sign-in is never throttled here.
NEXIOM_BREAKGLASS_FAILURE_LIMIT = env_int("NEXIOM_BREAKGLASS_FAILURE_LIMIT", 5)
NEXIOM_BREAKGLASS_COOLOFF_MINUTES = env_int("NEXIOM_BREAKGLASS_COOLOFF_MINUTES", 5)
AXES_FAILURE_LIMIT = NEXIOM_BREAKGLASS_FAILURE_LIMIT
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_CALLABLE = "accounts.backends.axes_username"
# Behind a proxy, the client is the last X-Forwarded-For hop, not the proxy.
AXES_CLIENT_IP_CALLABLE = "accounts.backends.axes_client_address"
AXES_WHITELIST_CALLABLE = "accounts.backends.axes_not_a_password_attempt"
AXES_COOLOFF_TIME = "accounts.backends.axes_cooloff"
AXES_LOCKOUT_CALLABLE = "accounts.backends.axes_lockout_response"
# Each attempt row expires on its own cool-off, so a short cool-off computed for
# one request never clears another key's longer lockout.
AXES_USE_ATTEMPT_EXPIRATION = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every failure, kept for the growing cool-off
# A success must not clear failures: an OIDC sign-in from the same address would.
AXES_RESET_ON_SUCCESS = False
# Successful sign-ins are not logged here: they would not name their tenant.
AXES_DISABLE_ACCESS_LOG = True
# Operators must see which account and address are attacked; passwords stay masked.
AXES_SENSITIVE_PARAMETERS: list[str] = []
AXES_HTTP_RESPONSE_CODE = 429
LOGIN_URL = "/admin/login/"
LOGIN_REDIRECT_URL = "/admin/"
LOGOUT_REDIRECT_URL = "/admin/login/"

# --- OpenID Connect (mozilla-django-oidc; Zitadel in production) --------------
# Zitadel: one "Web" application with the code flow (PKCE on), auth method
# "Post" (or "Basic" with OIDC_TOKEN_USE_BASIC_AUTH=1), ID token userinfo
# assertion and "Assert Roles on Authentication" on, and one redirect URI per
# tenant host: https://<slug>.<NEXIOM_BASE_DOMAIN>/oidc/callback/ (and the
# post-logout URI https://<slug>.<NEXIOM_BASE_DOMAIN>/admin/login/). Project
# role keys are tenant-scoped: "<slug>:admin", "<slug>:editor", "<slug>:viewer".
#
# With DEBUG on and no OIDC_OP_* variable set, sign-in goes to the development
# provider `make up` runs (Procfile `idp`: node-oidc-provider on 127.0.0.1:9400,
# seeded by scripts/dev_idp_seed.py, which registers this client and secret).
OIDC_DEV_PROVIDER = DEBUG and not any(
    env_str(name)
    for name in (
        "OIDC_OP_BASE_URL",
        "OIDC_OP_AUTHORIZATION_ENDPOINT",
        "OIDC_OP_TOKEN_ENDPOINT",
        "OIDC_OP_USER_ENDPOINT",
        "OIDC_OP_JWKS_ENDPOINT",
        "OIDC_OP_LOGOUT_ENDPOINT",
    )
)
OIDC_OP_BASE_URL = env_str("OIDC_OP_BASE_URL", "http://127.0.0.1:9400").rstrip("/")
if OIDC_DEV_PROVIDER:
    OIDC_OP_AUTHORIZATION_ENDPOINT = f"{OIDC_OP_BASE_URL}/auth"
    OIDC_OP_TOKEN_ENDPOINT = f"{OIDC_OP_BASE_URL}/token"
    OIDC_OP_USER_ENDPOINT = f"{OIDC_OP_BASE_URL}/me"
    OIDC_OP_JWKS_ENDPOINT = f"{OIDC_OP_BASE_URL}/jwks"
    OIDC_OP_LOGOUT_ENDPOINT = f"{OIDC_OP_BASE_URL}/session/end"
else:  # Zitadel's paths under OIDC_OP_BASE_URL, each overridable
    OIDC_OP_AUTHORIZATION_ENDPOINT = env_str(
        "OIDC_OP_AUTHORIZATION_ENDPOINT", f"{OIDC_OP_BASE_URL}/oauth/v2/authorize"
    )
    OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT", f"{OIDC_OP_BASE_URL}/oauth/v2/token")
    OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT", f"{OIDC_OP_BASE_URL}/oidc/v1/userinfo")
    OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT", f"{OIDC_OP_BASE_URL}/oauth/v2/keys")
    OIDC_OP_LOGOUT_ENDPOINT = env_str(
        "OIDC_OP_LOGOUT_ENDPOINT", f"{OIDC_OP_BASE_URL}/oidc/v1/end_session"
    )
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID", "nexiom-local")
OIDC_RP_CLIENT_SECRET = env_str(
    "OIDC_RP_CLIENT_SECRET",
    "nexiom-local-dev-only-not-a-secret" if OIDC_DEV_PROVIDER else "",  # loopback dev provider
)
if not DEBUG and not OIDC_RP_CLIENT_SECRET:
    raise ImproperlyConfigured("OIDC_RP_CLIENT_SECRET is required when DJANGO_DEBUG is off.")
OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = env_str(
    "OIDC_RP_SCOPES", "openid email profile urn:zitadel:iam:org:projects:roles"
)
OIDC_ROLES_CLAIM = env_str("OIDC_ROLES_CLAIM", "urn:zitadel:iam:org:project:roles")
OIDC_USE_PKCE = env_bool("OIDC_USE_PKCE", True)
OIDC_TOKEN_USE_BASIC_AUTH = env_bool("OIDC_TOKEN_USE_BASIC_AUTH", False)
OIDC_STORE_ID_TOKEN = True  # needed as id_token_hint for the provider's logout
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT", 10)
OIDC_CALLBACK_CLASS = "accounts.oidc.NexiomCallbackView"
OIDC_OP_LOGOUT_URL_METHOD = "accounts.oidc.provider_logout_url"
LOGIN_REDIRECT_URL_FAILURE = "/login/refused/"
# A session signed in through OIDC is re-checked at the provider after this
# long (a silent sign-in, prompt=none, that re-applies the role rules): an
# account deactivated there, or a role withdrawn, stops working within it.
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = env_int("OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS", 3600)

NEXIOM_INVITATION_TTL_HOURS = env_int("NEXIOM_INVITATION_TTL_HOURS", 72)
NEXIOM_API_TOKEN_DEFAULT_DAYS = env_int("NEXIOM_API_TOKEN_DEFAULT_DAYS", 90)
NEXIOM_API_TOKEN_MAX_DAYS = env_int("NEXIOM_API_TOKEN_MAX_DAYS", 365)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "DENY"

# --- HTTPS (production) ---------------------------------------------------------
# With DEBUG off: plain HTTP is redirected to HTTPS and browsers are told to
# stay on HTTPS for a year, tenant subdomains included. The health probes are
# exempt, since load balancers and the image's HEALTHCHECK call them over HTTP.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading is hard to undo (browsers ship the list): the operator opts in.
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
# Only a proxy we run may say the request came over HTTPS: without one, any
# client could send X-Forwarded-Proto itself. The Host header is never taken
# from X-Forwarded-Host (it picks the tenant).
NEXIOM_BEHIND_PROXY = env_bool("NEXIOM_BEHIND_PROXY", False)
if NEXIOM_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = False

# Bodies are read into memory: bound them (forms in the Desk and the API alike).
# A larger API body gets a 413 in the API's error shape (nexiom/parsers.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
NEXIOM_API_MAX_BODY_BYTES = DATA_UPLOAD_MAX_MEMORY_SIZE

REST_FRAMEWORK = {
    # Documents the one error body on every operation (nexiom/openapi.py).
    "DEFAULT_SCHEMA_CLASS": "nexiom.openapi.NexiomAutoSchema",
    # JSON bounded in size and depth; forms only for the browsable API.
    "DEFAULT_PARSER_CLASSES": [
        "nexiom.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "nexiom.parsers.BoundedContentNegotiation",
    # Bearer first: an anonymous call gets 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.IsMember"],
    # One error body for every API error (nexiom/api_errors.py).
    "EXCEPTION_HANDLER": "nexiom.api_errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Nexiom API",
    "DESCRIPTION": "Tenant API of the Nexiom integration platform.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc from drf_spectacular_sidecar's static files: the
    # docs work offline and never load unpinned code from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No validator badge: it would send the schema's URL to swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status" or "layer": give each enum its own stable name.
    "ENUM_NAME_OVERRIDES": {
        "ConnectionStatusEnum": "connectors.models.ConnectionStatus",
        "SyncEventStatusEnum": "sync_history.models.EventStatus",
        "SyncLayerEnum": "sync_history.models.Layer",
        "ReplayLayerEnum": "sync_history.services.REPLAYABLE",
    },
}

# --- Static, i18n ------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# In dev, WhiteNoise serves straight from the apps' static folders.
WHITENOISE_USE_FINDERS = DEBUG
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", f"Nexiom <no-reply@{NEXIOM_BASE_DOMAIN}>")

# --- Vault -------------------------------------------------------------------
# Versioned keyring "2:<base64 of 32 bytes>,1:<...>": the highest version seals,
# every listed version opens (see vault/keyring.py). Required when DEBUG is off:
# missing or malformed, start-up stops (vault.apps). In dev, without it, a key
# is generated once into the git-ignored file below and reused.
NEXIOM_VAULT_KEYS = env_str("NEXIOM_VAULT_KEYS")
NEXIOM_VAULT_DEV_KEY_FILE = BASE_DIR / "var" / "vault-dev.keys" if DEBUG else None

# --- Logs and metrics ----------------------------------------------------------
# NEXIOM_LOG_FORMAT=json: one JSON object per line with the tenant, the Celery task
# and the correlation id of the record being processed (nexiom/logging_json.py);
# plain text otherwise (development). Either way through the vault's redaction.
NEXIOM_LOG_FORMAT = env_str("NEXIOM_LOG_FORMAT", "plain").strip().lower() or "plain"
if NEXIOM_LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(
        f"NEXIOM_LOG_FORMAT must be plain or json, got {NEXIOM_LOG_FORMAT!r}"
    )
# A Celery worker leaves the root logger to LOGGING when logs are JSON.
CELERY_WORKER_HIJACK_ROOT_LOGGER = NEXIOM_LOG_FORMAT != "json"
# /metrics (public host only) merges the files every process writes under this
# directory (prometheus_client's multiprocess mode, PROMETHEUS_MULTIPROC_DIR); without
# one, it serves this process's own registry (nexiom/metrics_view.py).
NEXIOM_METRICS_DIR = env_str("NEXIOM_METRICS_DIR") or env_str("PROMETHEUS_MULTIPROC_DIR")
# Who may scrape /metrics: addresses or networks (CIDR). Loopback only in production,
# anyone in development; "*" allows everyone.
NEXIOM_METRICS_ALLOWED_IPS = env_list(
    "NEXIOM_METRICS_ALLOWED_IPS", ["*"] if DEBUG else ["127.0.0.1", "::1"]
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "nexiom.logging_json.JsonFormatter"},
    },
    # Scrubs token-shaped fields and every value the vault revealed in this process.
    "filters": {"vault_redact": {"()": "vault.redaction.RedactingFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": NEXIOM_LOG_FORMAT,
            "filters": ["vault_redact"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("NEXIOM_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own handlers (an unfiltered console one when DEBUG, runserver's request
        # lines) would write what the vault's filter scrubs, e.g. "Not Found: /hooks/<token>":
        # they are dropped, and the records go to the root's console like every other.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}

# `python manage.py test` runs the pytest suite (see nexiom/test_runner.py).
TEST_RUNNER = "nexiom.test_runner.PytestTestRunner"
