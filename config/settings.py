"""Switchboard settings, read from environment variables with embedded defaults.

Unset `DATABASE_URL` and `REDIS_URL` give the embedded mode of `make run`: a SQLite file, the in-memory
channel layer and Celery tasks run inside the web process. Setting them gives production: PostgreSQL,
`channels_redis` and a real broker with separate worker processes.
"""

import secrets
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("SWITCHBOARD_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()


def _embedded_secret_key() -> str:
    """A random key kept in var/ so sessions and encrypted channel secrets survive restarts."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _embedded_secret_key()
# Channel secrets (access tokens, app secrets) are encrypted with this key; it defaults to SECRET_KEY.
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default=SECRET_KEY)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "accounts",
    "inbox",
    "templates_app",
    "simulator",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
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
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'switchboard.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while the in-process task thread writes; IMMEDIATE transactions take the
    # write lock up front so two writers queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("TEST", {})
if env.str("TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"]["NAME"] = env.str("TEST_DATABASE_NAME")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# Serve from the app's static/ folders too, so a checkout works before `collectstatic` has run.
SERVESTATIC_USE_FINDERS = True
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# Live events and background work. REDIS_URL unset = everything inside the web process.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Short-lived shared state (sockets' last sign of life for presence, rate-limit counters) must be seen by
# every process in production: Redis there, the process's memory in the embedded mode.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

# E-mail (template alerts): printed to the console unless EMAIL_URL names a server, e.g.
# smtp+tls://user:password@mail.example.com:587. SITE_URL makes the links in e-mails absolute.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Switchboard <switchboard@localhost>")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# The built-in WhatsApp Cloud API simulator (simulator/): on in the embedded mode, opt-in in production.
SIMULATOR_ENABLED = env.bool("SIMULATOR_ENABLED", default=not REDIS_URL)
# Where the simulator POSTs its signed webhooks (e.g. http://127.0.0.1:8000/webhooks/whatsapp); unset = in-process.
SIMULATOR_WEBHOOK_URL = env.str("SIMULATOR_WEBHOOK_URL", default="")
# How long the simulator "reviews" a submitted template before approving or rejecting it.
SIMULATOR_TEMPLATE_REVIEW_SECONDS = env.float("SIMULATOR_TEMPLATE_REVIEW_SECONDS", default=3.0)

# How queued tasks run: "worker" (a Celery worker process via the broker), "thread" (a background
# thread inside the web process: the embedded mode) or "eager" (at once, in the caller: tests).
TASK_RUNNER = env.str("TASK_RUNNER", default="worker" if REDIS_URL else "thread")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
# Celery's Django fix-up closes the DB connection around every task unless told to reuse it.
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_ROUTES = {
    "inbox.tasks.process_webhook_event": {"queue": "inbound"},
    "inbox.tasks.deliver_message": {"queue": "outbound"},
    "inbox.tasks.mark_conversation_read": {"queue": "outbound"},
}
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "requeue-stale-webhook-events": {
        "task": "inbox.tasks.requeue_stale_webhook_events",
        "schedule": timedelta(minutes=1),
    },
    "requeue-stale-outbox": {
        "task": "inbox.tasks.requeue_stale_outbox",
        "schedule": timedelta(minutes=1),
    },
    "wake-snoozed-conversations": {
        "task": "inbox.tasks.wake_snoozed_conversations",
        "schedule": timedelta(minutes=1),
    },
    "expire-presence": {
        "task": "inbox.tasks.expire_presence",
        "schedule": timedelta(minutes=1),
    },
    # Templates created outside Switchboard (in Meta's manager) appear, and missed webhooks are caught up.
    "sync-templates": {
        "task": "templates_app.tasks.sync_all_templates",
        "schedule": timedelta(hours=1),
    },
    # --- Compliance (issue 6): number health sync, escalation clock, window-closing alerts. ---
    # The simulator plays Meta's periodic number review (does nothing when the simulator is off).
    "simulator-review-number-health": {
        "task": "simulator.tasks.review_number_health",
        "schedule": timedelta(minutes=1),
    },
    # Each number's quality, status, messaging limit and throughput, read from WhatsApp (webhooks can be missed).
    "sync-number-health": {
        "task": "inbox.tasks.sync_all_number_health",
        "schedule": timedelta(hours=1),
    },
    # A restriction WhatsApp announced with an expiration ends by itself when it passes.
    "lift-expired-restrictions": {
        "task": "inbox.tasks.lift_expired_restrictions",
        "schedule": timedelta(minutes=1),
    },
    # The assignee hears when a conversation's 24-hour window closes within WINDOW_ALERT_LEAD_MINUTES.
    "alert-closing-windows": {
        "task": "inbox.tasks.alert_closing_windows",
        "schedule": timedelta(minutes=1),
    },
    "advance-escalations": {
        "task": "inbox.tasks.advance_escalations",
        "schedule": timedelta(minutes=1),
    },
}
# "Window closing soon": the assignee's alert and the conversation list's filter, this many minutes before the
# 24-hour customer-service window closes.
WINDOW_ALERT_LEAD_MINUTES = env.int("WINDOW_ALERT_LEAD_MINUTES", default=120)
# A stored delivery still unprocessed after this long is handed to a worker again.
WEBHOOK_REQUEUE_AFTER = timedelta(seconds=env.int("WEBHOOK_REQUEUE_AFTER_SECONDS", default=60))
# Pacing of sends (inbox/limiter.py): under each number's throughput and WhatsApp's pair rate (1 message per
# 6 s to one customer, bursts borrowed up to 45), a little under both (PACING_MARGIN) so that network jitter
# never trips 130429/131056. Shared through Redis when there is one. A wait up to PACING_MAX_SLEEP_SECONDS is
# slept by the worker; a longer one puts the message back until its turn. PACING_ENABLED unset = on, except
# when tasks run "eager" (tests: no delays there, see config/task_queue.py); tests of pacing turn it on.
PACING_ENABLED = env.bool("PACING_ENABLED", default=None)
PACING_REDIS_URL = env.str("PACING_REDIS_URL", default=REDIS_URL)
PACING_MARGIN = env.float("PACING_MARGIN", default=0.95)
PACING_PAIR_INTERVAL_SECONDS = env.float("PACING_PAIR_INTERVAL_SECONDS", default=6.0)
PACING_PAIR_BURST = env.int("PACING_PAIR_BURST", default=40)
PACING_MAX_SLEEP_SECONDS = env.float("PACING_MAX_SLEEP_SECONDS", default=1.0)

# Meta may send up to 3 MB per delivery; the webhook view reads the body itself up to this size.
WEBHOOK_MAX_BYTES = 3 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = WEBHOOK_MAX_BYTES + 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "inbox.api.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Login tries (web and API alike) are counted by accounts.ratelimit: 10 failures in 15 minutes.
    # How many reverse proxies stand in front of Daphne; client addresses for throttling depend on it.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": "Multi-agent WhatsApp inbox. Authenticate with `Authorization: Token <token>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files come from the installed sidecar package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Fields named alike ("status", "kind") with different choices get stable enum names.
    "ENUM_NAME_OVERRIDES": {
        "ConversationStatusEnum": "inbox.models.ConversationStatus.choices",
        "ChannelKindEnum": "inbox.models.ChannelKind.choices",
        "TemplateCategoryEnum": "templates_app.models.TemplateCategory.choices",
        "ParameterFormatEnum": "templates_app.models.ParameterFormat.choices",
        "TemplateRevisionStateEnum": "templates_app.models.RevisionState.choices",
        "WebhookEventStateEnum": "inbox.models.WebhookEventState.choices",
    },
}

DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="switchboard-demo")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    CSRF_COOKIE_HTTPONLY = False
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
