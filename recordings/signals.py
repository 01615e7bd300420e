"""What the recordings app announces; the media library above listens (DESIGN.md "One direction")."""

from __future__ import annotations

from django.dispatch import Signal

# A recording's verified MP4 is ready and its publish step is due (first time, a retry after a
# failure, an admin's republish, or a stalled publish taken over). kwargs: recording_id.
# Sent inside the transaction that set the work claim; listeners queue their work on commit.
recording_ready = Signal()

# A recording moved from one state to another (every move of recordings.services._transition:
# capture began, stopped, processing, available, failed, ...). kwargs: recording (the row as just
# saved, under its lock), from_state, to_state, transition_id (its RecordingTransition row).
# Sent inside the transaction that made the move; listeners write in it and queue work on commit.
recording_state_changed = Signal()
