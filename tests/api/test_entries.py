"""Media entries through the API: the web's access matrix (tests/library/test_access_matrix.py),
every role with a token of its own, and the entry's collaborators, share links and download URL."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.test.utils import override_settings

from media_library import permissions
from media_library.models import EntryCollaborator, MediaEntry, ShareLink
from tests.api.conftest import assert_problem
from tests.library.conftest import add_coviewer
from tests.library.test_access_matrix import EXPECTED, ROLE_USERS, world  # noqa: F401 (fixture)

# The web's matrix minus streaming (a page's player, not an API action). A person who holds
# only a share link gets nothing through the API: the link is for watching in a browser.
API_ACTIONS = ["list", "view", "download", "rename", "share", "delete"]
CASES = [(kind, role) for kind in EXPECTED for role in EXPECTED[kind] if role != "anonymous"]
SUCCESS = {"view": 200, "download": 200, "rename": 200, "share": 201, "delete": 204}


def expected_for(kind: str, role: str) -> dict[str, bool]:
    if role == "share_link":
        return dict.fromkeys(API_ACTIONS, False)
    return {action: EXPECTED[kind][role][action] for action in API_ACTIONS}


def attempt(api, action: str, entry: MediaEntry) -> int:
    path = f"/api/v1/entries/{entry.pk}/"
    if action == "view":
        return api.get(path).status_code
    if action == "download":
        response = api.get(f"{path}download-url/")
        if response.status_code != 200:
            return response.status_code
        # The URL works without credentials: a fresh client, no token.
        assert Client().get(response.json()["url"]).status_code == 200
        return 200
    if action == "rename":
        return api.patch(path, {"title": "Renamed through the API"}).status_code
    if action == "share":
        return api.post(f"{path}share-links/", {"expires_in_days": 7}).status_code
    if action == "delete":
        return api.delete(path).status_code
    raise AssertionError(action)


@pytest.mark.django_db
@pytest.mark.parametrize("kind,role", CASES)
def test_access_matrix(cast, world, api_as, kind: str, role: str) -> None:  # noqa: F811 (fixture)
    entry, _ = world(kind)
    username = ROLE_USERS[role]
    expected = expected_for(kind, role)
    api = api_as(username)
    listed = api.get("/api/v1/entries/", q=entry.title[-20:])
    assert listed.status_code == 200
    assert (entry.pk in [e["id"] for e in listed.json()["results"]]) == expected["list"], f"{kind}/{role}: list"
    can_view = expected["view"]
    for action in ["view", "download", "rename", "share", "delete"]:  # delete last: it is final
        status = attempt(api, action, entry)
        if expected[action]:
            wanted = SUCCESS[action]
        else:
            wanted = 403 if can_view else 404  # not visible and not there answer the same
        assert status == wanted, f"{kind}/{role}/{action}: HTTP {status}, expected {wanted}"
    assert MediaEntry.objects.filter(pk=entry.pk).exists() != expected["delete"]


@pytest.mark.django_db
def test_not_visible_and_not_there_answer_the_same(cast, world, api_as) -> None:  # noqa: F811
    entry, _ = world("single")
    outsider = api_as("outsider")
    hidden = outsider.get(f"/api/v1/entries/{entry.pk}/")
    missing = outsider.get(f"/api/v1/entries/{entry.pk + 10_000}/")
    assert_problem(hidden, 404)
    assert hidden.json() == missing.json()
    assert outsider.patch(f"/api/v1/entries/{entry.pk}/", {"title": "x"}).json() == hidden.json()
    assert_problem(outsider.get(f"/api/v1/entries/{2**63}/"), 404)  # past bigint: no database error


@pytest.mark.django_db
def test_entry_detail_lists_the_allowed_actions(cast, world, api_as) -> None:  # noqa: F811
    entry, _ = world("single")
    body = api_as("coviewer").get(f"/api/v1/entries/{entry.pk}/").json()
    assert body["id"] == entry.pk and body["title"] == entry.title and body["owner"] == "host"
    assert body["recording_uid"] == str(entry.source_recording.uid)
    assert body["actions"] == ["download", "list", "stream", "view"]
    assert body["url"].endswith(f"/media/{entry.pk}/")


@pytest.mark.django_db
def test_list_searches_and_pages(cast, publish, api_as, settings) -> None:
    settings.MEDIA_PAGE_SIZE = 2
    entries = [publish("single") for _ in range(3)]
    for n, entry in enumerate(entries):
        entry.title = f"Lecture {n} {'algebra' if n else 'geometry'}"
        entry.save()
    api = api_as("host")
    first = api.get("/api/v1/entries/").json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"]
    second = api.get("/api/v1/entries/", page=2).json()
    assert len(second["results"]) == 1 and second["previous"]
    ids = [e["id"] for e in first["results"] + second["results"]]
    assert ids == [e.pk for e in reversed(entries)]  # newest first, each once
    found = api.get("/api/v1/entries/", q="ALGEBRA").json()
    assert sorted(e["title"] for e in found["results"]) == ["Lecture 1 algebra", "Lecture 2 algebra"]
    assert api.get("/api/v1/entries/", q="\x00nothing").json()["count"] == 0  # a NUL is dropped, not a 500
    assert_problem(api.get("/api/v1/entries/", page=99), 404)


@pytest.mark.django_db
def test_rename_refuses_an_empty_title_as_a_validation_problem(cast, world, api_as) -> None:  # noqa: F811
    entry, _ = world("single")
    body = assert_problem(api_as("host").patch(f"/api/v1/entries/{entry.pk}/", {"title": "   "}), 400)
    assert "title" in body["errors"]
    ok = api_as("host").patch(f"/api/v1/entries/{entry.pk}/", {"title": "  Planning,   week 3 "})
    assert ok.status_code == 200 and ok.json()["title"] == "Planning, week 3"


@pytest.mark.django_db
def test_collaborators_added_changed_and_removed(cast, world, api_as) -> None:  # noqa: F811
    entry, _ = world("single")
    host = api_as("host")
    path = f"/api/v1/entries/{entry.pk}/collaborators/"
    added = host.post(path, {"username": "outsider", "role": "co_viewer"})
    assert added.status_code == 201 and added.json()["role"] == "co_viewer"
    outsider = api_as("outsider")
    assert outsider.get(f"/api/v1/entries/{entry.pk}/").status_code == 200  # now they may see it
    assert host.post(path, {"username": "outsider", "role": "co_editor"}).status_code == 201
    listed = {c["username"]: c["role"] for c in host.get(path).json()}
    assert listed["outsider"] == "co_editor" and listed["coviewer"] == "co_viewer"
    assert outsider.get(path).status_code == 403  # a co-editor sees the entry, not its collaborators
    assert_problem(host.post(path, {"username": "nobody-here", "role": "co_viewer"}), 400)
    assert_problem(host.post(path, {"username": "outsider", "role": "owner"}), 400)
    assert host.delete(f"{path}{cast.users['outsider'].pk}/").status_code == 204
    assert not EntryCollaborator.objects.filter(entry=entry, user=cast.users["outsider"]).exists()
    assert_problem(host.delete(f"{path}{cast.users['outsider'].pk}/"), 404)
    assert_problem(outsider.get(f"/api/v1/entries/{entry.pk}/"), 404)


@pytest.mark.django_db
def test_share_links_created_listed_and_revoked(cast, world, api_as) -> None:  # noqa: F811
    entry, old_token = world("single")
    api = api_as("coeditor")
    path = f"/api/v1/entries/{entry.pk}/share-links/"
    created = api.post(path, {"expires_in_days": 7})
    assert created.status_code == 201
    link = created.json()
    assert link["expires_at"] and link["created_by"] == "coeditor"
    anonymous = Client()
    assert anonymous.get(link["url"]).status_code == 200  # the link works for anyone
    assert {item["id"] for item in api.get(path).json()} == {link["id"], ShareLink.objects.get(token=old_token).pk}
    assert_problem(api.post(path, {"expires_in_days": 5}), 400)
    assert api.delete(f"{path}{link['id']}/").status_code == 204
    assert anonymous.get(link["url"]).status_code == 404  # revoked: at once
    assert link["id"] not in {item["id"] for item in api.get(path).json()}
    assert_problem(api.delete(f"{path}999999/"), 404)


def assert_gone(response: Any) -> None:
    """The media library's signed link answers its own 404 page (not a problem: it is not under /api/)."""
    assert response.status_code == 404, response.status_code
    assert response["Content-Type"].startswith("text/html")
    assert "This download link does not work" in response.content.decode()


