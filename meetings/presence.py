"""Batched presence refresh: one UPDATE per Daphne process every second, not one per heartbeat.

With 1,000 sockets a write per heartbeat saturated the one thread that runs every consumer's
database work (bench/fanout_bench.py), and notices queued behind it. Heartbeats now only mark
the socket as seen; a flusher writes the marks in bulk and asks sockets whose presence had
already expired (a tab that slept) to register again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from channels.db import database_sync_to_async

from meetings import services

logger = logging.getLogger(__name__)
FLUSH_SECONDS = 1.0


class Rejoiner(Protocol):
    async def rejoin(self) -> None: ...


class PresenceBatcher:
    def __init__(self) -> None:
        self._seen: dict[str, Rejoiner] = {}
        self._task: asyncio.Task | None = None

    def touch(self, channel_name: str, consumer: Rejoiner) -> None:
        self._seen[channel_name] = consumer
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush_forever())

    def forget(self, channel_name: str) -> None:
        self._seen.pop(channel_name, None)

    async def flush(self) -> None:
        if not self._seen:
            return
        batch, self._seen = self._seen, {}
        missing = await database_sync_to_async(services.touch_presences, thread_sensitive=False)(
            channel_names=list(batch)
        )
        for name in missing:
            await batch[name].rejoin()

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await self.flush()
            except Exception:  # a failed flush is retried by the next heartbeats; the loop must live
                logger.exception("presence flush failed")


batcher = PresenceBatcher()
