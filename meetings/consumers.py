"""The room's websocket: one per browser tab."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from meetings import permissions
from meetings.models import Room, SessionRole

# 4403: the close code a browser sees when the server refuses the socket before accept.
CLOSE_NOT_ALLOWED = 4403


@database_sync_to_async
def _role_for(user, room_id: int) -> SessionRole | None:
    room = Room.objects.select_related("channel").filter(pk=room_id).first()
    if room is None:
        return None
    return permissions.session_role(user, room)


class RoomConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        room_id = self.scope["url_route"]["kwargs"]["room_id"]
        role = await _role_for(user, room_id) if user is not None else None
        if role is None:
            # Refused before accept: anonymous, unknown room and no access look the same.
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        self.room_id = room_id
        self.role = role
        await self.accept()
        await self.send_json({"type": "hello", "role": str(role)})
