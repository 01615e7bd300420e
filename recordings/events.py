"""What the room hears about recordings: the exact notice texts of SPEC.md, built in one place."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from meetings import events
from meetings.events import Payload
from recordings.models import Recording

STARTING = "Recording will start momentarily, please wait"
RECORDING = "This session is being recorded"
ENDED_FOR_LEADERS = "Recording ended, starting upload"
ENDED_FOR_PARTICIPANTS = "The recording has completed"
CAP_REACHED = "The recording reached its 24-hour limit and was stopped automatically."
NO_MEDIA = "The recording could not start: no camera, microphone or screen media reached the server in time."
HELD = (
    "This broadcast's recording is held: it will appear in the session recordings only when a host "
    "closes the room completely."
)


def snapshot(recording: Recording | None) -> Payload | None:
    """The recording as a browser needs it: enough to draw the indicator and the counter."""
    if recording is None:
        return None
    now = timezone.now()
    elapsed = (now - recording.started_at).total_seconds() if recording.started_at else 0.0
    return {
        "uid": str(recording.uid),
        "state": recording.state,
        "active": recording.is_active,
        "capturing": recording.state in (Recording.State.STARTING, Recording.State.RECORDING),
        "elapsed": round(max(elapsed, 0.0), 3),
        "started_by": recording.started_by_id,
        "stop_reason": recording.stop_reason,
        "progress": recording.progress,
        "segment_seconds": settings.SEGMENT_SECONDS,
    }


def broadcast_state(recording: Recording) -> None:
    events.send_on_commit(events.room_group(recording.room_id), {"type": "recording", "recording": snapshot(recording)})


def announce_starting(recording: Recording) -> None:
    # The notice first: it is what people wait for; the state message follows it.
    events.send_on_commit(events.room_group(recording.room_id), events.notice(STARTING, code="recording_starting"))
    broadcast_state(recording)


def announce_recording(recording: Recording) -> None:
    broadcast_state(recording)
    events.send_on_commit(events.room_group(recording.room_id), events.notice(RECORDING, code="recording_started"))


def announce_stopped(recording: Recording, *, why: str | None = None) -> None:
    broadcast_state(recording)
    room_id = recording.room_id
    if why:
        events.send_on_commit(
            events.leaders_group(room_id), events.notice(why, code="recording_stop_reason", level="warning")
        )
    events.send_on_commit(events.leaders_group(room_id), events.notice(ENDED_FOR_LEADERS, code="recording_ended"))
    events.send_on_commit(
        events.participants_group(room_id), events.notice(ENDED_FOR_PARTICIPANTS, code="recording_completed")
    )


def announce_failed(recording: Recording, *, text: str) -> None:
    broadcast_state(recording)
    events.send_on_commit(
        events.leaders_group(recording.room_id), events.notice(text, code="recording_failed", level="error")
    )


def announce_progress(recording: Recording) -> None:
    events.send_on_commit(
        events.leaders_group(recording.room_id),
        {"type": "progress", "uid": str(recording.uid), "progress": recording.progress, "state": recording.state},
    )


def announce_held(recording: Recording) -> None:
    broadcast_state(recording)
    announce_progress(recording)  # state "held": the hosts' progress bar goes away
    events.send_on_commit(
        events.leaders_group(recording.room_id), events.notice(HELD, code="recording_held", level="warning")
    )
