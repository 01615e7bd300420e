"""Hand the verified MP4 to the media library (storage, entry, folders, access, notices)."""

from __future__ import annotations

import logging

from recordings.models import Recording

logger = logging.getLogger(__name__)


def publish(recording_id: int) -> Recording | None:
    from media_library.services import publish_recording

    recording = Recording.objects.filter(pk=recording_id).first()
    if recording is None or recording.state not in (Recording.State.PROCESSING, Recording.State.AVAILABLE):
        return None  # failed, held or gone: nothing to publish now
    if not recording.output_path:
        logger.warning("recording %s has no verified file to publish yet", recording_id)
        return None
    publish_recording(recording=recording, mp4_path=recording.output_path)
    recording.refresh_from_db()
    return recording
