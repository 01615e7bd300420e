"""Fixtures of the REST API tests: the media library's cast and data (tests/library), a personal
token for each person, and a client that sends it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from api import services
from tests.library.conftest import (  # noqa: F401 (fixtures)
    Cast,
    base_mp4,
    cast,
    library_settings,
    mp4_file,
    publish,
)


class Api:
    """A Django test client that sends one person's token with every request, JSON in and out."""

    def __init__(self, client: Client, secret: str | None) -> None:
        self.client, self.secret = client, secret

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"} if self.secret else {}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params, headers=self._headers())

    def post(self, path: str, body: object | None = None) -> Any:
        return self.client.post(path, body if body is not None else {}, content_type="application/json",
                                headers=self._headers())  # fmt: skip

    def patch(self, path: str, body: object) -> Any:
        return self.client.patch(path, body, content_type="application/json", headers=self._headers())

    def delete(self, path: str) -> Any:
        return self.client.delete(path, headers=self._headers())


@pytest.fixture
def token_for(cast: Cast) -> Callable[[str], str]:  # noqa: F811 (the fixture imported above)
    """A fresh 30-day token of the named person (its secret)."""

    def make(username: str) -> str:
        return services.issue_token(user=cast.users[username], name=f"{username}'s script", expires_in_days=30).secret

    return make


@pytest.fixture
def api_as(token_for: Callable[[str], str]) -> Callable[[str | None], Api]:
    """An API client for the named person (None: no token at all)."""

    def make(username: str | None) -> Api:
        return Api(Client(), token_for(username) if username else None)

    return make


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The answer is an RFC 9457 problem with this status; returns its body."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body
