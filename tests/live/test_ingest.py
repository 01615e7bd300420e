"""Segment ingest over the real ASGI stack: durable, idempotent, and strict about what it takes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from meetings import services as meeting_services
from recordings import services
from recordings.models import Recording, Segment
from tests.live.conftest import csrf_pair, make_webm, session_cookie


@pytest.fixture
def webm(tmp_path) -> bytes:
    return make_webm(tmp_path / "seg.webm")


@pytest.fixture
def running(live, demo):
    """A live session of the single room with a recording running, started by the host."""
    room = demo.rooms["single"]
    meeting_services.open_or_create_session(room=room)
    recording, _ = services.start_recording(room=room, user=demo.users["host"])
    return recording


def http(live, user) -> httpx.Client:
    cookie = session_cookie(Client(), user)
    token, csrf_cookie = csrf_pair()
    return httpx.Client(
        base_url=live.url,
        timeout=20,
        cookies={"sessionid": cookie, "csrftoken": csrf_cookie},
        headers={"X-CSRFToken": token, "Origin": live.url},
    )


def put(
    client: httpx.Client,
    recording: Recording,
    body: bytes,
    *,
    seq: int = 0,
    track: str = "camera-abc",
    room_id: int | None = None,
    **headers: str,
) -> httpx.Response:
    url = f"/rooms/{room_id or recording.room_id}/recordings/{recording.uid}/tracks/{track}/segments/{seq}"
    return client.put(url, content=body, headers={"X-Track-Kind": "camera", **headers})


def spool_files() -> list[Path]:
    root = Path(settings.SPOOL_DIR)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_segment_is_stored_durably_and_marks_capture(live, demo, running, webm) -> None:
    with http(live, demo.users["participant"]) as client:
        now_ms = timezone.now().timestamp() * 1000
        response = put(client, running, webm, **{"X-Segment-Start": str(now_ms - 1000), "X-Segment-Duration": "1000"})
    assert response.status_code == 201, response.text
    segment = Segment.objects.get()
    stored = Path(settings.SPOOL_DIR) / segment.path
    assert stored.read_bytes() == webm and segment.size == len(webm)
    assert segment.track.user == demo.users["participant"] and segment.duration == 1.0
    running.refresh_from_db()
    assert running.state == "recording" and running.started_at is not None  # "being recorded" now


def test_retry_is_not_duplicated(live, demo, running, webm) -> None:
    with http(live, demo.users["host"]) as client:
        first = put(client, running, webm)
        again = put(client, running, webm)
        different = put(client, running, webm[:-10] + b"0123456789")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["duplicate"] is True
    assert different.status_code == 409
    assert Segment.objects.count() == 1
    assert len([p for p in spool_files() if str(running.uid) in str(p)]) == 1


def test_bad_requests_get_4xx_and_nothing_is_written(live, demo, running, webm) -> None:
    other_room = demo.rooms["integration"]
    before = spool_files()
    with http(live, demo.users["host"]) as client:
        assert put(client, running, webm, room_id=other_room.pk).status_code == 404  # another room's URL
        assert put(client, running, b"RIFF....WAVEfmt " + b"\0" * 100).status_code == 415  # not WebM
        too_big = put(client, running, b"\x1a\x45\xdf\xa3" + b"\0" * (settings.SEGMENT_MAX_BYTES + 1))
        assert too_big.status_code == 413
        assert put(client, running, webm, track="../../etc").status_code in (400, 404)
        assert put(client, running, webm, **{"X-Track-Kind": "desktop"}).status_code == 400
        assert put(client, running, webm, **{"X-Segment-Start": "yesterday"}).status_code == 400
        assert put(client, running, b"").status_code in (400, 411)
        assert client.get(f"/rooms/{running.room_id}/recordings/{running.uid}/tracks/a/segments/0").status_code == 405
    with http(live, demo.users["outsider"]) as client:
        assert put(client, running, webm).status_code == 404
    with httpx.Client(base_url=live.url) as anonymous:
        assert put(anonymous, running, webm).status_code == 403
    assert spool_files() == before
    assert Segment.objects.count() == 0


def test_cross_site_uploads_are_refused(live, demo, running, webm) -> None:
    """A signed-in participant's cookies are not enough: the upload must come from our own pages."""
    before = spool_files()
    with http(live, demo.users["participant"]) as client:
        foreign = put(client, running, webm, Origin="https://evil.example")
        assert foreign.status_code == 403 and "origin" in foreign.json()["error"]
        assert put(client, running, webm, Origin="null").status_code == 403
        client.headers.pop("Origin")
        assert put(client, running, webm).status_code == 403  # no Origin at all
        client.headers["Origin"] = live.url
        client.headers.pop("X-CSRFToken")
        assert put(client, running, webm).status_code == 403  # no CSRF header
        client.headers["X-CSRFToken"] = "x"
        assert put(client, running, webm).status_code == 201  # the same request from the room page is taken
    assert len(spool_files()) == len(before) + 1
    assert Segment.objects.count() == 1


def test_ended_recording_takes_no_more_media(live, demo, running, webm, settings) -> None:
    services.stop_recording(recording=running, reason="stopped_by_host")
    running.refresh_from_db()
    with http(live, demo.users["host"]) as client:
        assert put(client, running, webm, seq=0).status_code == 201  # the last piece, within the grace
        Recording.objects.filter(pk=running.pk).update(stopped_at=timezone.now() - timezone.timedelta(seconds=60))
        before = spool_files()
        late = put(client, running, webm, seq=1)
    assert late.status_code == 409 and "no longer accepting" in late.json()["error"]
    assert spool_files() == before


def test_segments_land_on_one_timeline_with_measured_clock_offset(live, demo, running, webm) -> None:
    """A browser whose clock is 1 hour fast still lands at the right place."""
    from meetings.models import Presence

    session = running.session
    Presence.objects.create(
        session=session,
        user=demo.users["participant"],
        channel_name="test-skewed",
        role="participant",
        last_seen=timezone.now(),
        clock_offset=-3600.0,
        clock_rtt=0.01,
    )
    origin = running.created_at.timestamp()
    skewed_start_ms = (origin + 5.0 + 3600.0) * 1000  # 5 s into the recording, on the fast clock
    with http(live, demo.users["participant"]) as client:
        response = put(client, running, webm, **{"X-Segment-Start": str(skewed_start_ms)})
    assert response.status_code == 201
    # Capped at arrival: a segment cannot start after it arrived, so we allow the test's own latency.
    assert 0 <= Segment.objects.get().start <= 5.0 + 0.01
    assert Segment.objects.get().start >= min(5.0, (timezone.now().timestamp() - origin)) - 1.0


def test_final_segments_of_every_track_start_processing_without_waiting(live, demo, running, webm) -> None:
    with http(live, demo.users["host"]) as client:
        assert put(client, running, webm, seq=0).status_code == 201
        services.stop_recording(recording=running, reason="stopped_by_host")
        assert put(client, running, webm, seq=1, **{"X-Final": "1"}).status_code == 201
    running.refresh_from_db()
    # Processing began at once (tasks run eagerly here, so it may already have finished).
    assert running.transitions.filter(to_state="processing").exists()
    assert running.state in ("processing", "available") and running.duration is not None
