"""What the room hears about its recording, built from the event catalogue (core.events).

The texts are SPEC.md's, written once in recordings.notices; this module decides who hears which.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from core import events
from core.events import Consent, Level, Notice, Payload, Progress, RecordingState
from recordings.models import ConsentAnswer, Recording
from recordings.notices import TEXTS


def snapshot(recording: Recording | None) -> Payload | None:
    """The recording as a browser needs it: enough to draw the indicator and the counter."""
    if recording is None:
        return None
    now = timezone.now()
    # The counter shows recorded time: it stands still while paused and resumes where it was.
    until = recording.paused_at or now
    elapsed = (until - recording.started_at).total_seconds() - recording.paused_seconds if recording.started_at else 0.0
    return {
        "uid": str(recording.uid),
        "state": recording.state,
        "active": recording.is_active,
        "capturing": recording.state in Recording.CAPTURING_STATES,
        "paused": recording.paused_at is not None and recording.is_active,
        "elapsed": round(max(elapsed, 0.0), 3),
        "started_by": recording.started_by_id,
        "stop_reason": recording.stop_reason,
        "progress": recording.progress,
        "segment_seconds": settings.SEGMENT_SECONDS,
        # Each person must agree before their media is taken (issue 12): the browser asks and waits.
        "consent_required": recording.consent_required,
    }


def late_joiner_notice(snap: Payload) -> Notice:
    """Someone who joins while a recording runs is told, not only shown (SPEC step 6)."""
    code = "recording_started" if snap["state"] == Recording.State.RECORDING else "recording_starting"
    if snap.get("paused"):
        code = "recording_paused"
    return Notice(code="recording_in_progress", text=TEXTS.text(code))


def broadcast_state(recording: Recording) -> None:
    events.send_on_commit(events.room_group(recording.room_id), RecordingState(recording=snapshot(recording)))


def announce_starting(recording: Recording) -> None:
    # The notice first: it is what people wait for; the state message follows it.
    group = events.room_group(recording.room_id)
    events.send_many_on_commit(
        [(group, TEXTS.notice("recording_starting")), (group, RecordingState(recording=snapshot(recording)))]
    )


def announce_recording(recording: Recording) -> None:
    group = events.room_group(recording.room_id)
    events.send_many_on_commit(
        [(group, RecordingState(recording=snapshot(recording))), (group, TEXTS.notice("recording_started"))]
    )


def announce_paused(recording: Recording) -> None:
    """Everyone hears it and sees it: the indicator says paused, browsers stop capturing."""
    group = events.room_group(recording.room_id)
    events.send_many_on_commit(
        [(group, RecordingState(recording=snapshot(recording))), (group, TEXTS.notice("recording_paused"))]
    )


def announce_resumed(recording: Recording) -> None:
    group = events.room_group(recording.room_id)
    events.send_many_on_commit(
        [(group, RecordingState(recording=snapshot(recording))), (group, TEXTS.notice("recording_resumed"))]
    )


def announce_stopped(recording: Recording, *, why: str | None = None) -> None:
    room_id = recording.room_id
    sends: list[tuple[str, events.Event]] = [
        (events.room_group(room_id), RecordingState(recording=snapshot(recording)))
    ]
    if why:
        sends.append(
            (events.leaders_group(room_id), Notice(code="recording_stop_reason", text=why, level=Level.WARNING))
        )
    sends.append((events.leaders_group(room_id), TEXTS.notice("recording_ended")))
    sends.append((events.participants_group(room_id), TEXTS.notice("recording_completed")))
    events.send_many_on_commit(sends)


def announce_failed(recording: Recording, *, text: str) -> None:
    room_id = recording.room_id
    events.send_many_on_commit(
        [
            (events.room_group(room_id), RecordingState(recording=snapshot(recording))),
            (events.leaders_group(room_id), progress_event(recording)),  # the hosts' progress bar goes away
            (events.leaders_group(room_id), Notice(code="recording_failed", text=text, level=Level.ERROR)),
        ]
    )


def announce_retrying(recording: Recording) -> None:
    events.send_on_commit(
        events.leaders_group(recording.room_id), TEXTS.notice("recording_publish_retry", level=Level.WARNING)
    )


def progress_event(recording: Recording) -> Progress:
    return Progress(uid=str(recording.uid), progress=recording.progress, state=recording.state)


def announce_progress(recording: Recording) -> None:
    events.send_on_commit(events.leaders_group(recording.room_id), progress_event(recording))


def announce_held(recording: Recording) -> None:
    room_id = recording.room_id
    events.send_many_on_commit(
        [
            (events.room_group(room_id), RecordingState(recording=snapshot(recording))),
            (events.leaders_group(room_id), progress_event(recording)),  # state "held": the progress bar goes
            (events.leaders_group(room_id), TEXTS.notice("recording_held", level=Level.WARNING)),
        ]
    )


def consent_state(recording: Recording | None, answer: str | None) -> Payload | None:
    """A person's consent for the running recording (the `consent` of their State), if it asks for it."""
    if recording is None or not recording.consent_required or not recording.is_active:
        return None
    return {"uid": str(recording.uid), "answer": answer}


def announce_consent(answer: ConsentAnswer) -> None:
    """Every open room socket of the person hears their answer (another tab follows it at once)."""
    code = "consent_agreed" if answer.answer == ConsentAnswer.Answer.AGREE else "consent_declined"
    event = Consent(recording_uid=str(answer.recording.uid), answer=answer.answer, text=TEXTS.text(code))
    events.send_on_commit(events.user_group(answer.user_id), event)
