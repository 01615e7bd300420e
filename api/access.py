"""The API asks the product's policies, exactly as the pages and the room's socket do.

Not found and not visible answer the same (404); something the person can see but may not do
this to is a 403 with the policy's reason, as the pages answer (docs/decisions/0019).
"""

from __future__ import annotations

from rest_framework.exceptions import NotFound, PermissionDenied

from media_library import permissions as entry_permissions
from media_library import selectors as library_selectors
from media_library.models import MediaEntry
from media_library.permissions import Action
from meetings import permissions as room_permissions
from meetings.models import Room, SessionRole, User
from meetings.permissions import RoomAction

BIGINT_MAX = 2**63 - 1  # an id past this names nothing (and must not reach the database)


def room_for(user: User, room_id: int, action: RoomAction = RoomAction.JOIN) -> tuple[Room, SessionRole]:
    """The room and `user`'s role in it, if they may be in it at all (404) and may do `action` (403)."""
    room = Room.objects.select_related("channel").filter(pk=room_id).first() if room_id <= BIGINT_MAX else None
    role = room_permissions.session_role(user, room) if room is not None else None
    if room is None or role is None or not room_permissions.role_can(role, RoomAction.JOIN, room):
        raise NotFound("No such room.")
    if not room_permissions.role_can(role, action, room):
        raise PermissionDenied(room_permissions.refusal(action, room))
    return room, role


def entry_for(user: User, entry_id: int, action: Action) -> tuple[MediaEntry, frozenset[Action]]:
    """The entry and what `user` may do to it, if they may see it (404) and do `action` (403)."""
    entry = library_selectors.entry_for_page(entry_id=entry_id) if entry_id <= BIGINT_MAX else None
    allowed = entry_permissions.allowed_actions(user, entry) if entry is not None else frozenset()
    if entry is None or Action.VIEW not in allowed:
        raise NotFound("No such media entry.")
    if action not in allowed:
        raise PermissionDenied("You may not do that to this entry.")
    return entry, allowed
