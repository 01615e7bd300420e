"""One settings module, driven by the environment.

Every value has a working default so `make run` works on a machine with only
Python; production (config.settings_production) tightens what must not be
left at a default.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


INSECURE_SECRET_PREFIX = "django-insecure-"
SECRET_KEY = os.environ.get("SECRET_KEY", INSECURE_SECRET_PREFIX + "dev-only-change-me")
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "core",
    "meetings",
    "recordings",
    "media_library",
    "rooms",
    "webhooks",  # signed events to other systems (docs/integrations.md, decision 0020)
    # The REST API (docs/integrations.md), its OpenAPI schema, and Swagger UI / Redoc served from here.
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    # LTI 1.3 launches from learning platforms (docs/integrations.md "LTI 1.3", decision 0021):
    # django-lti's registrations, deployments and keys (lti_tool), the product's edge (lti).
    "lti_tool",
    "lti",
    # The simulator (`manage.py simulate_meeting`), only where the `loadtest` extra is installed (decision 0009).
    *(["loadtest"] if all(importlib.util.find_spec(name) for name in ("websockets", "httpx")) else []),
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
if DEBUG:
    # The product's error pages in DEBUG too, never the technical ones (config/errors.py, decision 0012);
    # outermost, so that it sees the technical page whichever layer made it.
    MIDDLEWARE.insert(0, "config.errors.DebugErrorPagesMiddleware")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = None
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
                "media_library.context_processors.recording_notices",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        # Persistent connections: a new PostgreSQL connection per consumer call was a third of
        # Daphne's database thread under 1,000 sockets (docs/benchmarks.md).
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Daphne, the worker and beat share one SQLite file: wait for locks
    # instead of failing, and let readers run beside the writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

AUTH_USER_MODEL = "meetings.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media-files/"  # never served directly: media goes through access checks
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Storage: the file system by default, S3 through django-storages when a bucket is set.
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage: dict[str, Any] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "addressing_style": os.environ.get("AWS_S3_ADDRESSING_STYLE") or None,  # "path" for most S3 clones
            "access_key": os.environ.get("AWS_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,  # media is only ever reached by signed, expiring URLs
            "querystring_expire": env_int("MEDIA_URL_TTL_SECONDS", 600),
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }
STORAGES: dict[str, dict[str, Any]] = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Retention and the recycle bin (media_library, docs/decisions/0024). Recordings go to the recycle
# bin RETENTION_DAYS after RETENTION_BASIS ("created" or "last_viewed"); unset: kept. A room or a
# channel may override it (admin: Retention policies). Binned entries are restorable for RECYCLE_BIN_DAYS.
RETENTION_DAYS: int | None = env_int("RETENTION_DAYS", 0) or None
RETENTION_BASIS = os.environ.get("RETENTION_BASIS", "created")
RECYCLE_BIN_DAYS = env_int("RECYCLE_BIN_DAYS", 30)
RETENTION_WARNING_DAYS = env_int("RETENTION_WARNING_DAYS", 7)
RETENTION_SWEEP_SECONDS = env_float("RETENTION_SWEEP_SECONDS", 15 * 60)

# Where incoming segments wait for composition; workers must reach it (DESIGN.md).
SPOOL_DIR = Path(os.environ.get("SPOOL_DIR", VAR_DIR / "spool"))
WORK_DIR = Path(os.environ.get("WORK_DIR", VAR_DIR / "work"))
# The spool and the composed fragments in object storage instead, so that workers share no disk
# (docs/decisions/0025): set a bucket and both move there, under these key prefixes, reached with
# the AWS_* settings of the media storage above (endpoint, region, addressing style, keys). Then
# SPOOL_DIR only stages bodies on their way to S3 and WORK_DIR is each task's scratch space.
RECORDING_MEDIA_BUCKET = os.environ.get("RECORDING_MEDIA_BUCKET", "")
RECORDING_SPOOL_PREFIX = os.environ.get("RECORDING_SPOOL_PREFIX", "spool/")
RECORDING_FRAGMENT_PREFIX = os.environ.get("RECORDING_FRAGMENT_PREFIX", "fragments/")
# The local fragment store (no bucket): one directory per recording, its fragments and final MP4;
# unset, it is WORK_DIR (one machine: as before the fragment store existed).
FRAGMENT_DIR: Path | None = Path(os.environ["FRAGMENT_DIR"]) if os.environ.get("FRAGMENT_DIR") else None
# A published recording's segments and fragments are removed by the sweep this long after it
# became available (its MP4 is then in the media storage).
RECORDING_MEDIA_KEEP_SECONDS = env_float("RECORDING_MEDIA_KEEP_SECONDS", 0)

# --- Redis: channel layer, Celery broker and cache.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_db(url: str) -> str:
    """The DB number of a redis:// URL (path or ?db=), "0" when it names none."""
    parsed = urlparse(url)
    return (parse_qs(parsed.query).get("db") or [parsed.path.strip("/")])[0] or "0"


