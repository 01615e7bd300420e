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
    # Pause and resume (docs/notices.md "Pause and resume"; decision 0022).
    recording_paused="Recording paused",
    recording_resumed="Recording resumed",
    # Consent (issue 12; docs/notices.md "Consent and automatic recording"): asked of everyone in a
    # room that asks for it, when a recording starts and when they join while it runs.
    consent_question="Do you agree to be recorded?",
    consent_reason=(
        "This session is recorded so that it can be watched again later by the people who have access to "
        "the recording. If you say no, you stay in the meeting, but your camera, microphone and screen are "
        "left out of the recording. You can change your mind at any time."
    ),
    consent_access_link="Who will have access to the recording",
    consent_agree="I agree",
    consent_decline="No, don't record me",
    consent_agreed="You agreed to be recorded: your camera, microphone and screen are part of the recording.",
    consent_declined="You are not being recorded: your camera, microphone and screen are left out of the recording.",
    consent_not_recorded="Not recorded",
    consent_change="Change",
    consent_refused=(
        "Not recorded: you have not agreed to be recorded, so this recording does not take your camera, "
        "microphone or screen."
    ),
)
