"""What the recordings app announces; the media library above listens (DESIGN.md "One direction")."""

from __future__ import annotations

from django.dispatch import Signal

# A recording's verified MP4 is ready and its publish step is due (first time, a retry after a
# failure, an admin's republish, or a stalled publish taken over). kwargs: recording_id.
# Sent inside the transaction that set the work claim; listeners queue their work on commit.
recording_ready = Signal()
