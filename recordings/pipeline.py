"""Hand-off from capture to composition (the compositor's issue fills this in)."""

from __future__ import annotations

import logging

from recordings.models import Recording

logger = logging.getLogger(__name__)


def schedule_finalize(recording: Recording) -> None:
    """Queue the work that turns the segments into the MP4, after the transaction commits."""
    logger.info("recording %s is ready for composition", recording.pk)
