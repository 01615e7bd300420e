"""Sign-in throttle: failed sign-ins are counted per account and per address, in the cache (Redis).

After ``LOGIN_FAILURES_PER_USERNAME`` failures for one username (10 by default) or
``LOGIN_FAILURES_PER_ADDRESS`` from one address (50), within ``LOGIN_FAILURE_WINDOW_SECONDS``
(15 minutes) of the first, sign-in is refused for the rest of that window with a message saying
when to try again (429 on the site's page): the password is not even checked, so guessing goes
no further. The window starts with the first failure and is not extended by later ones.

A successful sign-in clears its account's count. It does not clear the address's: otherwise
someone with one valid account could reset the address count between guesses at others.
Counters live under the cache's KEY_PREFIX; the username is hashed (case-folded) so the keys
carry no personal data. A cache that cannot be reached lets people sign in (and logs why):
a Redis outage must not lock everyone out.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

KEY = "login-throttle"


@dataclass(frozen=True)
class Counter:
    """One count of failures: its cache key, its limit, and the key holding when its window ends."""

    key: str
    limit: int

    @property
    def until_key(self) -> str:
        return f"{self.key}:until"


class LoginThrottle:
    """The failures counted against one sign-in attempt: its username's and its address's."""

    def __init__(self, *, username: str, address: str | None) -> None:
        digest = hashlib.sha256(username.casefold().encode("utf-8", "surrogatepass")).hexdigest()[:32]
        self.user = Counter(f"{KEY}:user:{digest}", int(settings.LOGIN_FAILURES_PER_USERNAME))
        # No address (a Unix socket without proxy headers): no per-address count, or everyone would share one.
        self.counters = [self.user]
        if address:
            self.counters.append(Counter(f"{KEY}:addr:{address}", int(settings.LOGIN_FAILURES_PER_ADDRESS)))
        self.window = float(settings.LOGIN_FAILURE_WINDOW_SECONDS)

    @classmethod
    def for_request(cls, request: HttpRequest | None, username: str) -> LoginThrottle:
        address = request.META.get("REMOTE_ADDR") if request is not None else None
        return cls(username=username, address=address)

    def retry_after(self) -> int | None:
        """Seconds until sign-in is possible again, or None if it is possible now."""
        try:
            counts = cache.get_many([key for c in self.counters for key in (c.key, c.until_key)])
        except Exception:
            logger.warning("login throttle: cache unreachable, not throttling", exc_info=True)
            return None
        waits = []
        for counter in self.counters:
            if int(counts.get(counter.key) or 0) >= counter.limit:
                until = counts.get(counter.until_key)
                waits.append(max(1, math.ceil(float(until) - time.time())) if until else int(self.window))
        return max(waits) if waits else None

    def failed(self) -> None:
        """Count one failed sign-in against the username and the address."""
        try:
            for counter in self.counters:
                # add() starts the window only if none runs: later failures do not extend it.
                if cache.add(counter.key, 0, timeout=self.window):
                    cache.set(counter.until_key, time.time() + self.window, timeout=self.window)
                try:
                    cache.incr(counter.key)
                except ValueError:  # the window ended between add and incr: start a new one
                    cache.set(counter.key, 1, timeout=self.window)
                    cache.set(counter.until_key, time.time() + self.window, timeout=self.window)
        except Exception:
            logger.warning("login throttle: cache unreachable, failure not counted", exc_info=True)

    def succeeded(self) -> None:
        """The account's count starts again (the address's does not: see the module's docstring)."""
        try:
            cache.delete_many([self.user.key, self.user.until_key])
        except Exception:
            logger.warning("login throttle: cache unreachable, count not cleared", exc_info=True)


def throttled_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return (
        "Too many failed sign-in attempts for this account or from this network. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )


class ThrottledFormMixin:
    """Put an AuthenticationForm's clean() behind the throttle."""

    request: HttpRequest | None
    cleaned_data: dict[str, Any]
    retry_after: int | None = None

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not username or not password:  # the field errors say what is missing; nothing was tried
            return super().clean()  # type: ignore[misc]
        throttle = LoginThrottle.for_request(self.request, username)
        self.retry_after = throttle.retry_after()
        if self.retry_after is not None:
            raise ValidationError(throttled_message(self.retry_after), code="throttled")
        try:
            cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        except ValidationError as exc:
            if any(getattr(error, "code", None) == "invalid_login" for error in exc.error_list):
                throttle.failed()
            raise
        throttle.succeeded()
        return cleaned


class ThrottledAuthenticationForm(ThrottledFormMixin, AuthenticationForm):
    """The site's sign-in form."""


class ThrottledAdminAuthenticationForm(ThrottledFormMixin, AdminAuthenticationForm):
    """The admin's sign-in form (the same counters: one account, one address)."""


class ThrottledLoginView(LoginView):
    """Django's LoginView with the throttled form; a throttled attempt is answered 429."""

    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        retry_after = getattr(form, "retry_after", None)
        if retry_after is not None:
            response.status_code = 429
            response["Retry-After"] = str(retry_after)
        return response
