"""pylti1p3 and django-lti, tightened where the product needs it (decision 0021).

- An id_token is accepted once: its nonce is spent, atomically, before the launch is kept
  (pylti1p3 only checks that the nonce was issued, and lets a state it saw before pass again).
- The platform's JWKS is fetched with a time-out: a slow platform never holds a server thread.
- Every refusal is a `LaunchRefused` with a sentence for a person; views answer a page, never a 500.
"""

from __future__ import annotations

import hashlib
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from lti_tool.models import LtiLaunch, LtiRegistration
from lti_tool.utils import DjangoToolConfig
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.exception import LtiException, OIDCException

from lti.services import ensure_tool_key

USED_NONCE_PREFIX = "lti:used-nonce:"


class LaunchRefused(Exception):
    """A login or launch the tool will not honour; `reason` is shown to the person."""

    def __init__(self, reason: str, *, status: int = 400) -> None:
        super().__init__(reason)
        self.reason, self.status = reason, status


class _TimedSession(requests.Session):
    """requests has no default time-out; every call of this session gets one."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", settings.LTI_HTTP_TIMEOUT_SECONDS)
        return super().request(*args, **kwargs)


class OneTimeMessageLaunch(DjangoMessageLaunch):
    """pylti1p3's launch, whose id_token is good for one launch only."""

    def save_launch_data(self) -> OneTimeMessageLaunch:
        # The last step, after the signature and the message were checked: a forged token cannot
        # spend a real nonce. cache.add is one Redis SET NX: of two posts of a token, one wins.
        nonce = str(self._get_jwt_body().get("nonce", ""))
        key = USED_NONCE_PREFIX + hashlib.sha256(nonce.encode()).hexdigest()
        if not cache.add(key, True, timeout=settings.LTI_USED_NONCE_SECONDS):
            raise LtiException("This launch was already used")
        super().save_launch_data()
        return self


# What pylti1p3 says, as people should read it (anything else: the generic sentence).
REASONS = {
    "State not found": "This launch could not be matched to your browser. Open the link from your course again.",
    "Missing state param": "This launch could not be matched to your browser. Open the link from your course again.",
    "Invalid Nonce": "This launch has expired or was not started here. Open the link from your course again.",
    "This launch was already used": "This launch was already used. Open the link from your course again.",
    "Registration not found.": "This learning platform is not registered with Meetings.",
    "Could not find registration details": "This learning platform is not registered with Meetings.",
    "Client id not registered for this issuer": "This learning platform is not registered with Meetings.",
}
INVALID = "The launch from your learning platform could not be verified. Open the link from your course again."


def _reason(exc: Exception) -> str:
    text = str(exc)
    if text.startswith("Can't decode id_token") or text == "Unable to find public key":
        return "The launch's signature is not valid: it was not sent by your learning platform as it is."
    return REASONS.get(text, INVALID)


def oidc_login(request: HttpRequest, params: dict[str, str], *, launch_url: str) -> HttpResponse:
    """Answer a platform's third-party login initiation: to the platform's auth URL, with state and nonce.

    The state travels in a short-lived cookie, the nonce in the cache; pylti1p3 first answers a
    page that checks cookies work (in an iframe they may not) and opens a new window if not.
    """
    if not params.get("iss") or not params.get("login_hint"):
        raise LaunchRefused("This login request is missing the platform's issuer or login hint.")
    ensure_tool_key()
    login = DjangoOIDCLogin(request, DjangoToolConfig(), launch_data_storage=DjangoCacheDataStorage())
    try:
        response = login.enable_check_cookies().redirect(launch_url)
    except (OIDCException, LtiException) as exc:
        raise LaunchRefused(_reason(exc)) from exc
    return response


def validated_launch(request: HttpRequest) -> LtiLaunch:
    """The launch POSTed by the platform, every check of LTI 1.3 passed, or LaunchRefused."""
    if not request.POST.get("id_token"):
        raise LaunchRefused("This page is opened from a course in your learning platform.")
    ensure_tool_key()
    message = OneTimeMessageLaunch(request, DjangoToolConfig(), launch_data_storage=DjangoCacheDataStorage())
    message._requests_session = _TimedSession()
    try:
        message.validate()
    except LtiException as exc:
        raise LaunchRefused(_reason(exc), status=403) from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a token whose claims have the wrong shape
        raise LaunchRefused(INVALID) from exc
    return LtiLaunch(message)


def registration_for(lti_launch: LtiLaunch) -> LtiRegistration:
    registration: LtiRegistration = lti_launch.registration
    return registration
