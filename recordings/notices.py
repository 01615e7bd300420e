"""What people are told about a recording, in SPEC.md's words ("Starting a recording", "Stopping
a recording"). Written here only; recordings.events decides who hears which."""

from __future__ import annotations

from core.events import NoticeTexts

TEXTS = NoticeTexts(
    recording_confirm="Do you want to start recording?",
    recording_starting="Recording will start momentarily, please wait",
    recording_started="This session is being recorded",
    recording_ended="Recording ended, starting upload",
    recording_completed="The recording has completed",
    recording_cap="The recording reached its 24-hour limit and was stopped automatically.",
    recording_no_media=(
        "The recording could not start: no camera, microphone or screen media reached the server in time."
    ),
    recording_held=(
        "This broadcast's recording is held: it will appear in the session recordings only when a host "
        "closes the room completely."
    ),
    recording_publish_retry=(
        "The recording is processed but could not be stored yet. It will be tried again automatically."
    ),
    recording_no_media_before_stop="No media was recorded before the recording stopped.",
)
