"""What the meetings app announces; the apps above listen (DESIGN.md "One direction").

Sent synchronously inside the transaction that made the change, so a listener's writes commit
or roll back with it (as `django.contrib.auth` sends `user_logged_in` from `login()`).
"""

from __future__ import annotations

from django.dispatch import Signal

# A live session ended for everyone. kwargs: session (LiveSession, already ENDED), reason
# (LiveSession.EndReason), by (User | None), room_closed (bool: a broadcast room closed completely).
session_ended = Signal()

# A broadcast room was closed completely after its session ended. kwargs: room, by.
room_closed = Signal()
