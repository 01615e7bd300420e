"""Personal API tokens: made and revoked on the settings page, shown once, stored hashed,
refused once revoked or expired; the browser's session works too, with CSRF; a rate per token."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from api import services
from api.models import ApiToken
from tests.api.conftest import Api, assert_problem


def _secret_on(html: str) -> str:
    match = re.search(r'value="(mtk_[A-Za-z0-9_-]+)" data-token-secret', html)
    assert match, "the new token is on the page"
    return match.group(1)


@pytest.mark.django_db
def test_a_token_made_on_the_page_is_shown_once_and_stored_hashed(cast, client) -> None:
    client.force_login(cast.users["host"])
    page = client.get("/settings/api-tokens/")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<label for="id_name">Name</label>' in html and '<label for="id_expires_in_days">' in html
    made = client.post("/settings/api-tokens/", {"name": "LMS sync", "expires_in_days": "90"})
    assert made.status_code == 201 and made["Cache-Control"] == "no-store"
    secret = _secret_on(made.content.decode())
    token = ApiToken.objects.get(user=cast.users["host"])
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {token.name, token.prefix, token.digest} and secret.startswith(token.prefix)
    assert timedelta(days=89, hours=23) < token.expires_at - timezone.now() <= timedelta(days=90)
    again = client.get("/settings/api-tokens/").content.decode()
    assert secret not in again and "LMS sync" in again and token.prefix in again  # never shown again

    response = Api(Client(), secret).get("/api/v1/entries/")
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.django_db
def test_the_page_refuses_bad_input_with_a_message(cast, client) -> None:
    client.force_login(cast.users["host"])
    response = client.post("/settings/api-tokens/", {"name": "  ", "expires_in_days": "90"})
    assert response.status_code == 400 and 'aria-invalid="true"' in response.content.decode()
    assert client.post("/settings/api-tokens/", {"name": "x", "expires_in_days": "7"}).status_code == 400
    assert not ApiToken.objects.exists()
    assert Client().get("/settings/api-tokens/").status_code == 302  # sign in first


@pytest.mark.django_db
def test_revoked_tokens_are_refused_at_once(cast, client, token_for) -> None:
    secret = token_for("host")
    api = Api(Client(), secret)
    assert api.get("/api/v1/rooms/").status_code == 200
    token = ApiToken.objects.get(user=cast.users["host"])
    client.force_login(cast.users["outsider"])
    assert client.post(f"/settings/api-tokens/{token.pk}/revoke/").status_code == 404  # not theirs
    client.force_login(cast.users["host"])
    assert client.post(f"/settings/api-tokens/{token.pk}/revoke/").status_code == 302
    body = assert_problem(api.get("/api/v1/rooms/"), 401)
    assert body["detail"] == "The token is unknown, revoked or expired."
    assert api.get("/api/v1/rooms/")["WWW-Authenticate"] == 'Bearer realm="api"'
    assert "Revoked" in client.get("/settings/api-tokens/").content.decode()


@pytest.mark.django_db
def test_expired_unknown_and_malformed_tokens_are_refused(cast, token_for) -> None:
    secret = token_for("host")
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = assert_problem(Api(Client(), secret).get("/api/v1/entries/"), 401)
    unknown = assert_problem(Api(Client(), "mtk_" + "A" * 43).get("/api/v1/entries/"), 401)
    assert expired == unknown  # a guesser cannot tell which tokens once existed
    assert_problem(Client().get("/api/v1/entries/", headers={"Authorization": "Bearer a b"}), 401)
    assert_problem(Client().get("/api/v1/entries/", headers={"Authorization": "Bearer ÿ"}), 401)
    assert_problem(Client().get("/api/v1/entries/"), 401)  # no credentials at all
    cast.users["outsider"].is_active = False
    cast.users["outsider"].save()
    assert_problem(Api(Client(), token_for("outsider")).get("/api/v1/entries/"), 401)  # deactivated person


@pytest.mark.django_db
def test_the_browser_session_works_with_csrf_for_changes(cast, world_entry) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(cast.users["host"])
    assert browser.get("/api/v1/entries/").status_code == 200
    path = f"/api/v1/entries/{world_entry.pk}/"
    body = assert_problem(browser.patch(path, {"title": "No CSRF"}, content_type="application/json"), 403)
    assert "CSRF" in body["detail"]
    browser.get("/settings/api-tokens/")  # any page with a form sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    renamed = browser.patch(
        path, {"title": "With CSRF"}, content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert renamed.status_code == 200 and renamed.json()["title"] == "With CSRF"


@pytest.fixture
def world_entry(publish):
    return publish("single")


@pytest.mark.django_db
def test_each_token_has_its_own_rate(cast, token_for, settings) -> None:
    cache.clear()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "3/minute"}}
    busy, other = Api(Client(), token_for("host")), Api(Client(), token_for("host"))
    assert [busy.get("/api/v1/rooms/").status_code for _ in range(3)] == [200, 200, 200]
    refused = busy.get("/api/v1/rooms/")
    body = assert_problem(refused, 429)
    assert body["code"] == "throttled" and int(refused["Retry-After"]) > 0
    assert other.get("/api/v1/rooms/").status_code == 200  # another token of the same person is not held back


@pytest.mark.django_db
def test_a_person_cannot_pile_up_tokens(cast) -> None:
    for n in range(services.MAX_LIVE_TOKENS):
        services.issue_token(user=cast.users["host"], name=f"t{n}", expires_in_days=30)
    with pytest.raises(services.TokenError):
        services.issue_token(user=cast.users["host"], name="one too many", expires_in_days=30)
    assert services.issue_token(user=cast.users["moderator"], name="theirs", expires_in_days=365).token.pk
