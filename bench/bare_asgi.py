"""The fan-out anchor: the least a Channels app can do to tell a room something.

No auth, no database, no origin check: a consumer joins one group on connect, and a "go"
message makes it group_send one notice (the same JSON as ours) through the same channel layer
settings as the product. Served by its own Daphne process: `daphne bench.bare_asgi:application`.
"""

from __future__ import annotations

import os
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()  # channels reads CHANNEL_LAYERS from the settings

from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from recordings.notices import TEXTS  # noqa: E402

GROUP = "bench.bare"


class BareRoomConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()
        await self.send_json({"type": "state", "recording": None})  # what the load client waits for

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "go":
            await self.channel_layer.group_send(
                GROUP, {"type": "room.event", "payload": TEXTS.notice("recording_starting").payload()}
            )

    async def room_event(self, event: dict[str, Any]) -> None:
        await self.send_json(event["payload"])


# Same path as the product's room socket, so one load client speaks to both.
application = ProtocolTypeRouter(
    {"websocket": URLRouter([path("ws/rooms/<int:room_id>/", BareRoomConsumer.as_asgi())])}
)
