"""Every error of the API is an RFC 9457 problem (application/problem+json)."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from api import selectors
from tests.api.conftest import assert_problem


@pytest.mark.django_db
def test_errors_are_problem_details(cast, api_as) -> None:
    api = api_as("host")
    client, auth = api.client, {"Authorization": f"Bearer {api.secret}"}
    body = assert_problem(api.post(f"/api/v1/entries/{1}/share-links/", {"expires_in_days": "soon"}), 404)
    assert body["title"] == "Not Found" and body["code"] == "not_found"
    assert_problem(client.get("/api/v1/no-such-thing/", headers=auth), 404)
    assert_problem(client.get("/api/v2/rooms/"), 404)
    assert_problem(client.put("/api/v1/rooms/", {}, content_type="application/json", headers=auth), 405)
    assert_problem(client.get("/api/v1/rooms/", headers={**auth, "Accept": "text/html"}), 406)
    assert_problem(Client().get("/api/v1/rooms/"), 401)


@pytest.mark.django_db
def test_validation_and_media_type_problems(cast, publish, api_as) -> None:
    entry = publish("single")
    api = api_as("host")
    path = f"/api/v1/entries/{entry.pk}/"
    body = assert_problem(api.patch(path, {"title": "x" * 256}), 400)
    assert body["code"] == "invalid" and list(body["errors"]) == ["title"]
    assert body["detail"].startswith("title: ")
    assert api.patch(path, {}).json()["title"] == entry.title  # PATCH: nothing sent, nothing changed
    raw = api.client.patch(path, "{not json", content_type="application/json", headers=api._headers())
    assert assert_problem(raw, 400)["code"] == "parse_error"
    form = api.client.patch(path, "title=x", content_type="application/x-www-form-urlencoded", headers=api._headers())
    assert assert_problem(form, 415)["code"] == "unsupported_media_type"


@pytest.mark.django_db
def test_an_unexpected_failure_is_a_logged_500_problem(cast, api_as, monkeypatch, caplog) -> None:
    def broken(**kwargs):
        raise RuntimeError("the database fell over")

    monkeypatch.setattr(selectors, "entries_for", broken)  # a fault, caused on purpose
    with caplog.at_level(logging.ERROR, logger="api.problems"):
        body = assert_problem(api_as("host").get("/api/v1/entries/"), 500)
    assert body["code"] == "server_error" and "database" not in body["detail"]  # no internals shown
    assert any(record.exc_info and "fell over" in str(record.exc_info[1]) for record in caplog.records)
