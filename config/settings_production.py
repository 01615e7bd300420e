"""Production settings: the base module, refusing what would be unsafe to run."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from config.settings import *  # noqa: F401,F403
from config.settings import DEBUG, INSECURE_SECRET_PREFIX, SECRET_KEY, env_bool, env_int

if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production (set DEBUG=0).")
if SECRET_KEY.startswith(INSECURE_SECRET_PREFIX) or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("SECRET_KEY is missing or insecure: set a random value of 50+ characters.")

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# TLS terminates at the load balancer; these are on unless the operator says otherwise.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# The header alone enrols nothing: submitting the domain to the preload list stays the operator's act.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
