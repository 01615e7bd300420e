"""The room owner's webhooks page: register, rotate, test, disable, delete; only the owner sees it.

Real POSTs with CSRF checks on (the Django test client with enforce_csrf_checks), events from the
real services to the loopback receiver, verified with the secret the page showed.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from meetings.models import Room, User
from recordings import services as recording_services
from recordings.models import Recording
from tests.webhooks.test_delivery import start_capture
from webhooks import services
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db


def browser(user: User | None) -> Client:
    """A client that checks CSRF as a browser's requests are checked."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def csrf_of(client: Client, page: str) -> str:
    response = client.get(page)
    assert response.status_code == 200, response.status_code
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
    assert match, "no CSRF token in the page's forms"
    return match.group(1)


def shown_secret(html: str) -> str | None:
    match = re.search(r'value="(whsec_[^"]+)" data-webhook-secret', html)
    return match.group(1) if match else None


def test_the_owner_registers_an_endpoint_that_hears_the_rooms_events(
    demo, receiver, django_capture_on_commit_callbacks
) -> None:
    room, host = demo.rooms["single"], demo.users["host"]
    page = reverse("webhooks:room_webhooks", args=[room.pk])
    client = browser(host)
    token = csrf_of(client, page)
    assert client.post(page, {"url": receiver.url}).status_code == 403  # no CSRF token: refused

    created = client.post(
        page,
        {"csrfmiddlewaretoken": token, "url": receiver.url, "description": "LMS", "events": ["recording.started"]},
    )
    assert created.status_code == 201, created.text[:1000]
    assert created["Cache-Control"] == "no-store"
    endpoint = Endpoint.objects.get()
    assert (endpoint.room, endpoint.created_by, endpoint.events) == (room, host, ["recording.started"])
    secret = shown_secret(created.text)
    assert secret == endpoint.secret  # shown once, in the answer to the POST
    receiver.secrets.append(secret)
    assert shown_secret(client.get(page).text) is None  # and never again

    with django_capture_on_commit_callbacks(execute=True):
        recording = start_capture(room, host)
        recording_services.stop_recording(recording=recording, reason=Recording.StopReason.STOPPED_BY_HOST)
        start_capture(demo.rooms["integration"], host)  # another room of the same owner: not this endpoint's
    (hit,) = receiver.received
    assert hit.verified is not None and hit.type == "recording.started"
    assert hit.verified["data"]["room"]["id"] == room.pk
    listed = client.get(page).text
    assert "recording.started" in listed and "Succeeded" in listed and "HTTP 200" in listed

    # Rotate: a new secret, shown once; the test event is signed with it (and the old one, overlapping).
    rotated = client.post(reverse("webhooks:rotate", args=[room.pk, endpoint.pk]), {"csrfmiddlewaretoken": token})
    new_secret = shown_secret(rotated.text)
    endpoint.refresh_from_db()
    assert new_secret == endpoint.secret != secret and endpoint.previous_secret == secret
    receiver.secrets[:] = [new_secret]
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(reverse("webhooks:send_test", args=[room.pk, endpoint.pk]), {"csrfmiddlewaretoken": token})
    assert sent.status_code == 302
    test_hit = receiver.received[-1]
    assert test_hit.type == "webhook.test" and test_hit.verified["data"]["by"] == host.username

    # Disable: sent nothing; enable again; delete.
    toggle = reverse("webhooks:set_active", args=[room.pk, endpoint.pk])
    assert client.post(toggle, {"csrfmiddlewaretoken": token, "active": "0"}).status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "Disabled" in client.get(page).text
    assert client.post(toggle, {"csrfmiddlewaretoken": token, "active": "1"}).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.is_active
    deleted = client.post(reverse("webhooks:delete", args=[room.pk, endpoint.pk]), {"csrfmiddlewaretoken": token})
    assert deleted.status_code == 302
    assert not Endpoint.objects.exists() and not Delivery.objects.exists()


