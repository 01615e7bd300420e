"""How recordings react to what the meetings app announces (wired in RecordingsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from meetings import signals as meeting_signals
from meetings.models import LiveSession, Room, User
from recordings import services
from recordings.models import Recording


@receiver(meeting_signals.session_ended, dispatch_uid="recordings.stop_on_session_end")
def stop_recording_when_the_session_ends(
    sender: type, session: LiveSession, reason: str, by: User | None, room_closed: bool, **kwargs: Any
) -> None:
    """A session that ends stops its recording (processed like any other); a closed broadcast room
    releases what its session held."""
    stop_reason = (
        Recording.StopReason.HOST_LEFT
        if reason == LiveSession.EndReason.HOST_LEFT
        else Recording.StopReason.SESSION_ENDED
    )
    services.stop_active_recording(room_id=session.room_id, reason=stop_reason, by=by)
    if room_closed:
        services.release_held(session_id=session.pk)


@receiver(meeting_signals.room_closed, dispatch_uid="recordings.release_on_room_closed")
def release_held_when_the_room_closes(sender: type, room: Room, by: User | None, **kwargs: Any) -> None:
    services.release_held(recordings=list(Recording.objects.held().filter(room=room).values_list("pk", flat=True)))
