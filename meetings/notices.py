"""What people are told about the session, and what the room page says about their devices."""

from __future__ import annotations

from core.events import NoticeTexts

TEXTS = NoticeTexts(
    broadcast_live="The broadcast is live.",
    session_ended="The session has ended.",
    session_ended_by_host="The host ended the session for everyone.",
    session_ended_host_left="The session has ended: no host or moderator came back within the time-out.",
    session_ended_session_cap="The session has reached the room's maximum length and has ended.",
    session_ended_room_closed="The host closed the room.",
    # Said by the browser itself (room_config.texts).
    no_devices="No camera or microphone: you joined without them.",
    screen_share_not_started="Screen sharing was not started.",
    not_allowed="You can no longer join this room.",
    # Presenting from Media and Files (issue 11): said by the room page's stage (ui/presentation.js).
    presentation_by="Presented by",
    presentation_not_loaded="The presented item could not be loaded. It may have been removed from Media and Files.",
    presentation_sound_off="The presented video is playing without sound. Select Unmute the video to hear it.",
    # The live mesh (issue 11): why someone joined with camera and microphone off, or was muted.
    mesh_sender_limit="This meeting already carries as many cameras and microphones as it can, so you joined with "
    "yours off. You still see and hear everyone.",
    mesh_viewer="You are watching a broadcast: only its hosts, moderators and invited speakers are seen and heard.",
    speaker_invited="A host invited you to speak. Turn on your microphone or camera when you are ready.",
    speaker_ended="You are watching again: your camera and microphone are off.",
    mesh_full="This meeting is full for live video, so you do not see or hear the others live. You are in the room "
    "all the same: you see what is presented and hear the room's notices.",
    mesh_muted="A host or moderator muted your microphone. You can unmute it yourself.",
)