def test_only_the_owner_may_open_or_change_it(demo, cast_of_channel_owner) -> None:
    room = demo.rooms["single"]
    endpoint = services.create_endpoint(url="https://hooks.example.com/a", room=room, created_by=demo.users["host"])
    urls = [
        reverse("webhooks:room_webhooks", args=[room.pk]),
        reverse("webhooks:rotate", args=[room.pk, endpoint.pk]),
        reverse("webhooks:send_test", args=[room.pk, endpoint.pk]),
        reverse("webhooks:set_active", args=[room.pk, endpoint.pk]),
        reverse("webhooks:delete", args=[room.pk, endpoint.pk]),
    ]
    # The co-editor hosts the room without owning it; the moderator, the invitee, an outsider.
    for username in ("coeditor", "moderator", "participant", "outsider"):
        client = Client()
        client.force_login(demo.users[username])
        assert client.get(urls[0]).status_code == 404, username
        for url in urls:
            assert client.post(url, {"url": "https://hooks.example.com/b", "active": "0"}).status_code == 404, (
                username,
                url,
            )
    anonymous = Client().get(urls[0])
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    endpoint.refresh_from_db()
    assert endpoint.is_active and Endpoint.objects.count() == 1 and not Delivery.objects.exists()

    # A channel room is owned by the channel's owner; its moderator may not.
    channel_room = demo.rooms["channel"]
    owner = Client()
    owner.force_login(demo.channel.owner)
    assert owner.get(reverse("webhooks:room_webhooks", args=[channel_room.pk])).status_code == 200
    assert owner.get(reverse("webhooks:room_webhooks", args=[room.pk])).status_code == 200
    assert cast_of_channel_owner.get(reverse("webhooks:room_webhooks", args=[channel_room.pk])).status_code == 404


@pytest.fixture
def cast_of_channel_owner(demo) -> Client:
    """The channel room's owner field names someone else: ownership follows the channel, not that field."""
    other = User.objects.create(username="roomfield")
    Room.objects.filter(pk=demo.rooms["channel"].pk).update(owner=other)
    client = Client()
    client.force_login(other)
    return client


def test_bad_input_and_garbage_ids(demo, settings) -> None:
    settings.WEBHOOK_ALLOW_INTERNAL_TARGETS = False  # as in production: internal targets refused
    room, host = demo.rooms["single"], demo.users["host"]
    page = reverse("webhooks:room_webhooks", args=[room.pk])
    client = browser(host)
    token = csrf_of(client, page)
    for url, message in [
        ("gopher://example.com/", "Only http:// and https:// URLs can receive webhooks."),
        ("https://exa mple.com/", "This is not a valid URL"),
        ("http://localhost:8080/hooks", "or a private network address"),
        ("", "Enter the URL"),
    ]:
        refused = client.post(page, {"csrfmiddlewaretoken": token, "url": url})
        assert refused.status_code == 400, url
        assert message in refused.text, (url, refused.text[:3000])
        assert 'role="alert"' in refused.text and 'aria-invalid="true"' in refused.text
    unknown = client.post(page, {"csrfmiddlewaretoken": token, "url": "https://hooks.example.com/", "events": "nope"})
    assert unknown.status_code == 400 and "nope" in unknown.text
    assert not Endpoint.objects.exists()

    their_room = Room.objects.create(title="Theirs", owner=demo.users["outsider"], creator=demo.users["outsider"])
    theirs = services.create_endpoint(url="https://hooks.example.com/t", room=their_room, created_by=None)
    mine = services.create_endpoint(url="https://hooks.example.com/m", room=room, created_by=None)
    for garbage in [
        "/rooms/999999/webhooks/",
        "/rooms/99999999999999999999999999/webhooks/",
        "/rooms/abc/webhooks/",
        f"/rooms/{room.pk}/webhooks/999999/rotate/",
        f"/rooms/{room.pk}/webhooks/99999999999999999999999999/delete/",
        f"/rooms/{room.pk}/webhooks/{theirs.pk}/delete/",  # another room's endpoint through this room
    ]:
        assert client.post(garbage, {"csrfmiddlewaretoken": token}).status_code == 404, garbage
    assert Endpoint.objects.filter(pk__in=[theirs.pk, mine.pk]).count() == 2
    # A GET on an action is not allowed (405), never a change.
    assert client.get(reverse("webhooks:delete", args=[room.pk, mine.pk])).status_code == 405


def test_the_home_page_links_the_owner_and_no_one_else_to_the_rooms_webhooks(demo) -> None:
    room = demo.rooms["single"]
    page = reverse("webhooks:room_webhooks", args=[room.pk])
    assert page in browser(demo.users["host"]).get(reverse("home")).text  # the room's owner
    for username in ("coeditor", "participant"):  # a co-editor hosts but does not own
        home = browser(demo.users[username]).get(reverse("home"))
        assert home.status_code == 200 and page not in home.text, username
