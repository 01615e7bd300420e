"""What the media library announces; the apps above it listen (DESIGN.md "One direction")."""

from __future__ import annotations

from django.dispatch import Signal

# An entry is about to be deleted by media_library.services.delete_entry. kwargs: entry (still
# whole: its id, title, room and source recording can be read). Sent inside the transaction that
# deletes it, so a listener's rows commit or roll back with the deletion.
entry_deleted = Signal()
