"""Settings for Handoff.

Every setting that differs between machines is read from the environment here, and only here,
with defaults that run on a developer's machine (PostgreSQL and Redis on 127.0.0.1).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# --- Core ------------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for a local development key).")
    SECRET_KEY = "dev-only-insecure-key-never-used-when-debug-is-off"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "handoff.apps.HandoffAdminConfig",  # django.contrib.admin, for superusers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files for the API docs page, served as static files
    # The project package; an app only for the migrations that hold its former models' history,
    # the site-wide pages' templates and `preflight`.
    "handoff",
    # The domain, lowest layer first (see .importlinter: each app imports only the ones above it here).
    "common",
    "people",
    "notifications",
    "sla",
    "leads",
    "enforcement",
    "campaigns",
    "routing",
    "appeals",
    "replays",
    "reporting",
    "demo",
    "api",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "handoff.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # Serves the collected static files (`manage.py collectstatic`); runserver does it when DEBUG.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "handoff.urls"
WSGI_APPLICATION = "handoff.wsgi.application"

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
                "people.roles.roles_context",
                "people.navigation.navigation_context",
                "notifications.services.unread_context",
                "enforcement.health.sweep_context",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------------
# One PostgreSQL database, one schema shared by the apps. `manage.py preflight` creates it if missing.
DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/handoff")
# Seconds a connection is kept for the next request. 0 (close after each request) suits the dev server
# and the workers; handoff/gunicorn.conf.py sets 60, where a fixed set of worker threads reuses them.
CONN_MAX_AGE = int(os.environ.get("CONN_MAX_AGE", "0"))
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=CONN_MAX_AGE, conn_health_checks=True)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out user or IP before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation --------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
# The one currency of the installation's money (ISO 4217 code): budgets, spend, deal values, targets.
CURRENCY = os.environ.get("CURRENCY", "EUR").upper()
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
# One date format everywhere (issue 23): templates name the formats defined in handoff/formats/.
FORMAT_MODULE_PATH = ["handoff.formats"]
USE_TZ = True

# --- Static files ----------------------------------------------------------------------------
# Bootstrap and Chart.js come from node_modules (npm ci, pinned in package-lock.json); nothing third-party is
# committed. WhiteNoise serves the collected files in production.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/chart.js", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
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

# Plain <input> widgets are written in Python, every other widget by Django's templates (handoff/renderers.py).
FORM_RENDERER = "handoff.renderers.InputRenderer"
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email -----------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds before a silent mail server counts as failed; well within an email claim's lease.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
# Where the file backend (EMAIL_BACKEND=…filebased.EmailBackend) writes; the storm drill uses it.
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "sent-emails"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Handoff <handoff@localhost>")
# Absolute links in emails ("open the lead") are built on this.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Celery ----------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Where beat remembers when each periodic task last ran: in the checkout by default, so a fresh clone
# starts without root; `manage.py preflight` creates the directory of any other path.
CELERY_BEAT_SCHEDULE_FILENAME = os.environ.get("BEAT_SCHEDULE_FILE", str(BASE_DIR / "var" / "celerybeat-schedule"))
# Seconds between sweeps: a deadline is recorded at most this long (plus one sweep) after it falls
# due. A sweep with nothing due is two index probes (a few ms), so it can run often.
SLA_SWEEP_INTERVAL = float(os.environ.get("SLA_SWEEP_INTERVAL", "5"))
# Deadlines one sweep transaction takes at a time; a killed worker loses at most one batch of work.
# 1,000 records a storm of 10,000 a tenth faster than 500 (fewer commits); 2,000 gains nothing more.
SLA_SWEEP_BATCH_SIZE = int(os.environ.get("SLA_SWEEP_BATCH_SIZE", "1000"))
# The sweep has a queue of its own, served by its own worker (`-Q sla`, the Procfile's `sla` line):
# nothing else goes there, so a backlog of notifications, escalation steps or safety nets on the
# other queues can never hold up the next sweep.
SLA_QUEUE = "sla"
# Escalation steps have a lane of their own too (`-Q escalations`, the Procfile's `escalations`
# line), in sets: a storm's 300,000 steps neither wait behind its emails nor hold them up.
ESCALATION_QUEUE = "escalations"
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "enforcement.tasks.sweep_deadlines": {"queue": SLA_QUEUE},
    # The safety nets stay off the sweep's path: on the general queue, each with a fixed budget per run.
    "enforcement.tasks.requeue_stuck_escalations": {"queue": CELERY_TASK_DEFAULT_QUEUE},
    "enforcement.tasks.requeue_lost_breach_notices": {"queue": CELERY_TASK_DEFAULT_QUEUE},
    "notifications.tasks.resend_unsent_emails": {"queue": CELERY_TASK_DEFAULT_QUEUE},
    "sla.tasks.start_signed_policies": {"queue": CELERY_TASK_DEFAULT_QUEUE},
    # A replay takes a worker for up to half a minute: the general queue, never the sweep's.
    "replays.tasks.run_replay": {"queue": CELERY_TASK_DEFAULT_QUEUE},
    "enforcement.tasks.run_escalation": {"queue": ESCALATION_QUEUE},
    "enforcement.tasks.run_escalations": {"queue": ESCALATION_QUEUE},
}
# --- Alerts in Slack and Teams, outbound webhooks (integrations/) ------------------------------
# Seconds between relay runs (beat); each run sends what the outbox holds and what is due to retry.
WEBHOOK_RELAY_INTERVAL = float(os.environ.get("WEBHOOK_RELAY_INTERVAL", "2"))
# Seconds an endpoint or channel has to answer one delivery.
WEBHOOK_TIMEOUT = float(os.environ.get("WEBHOOK_TIMEOUT", "5"))
# An endpoint or channel whose every delivery failed for this long is switched off (managers told).
WEBHOOK_DISABLE_AFTER_HOURS = float(os.environ.get("WEBHOOK_DISABLE_AFTER_HOURS", "24"))
# More than this many alerts of one type to one channel within the window are summed up in one message.
ALERT_STORM_THRESHOLD = int(os.environ.get("ALERT_STORM_THRESHOLD", "10"))
ALERT_STORM_WINDOW = int(os.environ.get("ALERT_STORM_WINDOW", "300"))
# Days a finished delivery (delivered or given up) stays in the delivery log.
WEBHOOK_LOG_RETENTION_DAYS = int(os.environ.get("WEBHOOK_LOG_RETENTION_DAYS", "30"))
# Endpoints and channels on this machine (http://127.0.0.1, localhost) are refused in production.
INTEGRATIONS_ALLOW_LOOPBACK = env_bool("INTEGRATIONS_ALLOW_LOOPBACK", DEBUG)

CELERY_BEAT_SCHEDULE = {
    "sla-sweep": {
        "task": "enforcement.tasks.sweep_deadlines",
        "schedule": SLA_SWEEP_INTERVAL,
        # A sweep that waited longer than one interval is stale: the next one does its work.
        "options": {"expires": SLA_SWEEP_INTERVAL},
    },
    # Tasks requests left in the outbox while the broker was down, published oldest first.
    "outbox-relay": {
        "task": "common.tasks.relay_outbox",
        "schedule": 10.0,
        "options": {"expires": 10},
    },
    # Escalation steps whose task message was lost (broker restart, killed worker) are enqueued again,
    # in sets, once they have waited escalation.STUCK_AFTER: checked every minute, so a lost fan-out
    # waits at most about six minutes.
    "escalation-requeue-stuck": {
        "task": "enforcement.tasks.requeue_stuck_escalations",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    # Breach notices whose task message was lost, likewise.
    "breach-notices-requeue-lost": {
        "task": "enforcement.tasks.requeue_lost_breach_notices",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
    # Emails of notifications whose task failed or was lost (database or broker down, a killed
    # worker): sent once, after their claim has lapsed.
    "notification-emails-resend-unsent": {
        "task": "notifications.tasks.resend_unsent_emails",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    # SLA policy drafts signed by both heads come into force at their start time (sla.agreement).
    "sla-start-signed-policies": {
        "task": "sla.tasks.start_signed_policies",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    # Last month's campaign MQL targets and acceptance rates; notifies each shortfall once.
    "campaign-targets-monthly": {
        "task": "campaigns.tasks.check_campaign_targets",
        "schedule": crontab(minute=0, hour=6, day_of_month=1),
        "options": {"expires": 24 * 3600},
    },
    # Digests of the notifications users chose not to get one by one; each run sends only what waits.
    "notification-digest-hourly": {
        "task": "notifications.tasks.send_digests",
        "schedule": crontab(minute=0),
        "args": ("hourly",),
        "options": {"expires": 3600},
    },
    "notification-digest-daily": {
        "task": "notifications.tasks.send_digests",
        "schedule": crontab(hour=7, minute=0),
        "args": ("daily",),
        "options": {"expires": 24 * 3600},
    },
    # Leads that waited in the queue because nobody was on shift go to the first reps whose shift starts.
    "routing-waiting-leads": {
        "task": "routing.tasks.route_waiting_leads",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    # Leads whose rep is away when their first contact falls due move before the miss (routing rules).
    "routing-rebalance-before-breach": {
        "task": "routing.tasks.rebalance_before_breach",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    # Alerts and webhooks: the outbox into deliveries, storms into summaries, what is due sent
    # (integrations.relay). The general queue: a slow endpoint never delays the SLA sweep.
    "integrations-relay": {
        "task": "integrations.tasks.relay",
        "schedule": WEBHOOK_RELAY_INTERVAL,
        "options": {"expires": WEBHOOK_RELAY_INTERVAL},
    },
    "integrations-log-purge": {
        "task": "integrations.tasks.purge_log",
        "schedule": crontab(hour=3, minute=45),
        "options": {"expires": 24 * 3600},
    },
    "integrations-daily-digest": {
        "task": "integrations.tasks.send_daily_digests",
        "schedule": crontab(hour=7, minute=0),
        "options": {"expires": 3600},
    },
    # Uploaded CSV files and web intake's idempotency records past their retention.
    "retention-purge-daily": {
        "task": "campaigns.tasks.purge_expired_data",
        "schedule": crontab(hour=3, minute=30),
        "options": {"expires": 24 * 3600},
    },
    # The read models recounted in part and compared with what is stored; managers and the log are
    # told when they differ (reporting.verify). On the general queue: it reads for a few seconds.
    "read-models-verify-daily": {
        "task": "reporting.tasks.verify_read_models",
        "schedule": crontab(hour=4, minute=15),
        "options": {"expires": 24 * 3600},
    },
}

# --- Web-to-lead intake ---------------------------------------------------------------------
INTAKE_MAX_BODY_BYTES = int(os.environ.get("INTAKE_MAX_BODY_BYTES", str(16 * 1024)))
INTAKE_RATE_PER_IP = int(os.environ.get("INTAKE_RATE_PER_IP", "60"))
INTAKE_RATE_PER_CAMPAIGN = int(os.environ.get("INTAKE_RATE_PER_CAMPAIGN", "600"))
INTAKE_RATE_WINDOW = int(os.environ.get("INTAKE_RATE_WINDOW", "60"))
# How many reverse proxies in front of the app append to X-Forwarded-For (0: use REMOTE_ADDR).
INTAKE_TRUSTED_PROXIES = int(os.environ.get("INTAKE_TRUSTED_PROXIES", "0"))

# --- REST API (api/) -------------------------------------------------------------------------
# Token or session authentication, role checks per view, JSON errors, limits per token (or per user
# for a signed-in browser) counted in Redis so every web process shares them.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.HasRole"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttles.RequestRateThrottle", "api.throttles.WriteRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
}
# Requests per token (or signed-in user): all of them, and the writes among them (POST, PATCH).
API_RATE = os.environ.get("API_RATE", "600/minute")
API_WRITE_RATE = os.environ.get("API_WRITE_RATE", "120/minute")
SPECTACULAR_SETTINGS = {
    "TITLE": "Handoff API",
    "DESCRIPTION": "Leads, campaigns, deadlines, assignment and deals, with the same role rules as the pages.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "leads.models.LeadStatus",
        "DealStageEnum": "leads.models.Deal.Stage",
        "CampaignStatusEnum": "campaigns.models.Campaign.Status",
    },
}

# --- Caches ----------------------------------------------------------------------------------
# The default cache stays in each process (the dashboard's trends); the API's rate limits live in
# Redis, so a token gets its limit once across every web process.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "throttle": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "handoff-throttle",
    },
}

# --- Login throttling (django-axes) ---------------------------------------------------------
# Failed logins on /accounts/login/ and /admin/login/ are counted per username from one address, and
# per address alone, each with its own limit (people.lockouts.LoginThrottleHandler): a username is
# locked out from that address only, so nobody elsewhere can lock a colleague out by guessing; an
# address trying many usernames is locked out for all of them after more failures. A lockout lasts
# the cool-off time; a manager lifts it on the "Locked logins" page. Attempts are kept in the database.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "10"))
LOGIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("LOGIN_ADDRESS_FAILURE_LIMIT", "30"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "people.lockouts.LoginThrottleHandler"
AXES_LOCKOUT_CALLABLE = "people.views.lockouts.locked_out"
# The client's address the way web intake reads it (INTAKE_TRUSTED_PROXIES), so a proxy in front
# of the app does not make every visitor one address.
AXES_CLIENT_IP_CALLABLE = "people.lockouts.login_client_ip"
# Successful logins are not logged by axes: Django's session is the record of who is signed in.
AXES_DISABLE_ACCESS_LOG = True

# --- Content-Security-Policy (django-csp) ----------------------------------------------------
# Only Handoff's own scripts, styles, images and fonts; no inline script, event handler or style
# attribute anywhere (JS lives in static/js/, widths set from data-* attributes). Bootstrap's CSS
# draws its checkboxes and select arrows with data: SVG images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Retention -------------------------------------------------------------------------------
# A daily beat job drops what is only needed for a while (see campaigns/retention.py).
IMPORT_FILE_RETENTION_DAYS = int(os.environ.get("IMPORT_FILE_RETENTION_DAYS", "30"))
INTAKE_IDEMPOTENCY_RETENTION_DAYS = int(os.environ.get("INTAKE_IDEMPOTENCY_RETENTION_DAYS", "7"))

# --- Logging ---------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# --- Security (production) -------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# PLAIN_HTTP=1 serves DEBUG=0 over plain HTTP (no HTTPS redirect, no HTTPS-only cookies, no HSTS)
# for a local benchmark behind no proxy. Never in production; off by default.
PLAIN_HTTP = env_bool("PLAIN_HTTP", False)
# Load balancers and monitors probe the app itself, over plain HTTP, behind the proxy that does TLS.
SECURE_REDIRECT_EXEMPT = [r"^livez$", r"^healthz$"]
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not PLAIN_HTTP)
    SESSION_COOKIE_SECURE = not PLAIN_HTTP
    CSRF_COOKIE_SECURE = not PLAIN_HTTP
    SECURE_HSTS_SECONDS = 0 if PLAIN_HTTP else int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
