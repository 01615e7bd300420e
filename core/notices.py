"""Every notice text people see, defined once (SPEC.md quotes most of them word for word).

The server sends them in events, templates print them (`{% notice_text "code" %}`), and the
room's JavaScript receives the whole table through `json_script` (`room_config`), so a text
changed here changes everywhere. A test checks that no copy of a SPEC text is written elsewhere.
"""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


TEXTS: dict[str, str] = {
    # Recording (SPEC "Starting a recording", "Stopping a recording")
    "recording_confirm": "Do you want to start recording?",
    "recording_starting": "Recording will start momentarily, please wait",
    "recording_started": "This session is being recorded",
    "recording_ended": "Recording ended, starting upload",
    "recording_completed": "The recording has completed",
    "recording_cap": "The recording reached its 24-hour limit and was stopped automatically.",
    "recording_no_media": (
        "The recording could not start: no camera, microphone or screen media reached the server in time."
    ),
    "recording_held": (
        "This broadcast's recording is held: it will appear in the session recordings only when a host "
        "closes the room completely."
    ),
    "recording_publish_retry": (
        "The recording is processed but could not be stored yet. It will be tried again automatically."
    ),
    "recording_no_media_before_stop": "No media was recorded before the recording stopped.",
    # The file (SPEC step 4)
    "file_available": "Your recording file is available",
    "file_available_owner_only": "The recording is available to its owner",
    # Sessions
    "broadcast_live": "The broadcast is live.",
    "session_ended": "The session has ended.",
    "session_ended_by_host": "The host ended the session for everyone.",
    "session_ended_host_left": "The session has ended: no host or moderator came back within the time-out.",
    "session_ended_session_cap": "The session has reached the room's maximum length and has ended.",
    "session_ended_room_closed": "The host closed the room.",
    # Said by the browser itself
    "no_devices": "No camera or microphone: you joined without them.",
    "screen_share_not_started": "Screen sharing was not started.",
    "not_allowed": "You can no longer join this room.",
}


def text(code: str) -> str:
    """The text of a notice code; an unknown code is a programming error, so it raises."""
    return TEXTS[code]