@pytest.mark.django_db
def test_download_url_expires_and_follows_access(cast, world, api_as, settings) -> None:  # noqa: F811
    entry, _ = world("single")
    add_coviewer(entry, cast.users["outsider"])
    url = api_as("outsider").get(f"/api/v1/entries/{entry.pk}/download-url/").json()["url"]
    assert url.startswith("http://testserver/media/download/")  # the media library's link, one for every edge
    anonymous = Client()
    response = anonymous.get(url, HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206 and b"".join(response.streaming_content) == entry.file.open("rb").read(10)
    assert_gone(anonymous.get(url[:-3] + "abc/"))  # tampered
    EntryCollaborator.objects.filter(entry=entry, user=cast.users["outsider"]).delete()
    assert_gone(anonymous.get(url))  # access withdrawn: the URL stops working too
    host_url = api_as("host").get(f"/api/v1/entries/{entry.pk}/download-url/").json()["url"]
    with override_settings(MEDIA_URL_TTL_SECONDS=-1):  # as if its lifetime had passed
        assert_gone(anonymous.get(host_url))
    assert anonymous.get(host_url).status_code == 200


@pytest.mark.django_db
def test_list_agrees_with_the_policy_for_every_person(cast, world, api_as) -> None:  # noqa: F811
    entries = [world(kind)[0] for kind in ("single", "channel", "integration")]
    for username in ("host", "moderator", "participant", "coeditor", "outsider", "staffer", "member"):
        listed = {e["id"] for e in api_as(username).get("/api/v1/entries/").json()["results"]}
        user = cast.users[username]
        assert listed == {e.pk for e in entries if permissions.can(user, "list", e)}, username