def default_namespace(database_name: str, redis_url: str) -> str:
    """This deployment's share of a Redis server, derived so that two copies differ unconfigured.

    Two copies that keep their data apart use different databases or different Redis DBs; either
    changes this name. Readable in `redis-cli` (the database's name and the DB number), made unique
    by a hash of the full database name (a SQLite path).
    """
    label = re.sub(r"[^a-z0-9]+", "-", Path(database_name).stem.lower()).strip("-")[:24] or "db"
    db = re.sub(r"[^0-9]+", "", redis_db(redis_url))[:4] or "0"
    digest = hashlib.sha256(database_name.encode()).hexdigest()[:8]
    return f"liverec-{label}-{db}-{digest}"


NAMESPACE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,47}")
# Redis pub/sub ignores the DB number, and Celery's queues and the cache would share keys on one DB:
# every name this deployment uses in Redis starts with this (docs/decisions/0013). Set it when
# the derived default is not wanted (two copies on one database and one Redis DB; a rename).
DEPLOYMENT_NAMESPACE = os.environ.get("DEPLOYMENT_NAMESPACE") or default_namespace(
    str(DATABASES["default"]["NAME"]), REDIS_URL
)
if not NAMESPACE_PATTERN.fullmatch(DEPLOYMENT_NAMESPACE):
    raise ImproperlyConfigured("DEPLOYMENT_NAMESPACE must be 1-48 letters, digits, '.', '_' or '-'.")

CHANNEL_LAYERS: dict[str, dict[str, Any]] = {
    "default": {
        # The pub/sub layer carries a 1,000-socket room where the list-based
        # layer drops notices (NOTES.md: channels_redis #83, capacity 100).
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        # Every group and socket channel name starts with the namespace (pub/sub has no DB).
        "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{DEPLOYMENT_NAMESPACE}."},
    }
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": DEPLOYMENT_NAMESPACE,
    }
}

