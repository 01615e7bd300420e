"""The sign-in throttle (item 17): per account and per address, in the real Redis cache.

The counters live in this run's Redis namespace (the cache's KEY_PREFIX); each test signs in
from addresses of its own (documentation ranges), so tests never share a count.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from meetings.throttle import KEY
from tests.conftest import DEMO_PASSWORD


@pytest.fixture
def addresses() -> Iterator[list[str]]:
    """Fresh client addresses for this test; their counters (and the accounts') are removed after."""
    made = [f"203.0.113.{octet}" for octet in random.sample(range(1, 255), 4)]  # TEST-NET-3
    yield made
    cache.delete_many(cache_keys())


def cache_keys() -> list[str]:
    """The throttle's keys of this run, as the cache names them (without the KEY_PREFIX)."""
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    client = redis.Redis.from_url(settings.REDIS_URL)
    names = [name.decode() for name in client.scan_iter(f"{prefix}:*:{KEY}:*")]
    return [name.split(":", 2)[2] for name in names]


def sign_in(address: str, username: str, password: str, path: str = "/login/"):
    return Client().post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db
def test_ten_failures_lock_the_account_with_a_clear_message(demo, addresses) -> None:
    a, b = addresses[0], addresses[1]
    for _ in range(settings.LOGIN_FAILURES_PER_USERNAME):
        response = sign_in(a, "host", "wrong")
        assert response.status_code == 200 and b"didn't match" in response.content
    locked = sign_in(a, "host", DEMO_PASSWORD)  # even the right password: it is not checked
    assert locked.status_code == 429
    assert b"Too many failed sign-in attempts" in locked.content and b"Try again in 15 minutes" in locked.content
    assert 0 < int(locked["Retry-After"]) <= 15 * 60
    assert sign_in(b, "host", DEMO_PASSWORD).status_code == 429  # per account, from anywhere
    assert sign_in(a, "moderator", DEMO_PASSWORD).status_code == 302  # others from that address are fine
    # The counters are keys under the cache's KEY_PREFIX.
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    raw = redis.Redis.from_url(settings.REDIS_URL)
    assert list(raw.scan_iter(f"{prefix}:*:{KEY}:user:*")) and list(raw.scan_iter(f"{prefix}:*:{KEY}:addr:{a}"))


@pytest.mark.django_db
def test_fifty_failures_lock_the_address(demo, addresses) -> None:
    c, d = addresses[2], addresses[3]
    for i in range(settings.LOGIN_FAILURES_PER_ADDRESS):
        assert sign_in(c, f"nobody-{i}-{secrets.token_hex(3)}", "wrong").status_code == 200
    locked = sign_in(c, "participant", DEMO_PASSWORD)
    assert locked.status_code == 429 and b"from this network" in locked.content
    assert sign_in(d, "participant", DEMO_PASSWORD).status_code == 302  # the account itself is not locked


@pytest.mark.django_db
def test_a_successful_sign_in_resets_the_accounts_count(demo, addresses) -> None:
    a = addresses[0]
    limit = settings.LOGIN_FAILURES_PER_USERNAME
    for _ in range(limit - 1):
        sign_in(a, "coeditor", "wrong")
    assert sign_in(a, "coeditor", DEMO_PASSWORD).status_code == 302
    for _ in range(limit - 1):  # a fresh count: these alone do not lock
        sign_in(a, "coeditor", "wrong")
    assert sign_in(a, "coeditor", DEMO_PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_lock_ends_with_its_window(demo, addresses, settings) -> None:
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 2
    a = addresses[1]
    for _ in range(settings.LOGIN_FAILURES_PER_USERNAME):
        sign_in(a, "outsider", "wrong")
    locked = sign_in(a, "outsider", DEMO_PASSWORD)
    assert locked.status_code == 429 and b"Try again in 1 minute." in locked.content
    time.sleep(2.5)  # Redis expires the counters
    assert sign_in(a, "outsider", DEMO_PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_admin_sign_in_is_throttled_too(demo, addresses) -> None:
    a = addresses[2]
    for _ in range(settings.LOGIN_FAILURES_PER_USERNAME):
        sign_in(a, "admin", "wrong", path="/admin/login/")
    locked = sign_in(a, "admin", DEMO_PASSWORD, path="/admin/login/")
    assert locked.status_code == 200 and b"Too many failed sign-in attempts" in locked.content
    assert "_auth_user_id" not in locked.wsgi_request.session
