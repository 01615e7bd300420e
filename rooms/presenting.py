"""The room socket's presentation commands (issue 11), mixed into rooms.consumers.RoomConsumer.

Thin like the rest of the socket: the room policy has authorised the command already (RoomAction.PRESENT,
asked afresh per command by RoomConsumer.receive_json); here each is rate-limited, its fields validated,
and then media_library (what the entry is, may this person present it, its PDF pages) and meetings (the
live Presentation and its events, sent to everyone in the room) do the work.

    {"type": "present_start", "entry": <entry id>}
    {"type": "present_page", "page": <1-based page>}
    {"type": "present_video", "playing": <bool>, "position": <seconds>}
    {"type": "present_stop"}
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from channels.db import database_sync_to_async

from core.events import Ack, Error, Event, Payload
from media_library import presenting
from meetings import selectors, services
from meetings.models import LiveSession, Room, User
from meetings.services import PresentationError
from meetings.signalling import RateLimiter

# A presenter clicking through slides or scrubbing a video: 20 at once, then 5 a second.
PRESENT_RATE_PER_SECOND = 5.0
PRESENT_BURST = 20.0
MAX_ID = 2**63 - 1
MAX_PAGE = 100_000


def _int_field(value: object, top: int) -> int | None:
    """A JSON integer in 1..top (bool is an int to Python, not to JSON), else None."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
        return None
    return value


def _finite(value: object) -> bool:
    """A JSON number that is finite and a sane epoch or position (bool is an int to Python, not to JSON)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and abs(value) < 1e11


def _open_session(room: Room) -> LiveSession:
    session = selectors.open_session(room=room)
    if session is None:
        raise PresentationError("The session has ended.")
    return session


def _start(room: Room, user: User, item: services.PresentedItem) -> int:
    return services.start_presentation(session=_open_session(room), presenter=user, item=item).pk


class PresentingCommands:
    room: Room
    user: User

    async def _send(self, event: Event) -> None:  # RoomConsumer's
        raise NotImplementedError

    async def _error(self, message: str, ref: Any = None) -> None:  # RoomConsumer's
        await self._send(Error(error=message, id=ref))

    async def _allow(self, ref: Any) -> bool:
        """One token of this socket's presentation budget, or the error."""
        limiter: RateLimiter | None = getattr(self, "present_limiter", None)
        if limiter is None:
            limiter = self.present_limiter = RateLimiter(rate=PRESENT_RATE_PER_SECOND, burst=PRESENT_BURST)
        if limiter.allow():
            return True
        await self._error("Too many presentation commands: slow down.", ref=ref)
        return False

    async def _present(self, command: str, ref: Any, work: Any) -> None:
        """Run `work` (a sync service call) on the database thread; its PresentationError is the answer."""
        try:
            result = await database_sync_to_async(work)()
        except PresentationError as exc:
            await self._error(str(exc), ref=ref)
            return
        await self._send(Ack(id=ref, command=command, result=result or {}))

    async def cmd_present_start(self, content: Payload, ref: Any) -> None:
        entry_id = _int_field(content.get("entry"), MAX_ID)
        if entry_id is None:
            await self._error("Name the item to present by its entry id.", ref=ref)
            return
        if not await self._allow(ref):
            return
        try:
            # Off the shared database thread: a PDF's first presentation renders its pages (seconds).
            item = await database_sync_to_async(presenting.presentable, thread_sensitive=False)(
                user=self.user, room=self.room, entry_id=entry_id
            )
        except PresentationError as exc:
            await self._error(str(exc), ref=ref)
            return

        def start() -> Payload:
            return {"presentation": _start(self.room, self.user, item)}

        await self._present("present_start", ref, start)

    async def cmd_present_page(self, content: Payload, ref: Any) -> None:
        page = _int_field(content.get("page"), MAX_PAGE)
        if page is None:
            await self._error("A page is a whole number from 1.", ref=ref)
            return
        if not await self._allow(ref):
            return

        def turn() -> Payload:
            event = services.turn_page(session=_open_session(self.room), user=self.user, page=page)
            return {"page": event.page}

        await self._present("present_page", ref, turn)

    async def cmd_present_video(self, content: Payload, ref: Any) -> None:
        playing, position, stamp = content.get("playing"), content.get("position"), content.get("at")
        if not isinstance(playing, bool) or not _finite(position) or not (stamp is None or _finite(stamp)):
            await self._error("A video command needs playing (true or false) and position (seconds).", ref=ref)
            return
        assert isinstance(position, int | float)
        # "at": when the presenter's page read the position, on its estimate of the server clock (epoch s).
        at = datetime.fromtimestamp(float(stamp), tz=UTC) if isinstance(stamp, int | float) else None
        if not await self._allow(ref):
            return

        def control() -> Payload:
            event = services.control_video(
                session=_open_session(self.room), user=self.user, playing=playing, position=float(position), at=at
            )
            return {"position": event.position, "playing": event.playing}

        await self._present("present_video", ref, control)

    async def cmd_present_stop(self, content: Payload, ref: Any) -> None:
        if not await self._allow(ref):
            return

        def stop() -> Payload:
            return {"stopped": services.stop_presentation(session=_open_session(self.room))}

        await self._present("present_stop", ref, stop)