# --- Celery
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# The queues by role; scripts/run.py starts a worker per line below (README "Run").
TASK_QUEUES = {
    "default": f"{DEPLOYMENT_NAMESPACE}.default",  # publishing notices, small work
    "media": f"{DEPLOYMENT_NAMESPACE}.media",  # composition, finalize, publish: minutes of CPU
    # The sweeps act on deadlines (host left, caps, lost work): their own worker, never behind
    # composition (issue 10: discarded 18 times while both processes composed).
    "sweep": f"{DEPLOYMENT_NAMESPACE}.sweep",
    # Outgoing webhook calls (up to WEBHOOK_TIMEOUT_SECONDS each): a slow receiver waits here,
    # never in front of a recording's work or a deadline (docs/decisions/0020).
    "webhooks": f"{DEPLOYMENT_NAMESPACE}.webhooks",
}
CELERY_TASK_QUEUES = tuple(Queue(name) for name in TASK_QUEUES.values())
CELERY_TASK_DEFAULT_QUEUE = TASK_QUEUES["default"]
CELERY_TASK_ROUTES = {
    "recordings.tasks.compose_window": {"queue": TASK_QUEUES["media"]},
    "recordings.tasks.finalize_recording": {"queue": TASK_QUEUES["media"]},
    "media_library.tasks.publish_recording": {"queue": TASK_QUEUES["media"]},
    "media_library.tasks.prepare_presentation": {"queue": TASK_QUEUES["media"]},
    "meetings.tasks.sweep_sessions": {"queue": TASK_QUEUES["sweep"]},
    "recordings.tasks.sweep_recordings": {"queue": TASK_QUEUES["sweep"]},
    "webhooks.tasks.deliver": {"queue": TASK_QUEUES["webhooks"]},
    "webhooks.tasks.sweep_deliveries": {"queue": TASK_QUEUES["sweep"]},
    "media_library.tasks.sweep_retention": {"queue": TASK_QUEUES["sweep"]},
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_MAX_TASKS_PER_CHILD = 50  # native media libraries leak slowly
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
# global_keyprefix: every key and pub/sub channel kombu uses (queues, unacked, bindings, remote control).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60, "global_keyprefix": f"{DEPLOYMENT_NAMESPACE}:"}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Deadlines act within this; each sweep is a few indexed queries.
SWEEP_INTERVAL_SECONDS = env_float("SWEEP_INTERVAL_SECONDS", 2.0)
# Each app sweeps its own deadlines (DESIGN.md "One direction").
CELERY_BEAT_SCHEDULE = {
    "sweep-sessions": {
        "task": "meetings.tasks.sweep_sessions",
        "schedule": SWEEP_INTERVAL_SECONDS,
        "options": {"expires": SWEEP_INTERVAL_SECONDS * 2},
    },
    "sweep-recordings": {
        "task": "recordings.tasks.sweep_recordings",
        "schedule": SWEEP_INTERVAL_SECONDS,
        "options": {"expires": SWEEP_INTERVAL_SECONDS * 2},
    },
}
# --- Webhooks (webhooks/, docs/integrations.md "Webhooks", decision 0020)
# One HTTP try waits at most this long for each step (connect, send, each read) of the answer.
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 10)
# Seconds from a failed try to the next; after the last one the delivery has failed. The default
# makes 10 tries over ~34 hours (the last 34 h after the first), so a receiver down a day still gets it.
WEBHOOK_RETRY_SCHEDULE_SECONDS = [
    float(s) for s in env_list("WEBHOOK_RETRY_SCHEDULE_SECONDS", ["5", "30", "120", "600", "3600", "10800",
                                                                 "21600", "43200", "43200"])
]  # fmt: skip
# After a secret rotation the previous secret signs too (a second signature) for this long.
WEBHOOK_SECRET_OVERLAP_SECONDS = env_float("WEBHOOK_SECRET_OVERLAP_SECONDS", 24 * 60 * 60)
# Receivers on loopback, private, link-local or reserved addresses are refused (SSRF) unless set.
WEBHOOK_ALLOW_INTERNAL_TARGETS = env_bool("WEBHOOK_ALLOW_INTERNAL_TARGETS", False)
# Absolute links in payloads (an entry's page, its download) start with this.
WEBHOOK_SITE_URL = os.environ.get("WEBHOOK_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# A delivery queued this long ago and never sent (its task lost with Redis) is queued again.
WEBHOOK_REQUEUE_SECONDS = env_float("WEBHOOK_REQUEUE_SECONDS", 60)
WEBHOOK_SWEEP_SECONDS = env_float("WEBHOOK_SWEEP_SECONDS", 5)
CELERY_BEAT_SCHEDULE["sweep-webhooks"] = {
    "task": "webhooks.tasks.sweep_deliveries",
    "schedule": WEBHOOK_SWEEP_SECONDS,
    "options": {"expires": WEBHOOK_SWEEP_SECONDS * 2},
}
CELERY_BEAT_SCHEDULE["sweep-retention"] = {
    "task": "media_library.tasks.sweep_retention",
    "schedule": RETENTION_SWEEP_SECONDS,
    "options": {"expires": RETENTION_SWEEP_SECONDS * 2},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / f"celerybeat-schedule-{DEPLOYMENT_NAMESPACE}")

# --- Product limits (SPEC.md "Limits and time-outs"); settings so tests can shorten them.
HOST_LEFT_TIMEOUT_SECONDS = env_float("HOST_LEFT_TIMEOUT_SECONDS", 15 * 60)
RECORDING_MAX_SECONDS = env_float("RECORDING_MAX_SECONDS", 24 * 60 * 60)
# Issue 12: a new room asks people for consent before recording them unless set off here (each room
# can change it in its settings); a room never records automatically unless it says so.
RECORDING_CONSENT_DEFAULT = env_bool("RECORDING_CONSENT_DEFAULT", False)
SESSION_MAX_HOURS_LIMIT = env_int("SESSION_MAX_HOURS_LIMIT", 72)
SESSION_HOUR_SECONDS = env_float("SESSION_HOUR_SECONDS", 60 * 60)  # tests shrink an "hour"
PRESENCE_TTL_SECONDS = env_float("PRESENCE_TTL_SECONDS", 30)
HEARTBEAT_SECONDS = env_float("HEARTBEAT_SECONDS", 10)
# /metrics/ (config/metrics.py): Prometheus scrapes with this bearer token; empty, only staff sign-ins may read.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
FIRST_MEDIA_TIMEOUT_SECONDS = env_float("FIRST_MEDIA_TIMEOUT_SECONDS", 60)
SEGMENT_MAX_BYTES = env_int("SEGMENT_MAX_BYTES", 64 * 1024 * 1024)
# The live meeting's WebRTC mesh (issue 11, docs/decisions: mesh, ICE/TURN, sender limit). ICE
# servers: none by default (host candidates suffice on one network). TURN credentials are
# short-lived, computed from MESH_TURN_SECRET as coturn's REST API scheme (use-auth-secret) expects.
MESH_STUN_URLS = env_list("MESH_STUN_URLS", [])
MESH_TURN_URLS = env_list("MESH_TURN_URLS", [])
MESH_TURN_SECRET = os.environ.get("MESH_TURN_SECRET", "")
MESH_TURN_TTL_SECONDS = env_int("MESH_TURN_TTL_SECONDS", 12 * 60 * 60)
# Cameras and microphones a room's mesh carries; past it newcomers join with theirs off.
MESH_SENDER_LIMIT = env_int("MESH_SENDER_LIMIT", 8)
# People in one session's mesh, senders or not (docs/decisions/0032): each pair that exchanges media
# is a connection and each join is told to everyone in it, so a large room stays out of the mesh.
MESH_MAX_PEERS = env_int("MESH_MAX_PEERS", 25)
# Request bodies: config/daphne.py answers 413 to a larger one as soon as its headers (or, without
# a Content-Length, its bytes) say so, before buffering it (docs/decisions/0012). Ingest takes
# SEGMENT_MAX_BYTES, a Media and Files upload MEDIA_UPLOAD_MAX_BYTES plus multipart overhead,
# every other route this: Django's own limit for a form body, named here so the two stay one.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
REQUEST_BODY_MAX_BYTES = env_int("REQUEST_BODY_MAX_BYTES", DATA_UPLOAD_MAX_MEMORY_SIZE)
# Staff are warned (admin front page, recordings list) while the spool has less free space than
# this, and for SPOOL_REFUSAL_NOTICE_SECONDS after an upload was refused for lack of space (507).
SPOOL_LOW_SPACE_BYTES = env_int("SPOOL_LOW_SPACE_BYTES", 1024 * 1024 * 1024)
SPOOL_REFUSAL_NOTICE_SECONDS = env_float("SPOOL_REFUSAL_NOTICE_SECONDS", 60 * 60)
# Sign-in throttle (meetings/throttle.py): failures per username and per address within the window.
LOGIN_FAILURES_PER_USERNAME = env_int("LOGIN_FAILURES_PER_USERNAME", 10)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 50)
LOGIN_FAILURE_WINDOW_SECONDS = env_float("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)
SEGMENT_SECONDS = env_float("SEGMENT_SECONDS", 10)
# After Stop, browsers still upload their last piece; the recording waits this long for it.
STOP_GRACE_SECONDS = env_float("STOP_GRACE_SECONDS", 20)
# Composition works in windows of the timeline while the meeting runs (DESIGN.md).
COMPOSE_WINDOW_SECONDS = env_float("COMPOSE_WINDOW_SECONDS", 10)
# A window is composed once every segment overlapping it has surely arrived: a segment is
# uploaded when it ends, so wait one segment length plus this margin after the window closes.
COMPOSE_LATE_MARGIN_SECONDS = env_float("COMPOSE_LATE_MARGIN_SECONDS", 5)
COMPOSE_PRESET = os.environ.get("COMPOSE_PRESET", "veryfast")
COMPOSE_CRF = env_int("COMPOSE_CRF", 23)
# Finalize and publish run under a claim whose heartbeat the worker refreshes; a claim whose
# heartbeat is older than this is taken over (a dead worker), and never sooner.
# Heartbeats come every quarter of it, so 8 s finds dead work within seconds (issue: ready at most
# 15 s later than without the fault) while a busy but living worker always beats in time.
WORK_STALE_SECONDS = env_float("WORK_STALE_SECONDS", 8)
# A composition window still pending this long after it was queued, with no heartbeat, lost its
# task: queue it again (finalize composes whatever is missing at Stop anyway).
COMPOSE_REQUEUE_SECONDS = env_float("COMPOSE_REQUEUE_SECONDS", 60)
# Ingest schedules composition windows as they become due, so composition keeps up without beat.
# Off only for the test suite's live server, whose eager tasks would compose inside the upload.
COMPOSE_FROM_INGEST = env_bool("COMPOSE_FROM_INGEST", True)
# A publish that fails (storage unreachable, ...) is retried with exponential back-off from the
# base, capped; after this many tries the recording fails with the reason (admin retry restarts).
PUBLISH_MAX_ATTEMPTS = env_int("PUBLISH_MAX_ATTEMPTS", 6)
PUBLISH_RETRY_BASE_SECONDS = env_float("PUBLISH_RETRY_BASE_SECONDS", 30)
PUBLISH_RETRY_MAX_SECONDS = env_float("PUBLISH_RETRY_MAX_SECONDS", 600)
# Within one publish try, each storage operation is tried this often, pausing from the base,
# doubling, capped (media_library/storage.py). After an outage, the file lands at most one such
# pause (plus the next try of the step) after storage is back.
MEDIA_PUBLISH_ATTEMPTS = env_int("MEDIA_PUBLISH_ATTEMPTS", 5)
MEDIA_PUBLISH_BACKOFF_SECONDS = env_float("MEDIA_PUBLISH_BACKOFF_SECONDS", 1.0)
MEDIA_PUBLISH_BACKOFF_MAX_SECONDS = env_float("MEDIA_PUBLISH_BACKOFF_MAX_SECONDS", 30.0)

# The REST API (api/, docs/integrations.md, decision 0019): personal tokens or the browser's
# session (with CSRF), JSON only, every error as RFC 9457 problem details, a rate per token.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # checks CSRF on unsafe methods
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.PerTokenThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": os.environ.get("API_THROTTLE_RATE", "600/minute")},
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pages",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Meetings API",
    "DESCRIPTION": "Rooms, recordings and media entries. Authenticate with a personal API token "
    "(`Authorization: Bearer <token>`, created under Settings → API tokens).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RoomKindEnum": "meetings.models.Room.Kind",
        "EntryKindEnum": "media_library.models.MediaEntry.Kind",
        "EntryStatusEnum": "media_library.models.MediaEntry.Status",
        "RecordingStateEnum": "recordings.models.Recording.State",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.problems.document_problems",
    ],
    # Served from the product itself (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
