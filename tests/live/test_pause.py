"""Pause and resume (decision 0022): guarded like Record, authorised by the room policy, told to all."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.utils import timezone

from meetings import services as meeting_services
from recordings import deadlines, events, services, windows
from recordings.models import Recording, RecordingPause
from tests.live.test_room_socket import in_room

# docs/notices.md "Pause and resume", spelled out so the test checks the product against the docs.
PAUSED = "Recording paused"
RESUMED = "Recording resumed"


def recording_in(demo) -> Recording:
    room = demo.rooms["single"]
    meeting_services.open_or_create_session(room=room)
    recording, _ = services.start_recording(room=room, user=demo.users["host"])
    services.mark_capturing(recording_id=recording.pk, capture_began=timezone.now())
    recording.refresh_from_db()
    return recording


@pytest.mark.django_db(transaction=True)
def test_double_pause_and_two_leaders_give_one_pause(demo) -> None:
    recording = recording_in(demo)
    room_id = recording.room_id
    outcomes = []
    barrier = threading.Barrier(4)

    def pause(username: str) -> None:
        try:
            barrier.wait()
            outcomes.append(services.pause_recording(room_id=room_id, by=demo.users[username]).changed)
        finally:
            connection.close()

    threads = [threading.Thread(target=pause, args=(u,)) for u in ("host", "host", "moderator", "coeditor")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False, False, False, True]
    assert RecordingPause.objects.filter(recording=recording).count() == 1
    recording.refresh_from_db()
    assert recording.paused_at is not None and recording.state == Recording.State.RECORDING

    first = services.resume_recording(room_id=room_id, by=demo.users["moderator"])
    again = services.resume_recording(room_id=room_id, by=demo.users["host"])
    assert first.changed and not again.changed
    assert again.message == "The recording is not paused."
    assert RecordingPause.objects.get(recording=recording).resumed_at is not None


@pytest.mark.django_db(transaction=True)
def test_pause_needs_a_running_recording(demo) -> None:
    room = demo.rooms["single"]
    with pytest.raises(services.RecordingError, match="no recording in progress"):
        services.pause_recording(room_id=room.pk)
    meeting_services.open_or_create_session(room=room)
    services.start_recording(room=room, user=demo.users["host"])  # starting: no media yet
    with pytest.raises(services.RecordingError, match="not started yet"):
        services.pause_recording(room_id=room.pk)
    assert not RecordingPause.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_counter_and_cap_count_recorded_time_only(demo) -> None:
    recording = recording_in(demo)
    began = timezone.now() - timedelta(seconds=100)
    cap = recording.cap_deadline
    Recording.objects.filter(pk=recording.pk).update(created_at=began - timedelta(seconds=1), started_at=began)
    services.pause_recording(room_id=recording.room_id)
    # Paused 30 s ago, 70 s after the first media.
    Recording.objects.filter(pk=recording.pk).update(paused_at=began + timedelta(seconds=70))
    RecordingPause.objects.filter(recording=recording).update(paused_at=began + timedelta(seconds=70))
    recording.refresh_from_db()
    snap = events.snapshot(recording)
    assert snap is not None and snap["paused"] is True
    assert snap["elapsed"] == pytest.approx(70.0, abs=0.01)  # the counter stands still

    # A cap that falls due during a pause does not stop it: paused time is not recorded time.
    Recording.objects.filter(pk=recording.pk).update(cap_deadline=timezone.now() - timedelta(seconds=1))
    assert deadlines.sweep()["recording_cap"] == 0
    Recording.objects.filter(pk=recording.pk).update(cap_deadline=cap)

    before = timezone.now()
    services.resume_recording(room_id=recording.room_id)
    after = timezone.now()
    recording.refresh_from_db()
    paused_for = recording.paused_seconds  # 30 s and however long the sweep above took
    assert recording.paused_at is None
    assert (before - began).total_seconds() - 70 <= paused_for <= (after - began).total_seconds() - 70
    assert (recording.cap_deadline - cap).total_seconds() == pytest.approx(paused_for)  # moved by the pause
    snap = events.snapshot(recording)
    assert snap is not None and snap["paused"] is False
    assert snap["elapsed"] == pytest.approx(70.0, abs=0.5)  # continues where it was

    # Stopped while paused: the paused tail is not in the file.
    services.pause_recording(room_id=recording.room_id)
    services.stop_recording(recording=recording, reason=Recording.StopReason.STOPPED_BY_HOST)
    recording.refresh_from_db()
    assert recording.paused_at is None
    assert not RecordingPause.objects.filter(recording=recording, resumed_at__isnull=True).exists()
    duration = windows.recorded_duration(recording)
    assert duration == pytest.approx(70.0, abs=0.5)


@pytest.mark.asyncio
async def test_pause_over_the_socket_is_told_to_everyone_and_refused_to_participants(live, demo) -> None:
    room = demo.rooms["single"]
    await sync_to_async(recording_in)(demo)
    async with in_room(live, room, demo, "host", "participant") as (host, participant):
        await participant.send(type="pause_recording", id="p")
        error = await participant.expect(lambda m: m.get("type") == "error" and m.get("id") == "p")
        assert error["error"] == "Only hosts and moderators can do that."
        assert not await sync_to_async(RecordingPause.objects.exists)()

        await host.send(type="pause_recording", id="a", junk={"x": [1, 2]})  # extra fields are ignored
        ack = await host.expect(lambda m: m.get("type") == "ack" and m.get("id") == "a")
        assert ack["paused"] is True
        for ws in (host, participant):
            await ws.expect_notice(PAUSED)
            state = await ws.expect(lambda m: m.get("type") == "recording" and m["recording"]["paused"])
            assert state["recording"]["state"] == "recording"

        await host.send(type="resume_recording", id="r")
        ack = await host.expect(lambda m: m.get("type") == "ack" and m.get("id") == "r")
        assert ack["resumed"] is True
        await participant.expect_notice(RESUMED)
        await host.send(type="resume_recording", id="r2")
        ack = await host.expect(lambda m: m.get("type") == "ack" and m.get("id") == "r2")
        assert ack["resumed"] is False and ack["message"] == "The recording is not paused."
        await host.send(type="pause_recordings", id="g")
        error = await host.expect(lambda m: m.get("type") == "error" and m.get("id") == "g")
        assert error["error"] == "Unknown command."


def test_the_docs_list_each_pause_text_as_the_product_says_it() -> None:
    """docs/notices.md "Pause and resume" lists each text exactly as recordings/notices.py has it."""
    from pathlib import Path

    from recordings.notices import TEXTS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "notices.md").read_text()
    section = doc.split("## Pause and resume", 1)[1].split("\n## ", 1)[0]
    listed = dict(line[3:].split("`: ", 1) for line in section.splitlines() if line.startswith("- `"))
    assert listed == {code: TEXTS.text(code) for code in ("recording_paused", "recording_resumed")}
    assert listed == {"recording_paused": PAUSED, "recording_resumed": RESUMED}
