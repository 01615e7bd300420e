"""A socket that has gone never registers its presence again (a presence flush racing its close)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from meetings.models import Presence, SessionRole
from rooms.consumers import RoomConsumer

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def consumer_of(demo, channel_name: str) -> RoomConsumer:
    consumer = RoomConsumer()
    consumer.room, consumer.user, consumer.role = demo.rooms["single"], demo.users["host"], SessionRole.HOST
    consumer.channel_name = channel_name
    return consumer


async def test_a_gone_socket_does_not_rejoin(demo) -> None:
    live = consumer_of(demo, "specific.live")
    await live.rejoin()  # a socket whose presence expired while its tab slept comes back
    assert await sync_to_async(Presence.objects.filter(channel_name="specific.live").exists)()

    gone = consumer_of(demo, "specific.gone")
    gone.gone = True  # its disconnect ran while a flush held it
    await gone.rejoin()
    assert not await sync_to_async(Presence.objects.filter(channel_name="specific.gone").exists)()