API_TOKEN_LAST_USED_RESOLUTION_SECONDS = env_float("API_TOKEN_LAST_USED_RESOLUTION_SECONDS", 60)

# --- LTI 1.3 (lti/, docs/integrations.md "LTI 1.3", decision 0021)
# Fetching a platform's JWKS waits at most this long (each step): a slow platform never holds a thread.
LTI_HTTP_TIMEOUT_SECONDS = env_float("LTI_HTTP_TIMEOUT_SECONDS", 10)
# A launch's nonce is remembered as spent this long: longer than pylti1p3 keeps an issued nonce (a day).
LTI_USED_NONCE_SECONDS = env_int("LTI_USED_NONCE_SECONDS", 2 * 24 * 60 * 60)
# The Deep Linking picker's choice must come back within this.
LTI_DEEP_LINK_MAX_AGE_SECONDS = env_int("LTI_DEEP_LINK_MAX_AGE_SECONDS", 60 * 60)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # A refused request (bad Host, too many fields) is one line, not a traceback (config/errors.py).
    "filters": {
        "one_line_refusals": {"()": "config.errors.one_line_refusals_filter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["one_line_refusals"]},
        # Django's default for its logger, kept: errors mailed to ADMINS (if any) when DEBUG is off.
        "mail_admins": {
            "level": "ERROR",
            "filters": ["require_debug_false"],
            "class": "django.utils.log.AdminEmailHandler",
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Instead of Django's default handlers, whose DEBUG-only console printed every django.*
        # record a second time (with the tracebacks of refusals): they reach the root's console once.
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
    },
}
