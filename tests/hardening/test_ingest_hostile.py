"""Ingest against hostile and malformed requests: a clear 4xx, nothing kept, never a 500.

Issue 10, items 9 (malformed recording ids), 13 (Host and Origin checked as Django checks them)
and 14 (bytes refused after the fact left in the spool). Over the real Daphne where the fault
is a request; in process, through the same ASGI application, where a setting must change
(ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS) or where two requests must be interleaved exactly.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import httpx
import pytest
from asgiref.testing import ApplicationCommunicator
from django.conf import settings as django_settings
from django.test import Client

from config.asgi import application
from recordings.models import Recording, Segment
from tests.hardening.conftest import segment_url, signed_in, spool_files
from tests.live.conftest import csrf_pair, session_cookie

BASE = "http://testserver"


# --- item 9: a recording id the route accepts but no UUID is -------------------------------------


@pytest.mark.parametrize("rec_uid", ["a" * 33, "f" * 36, "a" * 32 + "-", "-" * 36, "0" * 35])
def test_a_malformed_recording_id_is_an_unknown_recording(live, demo, running, webm_bytes, rec_uid) -> None:
    """Signed in (an outsider, or a participant of the room): 404, as for any unknown recording."""
    for who in ("outsider", "participant"):
        with signed_in(live.url, demo.users[who]) as client:
            response = client.put(segment_url(running, rec_uid=rec_uid), content=webm_bytes)
        assert response.status_code == 404, (who, response.status_code, response.text[:300])
        assert response.json() == {"ok": False, "error": "No such recording in this room."}
    with httpx.Client(base_url=live.url, headers={"Origin": live.url, "X-CSRFToken": "x"}) as anonymous:
        assert anonymous.put(segment_url(running, rec_uid=rec_uid), content=webm_bytes).status_code == 403
    assert "Traceback" not in live.log.read_text()
    assert not Segment.objects.exists()


# --- item 13: the Host and Origin rules of Django --------------------------------------------------


def asgi_put(recording: Recording, body: bytes, cookies: dict[str, str], **headers: str) -> httpx.Response:
    """One segment PUT through the ASGI application Daphne serves (the ingest router in front of Django)."""

    async def put() -> httpx.Response:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=BASE, cookies=cookies) as client:
            return await client.put(segment_url(recording), content=body, headers=headers)

    return asyncio.run(put())


@pytest.fixture
def participant_cookies(demo) -> tuple[dict[str, str], str]:
    token, csrf_cookie = csrf_pair()
    return {"sessionid": session_cookie(Client(), demo.users["participant"]), "csrftoken": csrf_cookie}, token


@pytest.mark.django_db(transaction=True)
def test_a_host_not_in_allowed_hosts_is_refused_like_a_django_view(running, webm_bytes, participant_cookies) -> None:
    cookies, token = participant_cookies
    # A Host we do not serve, with a matching Origin: before, the origin check compared the two and let it in.
    refused = asgi_put(running, webm_bytes, cookies, Host="evil.example", Origin="http://evil.example", **{
        "X-CSRFToken": token})  # fmt: skip
    assert refused.status_code == 400 and "Host" in refused.json()["error"]
    # Django's rules, port split included: an allowed name with a port is the request's own origin.
    taken = asgi_put(running, webm_bytes, cookies, Host="testserver:8000", Origin="http://testserver:8000", **{
        "X-CSRFToken": token})  # fmt: skip
    assert taken.status_code == 201, taken.text
    assert Segment.objects.count() == 1


def test_a_live_server_refuses_a_foreign_host(live, demo, running, webm_bytes) -> None:
    before = spool_files()
    with signed_in(live.url, demo.users["participant"]) as client:
        response = client.put(
            segment_url(running), content=webm_bytes, headers={"Host": "evil.example", "Origin": "http://evil.example"}
        )
    assert response.status_code == 400
    assert not Segment.objects.exists() and spool_files() == before


@pytest.mark.django_db(transaction=True)
def test_trusted_origins_with_wildcard_subdomains_are_honoured(running, webm_bytes, participant_cookies, settings):
    """CSRF_TRUSTED_ORIGINS as Django's CSRF middleware reads it: "https://*.example.com" covers its subdomains."""
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.example.com", "https://exact.example.org"]
    cookies, token = participant_cookies

    def status(origin: str, seq: int) -> int:
        async def put() -> int:
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url=BASE, cookies=cookies) as client:
                response = await client.put(
                    segment_url(running, seq=seq), content=webm_bytes, headers={"Origin": origin, "X-CSRFToken": token}
                )
                return response.status_code

        return asyncio.run(put())

    assert status("https://meet.example.com", 0) == 201  # before: 403 (only exact entries were compared)
    assert status("https://exact.example.org", 1) == 201
    assert status("https://example.com.evil.net", 2) == 403
    assert status("http://meet.example.com", 3) == 403  # the scheme is part of the origin
    assert status("https://exact.example.org.evil.net", 4) == 403


