"""The test suite's settings: the base module with a fast password hasher."""

from config.settings import *  # noqa: F401,F403

# PBKDF2 at production strength costs ~0.3 s a user; the demo fixture makes six per test.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
