"""The test suite's settings: the base module with a fast password hasher and its own files."""

import os
from pathlib import Path

# Each test run gets its own files, so two runs on one machine never share a database or spool.
# A live server started by the tests is handed the run's directory, so it shares them.
_VAR_DIR = Path(os.environ.get("VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
TEST_RUN_DIR = Path(os.environ.get("TEST_RUN_DIR") or _VAR_DIR / "test-runs" / str(os.getpid()))
# Concurrent test runs on one Redis must not hear each other's room events, tasks or cache: the
# run is its own deployment (config.settings derives every Redis name from this). Set in the
# environment before the base settings read it, so the processes a test starts inherit it.
os.environ["DEPLOYMENT_NAMESPACE"] = f"test-{TEST_RUN_DIR.name}"

from config.settings import *  # noqa: E402,F401,F403
from config.settings import DATABASES  # noqa: E402

# PBKDF2 at production strength costs ~0.3 s a user; the demo fixture makes six per test.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Live-server tests run Daphne in another process: it must see the same test database, so
# SQLite's test database is a file, not memory.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    TEST_RUN_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(TEST_RUN_DIR / "db.sqlite3")}

# A test that runs several workers "on several machines" gives each its own spool (staging) and
# work directory (tests/faults/test_scaleout.py); otherwise the run's own.
SPOOL_DIR = Path(os.environ.get("TEST_SPOOL_DIR") or TEST_RUN_DIR / "spool")
MEDIA_ROOT = TEST_RUN_DIR / "media"
if STORAGES["default"]["BACKEND"].endswith("FileSystemStorage"):  # noqa: F405 (S3 when a bucket is set)
    STORAGES["default"]["OPTIONS"]["location"] = str(MEDIA_ROOT)  # noqa: F405
WORK_DIR = Path(os.environ.get("TEST_WORK_DIR") or TEST_RUN_DIR / "work")

# Tasks run in the process that queues them (the test, or the live Daphne), through the same
# task code; the run-processes test proves the real worker and beat over Redis.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)  # noqa: F405
CELERY_TASK_EAGER_PROPAGATES = False