# --- item 14: nothing in the spool without a row --------------------------------------------------


def test_writing_into_someone_elses_track_is_refused_before_the_body_is_kept(live, demo, running, webm_bytes) -> None:
    with signed_in(live.url, demo.users["participant"]) as client:
        assert client.put(segment_url(running, track="camera-pia"), content=webm_bytes).status_code == 201
    before = spool_files()
    with signed_in(live.url, demo.users["host"]) as client:
        other = webm_bytes[:-10] + b"0123456789"
        response = client.put(segment_url(running, seq=1, track="camera-pia"), content=other)
        screen = client.put(segment_url(running, seq=1, track="camera-pia"), content=other,
                            headers={"X-Track-Kind": "screen"})  # fmt: skip
    assert response.status_code == 409 and "belongs to someone else" in response.json()["error"]
    assert screen.status_code == 409
    assert spool_files() == before  # before the fix the refused bytes stayed, with no row
    assert Segment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_loser_of_a_race_for_one_sequence_number_leaves_no_file(running, webm_bytes, participant_cookies):
    """Two uploads of different bytes under one number, both authorised before either is stored.

    Driven through the ASGI application with two communicators, so the interleaving is exact:
    both requests have been authorised (no segment under that number yet) and wait for their
    bodies; the first then completes (201), the second after it (409 from the unique row).
    """
    cookies, token = participant_cookies
    cookie_header = "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()
    path = segment_url(running, track="camera-race")
    first, second = webm_bytes, webm_bytes[:-10] + b"0123456789"

    def scope(body: bytes) -> dict:
        return {
            "type": "http",
            "method": "PUT",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "scheme": "http",
            "query_string": b"",
            "server": ("testserver", 80),
            "client": ("127.0.0.1", 5000),
            "headers": [
                (b"host", b"testserver"),
                (b"origin", BASE.encode()),
                (b"x-csrftoken", token.encode()),
                (b"cookie", cookie_header),
                (b"content-length", str(len(body)).encode()),
            ],
        }

    async def answer(app: ApplicationCommunicator) -> tuple[int, dict]:
        start = await app.receive_output(timeout=20)
        body = await app.receive_output(timeout=20)
        return start["status"], json.loads(body["body"])

    async def race() -> tuple[tuple[int, dict], tuple[int, dict]]:
        a = ApplicationCommunicator(application, scope(first))
        b = ApplicationCommunicator(application, scope(second))
        # The first (empty) piece of each body starts both requests; both authorise (a trip each
        # to the database thread, no segment under the number yet) and wait for the rest.
        for app in (a, b):
            await app.send_input({"type": "http.request", "body": b"", "more_body": True})
        await asyncio.sleep(1.5)
        await a.send_input({"type": "http.request", "body": first, "more_body": False})
        result_a = await answer(a)
        await b.send_input({"type": "http.request", "body": second, "more_body": False})
        result_b = await answer(b)
        return result_a, result_b

    (status_a, _), (status_b, payload_b) = asyncio.run(race())
    assert status_a == 201
    assert status_b == 409 and "different segment" in payload_b["error"]
    stored = {str(Path(django_settings.SPOOL_DIR) / s.path) for s in Segment.objects.filter(track__recording=running)}
    mine = [str(p) for p in spool_files() if str(running.uid) in str(p)]
    assert mine == sorted(stored) and len(stored) == 1  # the loser's file is gone
    (only,) = Segment.objects.filter(track__recording=running)
    assert only.sha256 == hashlib.sha256(first).hexdigest()
