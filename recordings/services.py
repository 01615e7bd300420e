"""Every write and state transition of recordings (a state machine; DESIGN.md "State lives in the database")."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from meetings import services as meeting_services
from meetings.models import LiveSession, Room, User
from recordings import events
from recordings.models import Recording, RecordingTransition, Segment, Track

logger = logging.getLogger(__name__)

S = Recording.State
R = Recording.StopReason


class RecordingError(Exception):
    """A request that cannot be carried out; the message is safe to show to the person."""


def _transition(
    recording_id: int, *, from_states: tuple[str, ...], to_state: str, note: str = "", **fields: object
) -> Recording | None:
    """Move one recording, under a row lock, only from the given states; None if it was elsewhere.

    This is what makes double clicks, two hosts and a sweep racing a click all give one outcome.
    """
    with transaction.atomic():
        recording = Recording.objects.select_for_update().filter(pk=recording_id).first()
        if recording is None or recording.state not in from_states:
            return None
        previous = recording.state
        recording.state = to_state
        for name, value in fields.items():
            setattr(recording, name, value)
        recording.save()
        RecordingTransition.objects.create(recording=recording, from_state=previous, to_state=to_state, note=note[:500])
        return recording


def start_recording(*, room: Room, user: User) -> tuple[Recording, bool]:
    """Start a recording of the room's open session, or return the one already running (created=False)."""
    now = timezone.now()
    with transaction.atomic():
        session = (
            LiveSession.objects.select_for_update().filter(room=room).exclude(state=LiveSession.State.ENDED).first()
        )
        if session is None:
            raise RecordingError("There is no live session in this room.")
        existing = Recording.objects.filter(room=room, state__in=Recording.ACTIVE_STATES).first()
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                recording = Recording.objects.create(
                    room=room,
                    session=session,
                    started_by=user,
                    cap_deadline=now + timedelta(seconds=settings.RECORDING_MAX_SECONDS),
                    first_media_deadline=now + timedelta(seconds=settings.FIRST_MEDIA_TIMEOUT_SECONDS),
                )
        except IntegrityError:  # another host won the race between our check and insert
            return Recording.objects.get(room=room, state__in=Recording.ACTIVE_STATES), False
        RecordingTransition.objects.create(recording=recording, to_state=S.STARTING, note=f"started by {user.username}")
        events.announce_starting(recording)
        return recording, True


def mark_capturing(*, recording_id: int, capture_began: datetime) -> Recording | None:
    """The first media is on disk: tell everyone the session is being recorded."""
    began = min(capture_began, timezone.now())
    recording = _transition(
        recording_id, from_states=(S.STARTING,), to_state=S.RECORDING, note="first media stored", started_at=began
    )
    if recording is not None:
        events.announce_recording(recording)
    return recording


def stop_recording(
    *, recording: Recording, reason: str, by: User | None = None, why: str | None = None
) -> Recording | None:
    """Stop capture; idempotent (a second stop, or a stop racing the sweep, does nothing)."""
    stopped = _transition(
        recording.pk,
        from_states=(S.STARTING, S.RECORDING),
        to_state=S.STOPPING,
        note=f"{reason}" + (f" by {by.username}" if by else ""),
        stop_reason=reason,
        stopped_at=timezone.now(),
        stopped_by=by,
    )
    if stopped is not None:
        events.announce_stopped(stopped, why=why)
    return stopped


def stop_active_recording(
    *, room_id: int, reason: str, by: User | None = None, why: str | None = None
) -> Recording | None:
    active = Recording.objects.filter(room_id=room_id, state__in=(S.STARTING, S.RECORDING)).first()
    if active is None:
        return None
    return stop_recording(recording=active, reason=reason, by=by, why=why)


def fail_recording(*, recording_id: int, error: str, from_states: tuple[str, ...] | None = None) -> Recording | None:
    failed = _transition(
        recording_id,
        from_states=from_states or (S.STARTING, S.RECORDING, S.STOPPING, S.PROCESSING, S.HELD),
        to_state=S.FAILED,
        note=error,
        error=error,
    )
    if failed is not None:
        events.announce_failed(failed, text=error)
    return failed


def begin_processing(*, recording_id: int) -> Recording | None:
    """After the stop grace (late segments have landed), hand the recording to composition."""
    recording = Recording.objects.filter(pk=recording_id).first()
    if recording is None:
        return None
    if not Segment.objects.filter(track__recording_id=recording_id).exists():
        return fail_recording(
            recording_id=recording_id,
            error="No media was recorded before the recording stopped.",
            from_states=(S.STOPPING,),
        )
    from recordings import pipeline

    processing = _transition(
        recording_id,
        from_states=(S.STOPPING,),
        to_state=S.PROCESSING,
        note="capture closed",
        duration=pipeline.recorded_duration(recording),
    )
    if processing is not None:
        events.broadcast_state(processing)
        pipeline.schedule_finalize(processing)
    return processing


def reprocess(*, recording_id: int) -> Recording | None:
    """Admin retry: process again from the stored segments (after a failure, or to rebuild the file)."""
    return _transition(
        recording_id,
        from_states=(S.FAILED, S.AVAILABLE, S.HELD),
        to_state=S.PROCESSING,
        note="retry from segments",
        error="",
        progress=0,
        processing_heartbeat=None,
        output_path="",
    )


# --- Broadcast rooms: held until the room is closed (SPEC "Live broadcast rooms") -------------


