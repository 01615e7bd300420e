"""The test suite's settings: the base module with a fast password hasher and its own files."""

from config.settings import *  # noqa: F401,F403
from config.settings import DATABASES, VAR_DIR

# PBKDF2 at production strength costs ~0.3 s a user; the demo fixture makes six per test.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Live-server tests run Daphne in another process: it must see the same test database, so
# SQLite's test database is a file, not memory.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}

SPOOL_DIR = VAR_DIR / "test-spool"
MEDIA_ROOT = VAR_DIR / "test-media"
STORAGES["default"]["OPTIONS"]["location"] = str(MEDIA_ROOT)  # noqa: F405
WORK_DIR = VAR_DIR / "test-work"