def hold_if_room_open(*, recording_id: int) -> bool:
    """Finalize's last step: True if this broadcast recording must wait for the room to close (held).

    Under the session's row lock, so a host closing the room at the same moment either comes first
    (we see it closed and publish) or after (it finds the recording held and releases it).
    """
    with transaction.atomic():
        recording = Recording.objects.select_related("room").filter(pk=recording_id).first()
        if recording is None or recording.room.mode != Room.Mode.BROADCAST:
            return False
        session = LiveSession.objects.select_for_update().get(pk=recording.session_id)
        if session.state == LiveSession.State.ENDED and session.room_closed:
            return False
        held = _transition(
            recording_id, from_states=(S.PROCESSING,), to_state=S.HELD, note="broadcast: the room has not been closed"
        )
        if held is None:
            return False
        events.announce_held(held)
        return True


def release_held(*, session_id: int, close: bool = False) -> list[Recording]:
    """The room was closed: publish the session's held recordings (their verified MP4 is ready).

    `close` records the closing on the ended session first (a host closing the room after the
    fact, or an admin publishing held recordings), so a retried recording is not held again.
    """
    from media_library.tasks import enqueue_publish

    if close:
        LiveSession.objects.filter(pk=session_id, state=LiveSession.State.ENDED).update(room_closed=True)
    released = []
    for recording_id in Recording.objects.filter(session_id=session_id, state=S.HELD).values_list("pk", flat=True):
        recording = _transition(recording_id, from_states=(S.HELD,), to_state=S.PROCESSING, note="room closed")
        if recording is None:
            continue
        events.broadcast_state(recording)
        if recording.output_path:
            enqueue_publish(recording.pk)
        else:  # held before its file was made (an admin retry): process it again
            from recordings import pipeline

            pipeline.schedule_finalize(recording)
        released.append(recording)
    return released


# --- Ingest ---------------------------------------------------------------------------------

ACCEPTING_STATES = (S.STARTING, S.RECORDING, S.STOPPING)


@dataclass(frozen=True)
class IngestResult:
    segment: Segment
    created: bool


def accepts_segments(recording: Recording, *, now: datetime | None = None) -> bool:
    """Capture is running, or stopped so recently that the last pieces may still be in flight."""
    if recording.state in (S.STARTING, S.RECORDING):
        return True
    if recording.state == S.STOPPING and recording.stopped_at is not None:
        now = now or timezone.now()
        return now - recording.stopped_at <= timedelta(seconds=settings.STOP_GRACE_SECONDS)
    return False


def timeline_start(
    *, recording: Recording, track: Track, client_start_ms: float | None, duration: float | None, received_at: datetime
) -> float:
    """Seconds on the recording's timeline, from the browser's clock corrected by the server-measured offset."""
    origin = recording.created_at.timestamp()
    if client_start_ms is not None:
        start = client_start_ms / 1000.0 + track.clock_offset - origin
    else:  # no timing sent: it ended about when it arrived
        start = received_at.timestamp() - (duration or settings.SEGMENT_SECONDS) - origin
    # Never before the start, never in the future: a clock we cannot correct must not move media far.
    latest = received_at.timestamp() - origin
    return round(min(max(start, 0.0), max(latest, 0.0)), 3)


def record_segment(
    *,
    recording: Recording,
    user: User,
    client_id: str,
    kind: str,
    seq: int,
    relpath: str,
    size: int,
    sha256: str,
    client_start_ms: float | None,
    duration: float | None,
    final: bool = False,
) -> IngestResult:
    """Record a durable segment; a retry of the same bytes returns the first row (idempotent).

    Runs for every segment of every participant, on the database thread that also serves the
    websockets: a new segment of a known track is one SELECT and one INSERT.
    """
    received_at = timezone.now()
    track = Track.objects.filter(recording=recording, client_id=client_id).first()
    if track is None:  # the track's first segment: its clock offset is the one measured over the socket
        offset = meeting_services.clock_offset_for(session_id=recording.session_id, user_id=user.pk)
        track, _ = Track.objects.get_or_create(
            recording=recording,
            client_id=client_id,
            defaults={"user": user, "kind": kind, "clock_offset": offset or 0.0},
        )
    if track.user_id != user.pk or track.kind != kind:
        raise RecordingError("That track belongs to someone else or is of another kind.")
    start = timeline_start(
        recording=recording, track=track, client_start_ms=client_start_ms, duration=duration, received_at=received_at
    )
    try:
        with transaction.atomic():
            segment = Segment.objects.create(
                track=track, seq=seq, path=relpath, size=size, start=start, duration=duration, sha256=sha256
            )
    except IntegrityError:  # already stored (a retry, or the same retry racing itself)
        segment = Segment.objects.get(track=track, seq=seq)
        if segment.sha256 != sha256:
            raise RecordingError("A different segment with that number was already stored.") from None
        return IngestResult(segment=segment, created=False)
    if recording.state in (S.RECORDING, S.STOPPING):
        from recordings import pipeline

        pipeline.invalidate_windows(segment=segment, recording=recording)
    if final:
        _close_track(recording=recording, track=track)
    if recording.state == S.STARTING:
        capture_began = datetime.fromtimestamp(recording.created_at.timestamp() + start, tz=received_at.tzinfo)
        mark_capturing(recording_id=recording.pk, capture_began=capture_began)
    return IngestResult(segment=segment, created=True)


def _close_track(*, recording: Recording, track: Track) -> None:
    """A browser sent its last piece; once every track has, processing need not wait out the grace."""
    Track.objects.filter(pk=track.pk).update(ended=True)
    recording.refresh_from_db(fields=["state"])
    if recording.state == S.STOPPING and not recording.tracks.filter(ended=False).exists():
        begin_processing(recording_id=recording.pk)
