"""Joins in batches: every socket that connects while the database thread is busy joins in its next trip.

A join is a few small reads and a write (who is this, may they come in, the open session, their
presence, the running recording). One socket at a time, each trip to Daphne's one database thread
cost about 15 ms of Python, mostly the ORM building the same queries again, and a 1,000-person
room took 12-20 s to fill (bench/fanout_bench.py). Here the sockets that arrive while a trip is
under way wait for the next one, which does the work of all of them in a fixed number of queries
per room: the first socket of a quiet room still joins at once, and a storm pays per batch.

The person is resolved here too, from the session in the socket's scope (`LazyAuthMiddleware`):
the same code as Channels' AuthMiddleware, in the same trip, instead of a trip of its own.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from channels.auth import AuthMiddleware, get_user
from channels.db import database_sync_to_async
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.functional import LazyObject, SimpleLazyObject, empty

from meetings import permissions, services
from meetings.models import LiveSession, Room, SessionRole, User
from meetings.permissions import RoomAction

logger = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")
# channels.auth.get_user is wrapped for the event loop; its body is what runs in our database trip.
_get_user_sync = get_user.func
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# A trip's cost is mostly its dozen queries, whatever its size: a trip of 100 costs little more than
# one of 25 (bench/fanout_bench.py: 1,000 joins in 40 trips took 0.3 s more than in 20).
MAX_BATCH = 100
# Joins wait this long for company before a trip: sockets of a storm arrive a few milliseconds apart,
# and without it every burst paid a trip for its first socket alone, then one for the rest.
JOIN_LINGER_SECONDS = 0.01


class LazyAuthMiddleware(AuthMiddleware):
    """Channels' AuthMiddleware, but the person is read when first asked for, on the database thread.

    `scope["user"]` is a lazy object: the room's join batch resolves it in its own database trip,
    so a join costs one trip instead of two. Read from the event loop before that, it raises
    Django's SynchronousOnlyOperation: a clear error, never a silent query on the loop.
    """

    def populate_scope(self, scope: dict[str, Any]) -> None:
        if "session" not in scope:
            raise ValueError("LazyAuthMiddleware needs SessionMiddleware above it.")
        if "user" not in scope:
            scope["user"] = SimpleLazyObject(lambda: _get_user_sync(scope))

    async def resolve_scope(self, scope: dict[str, Any]) -> None:
        return None


def LazyAuthMiddlewareStack(inner: Any) -> Any:  # noqa: N802 (named like Channels' AuthMiddlewareStack)
    return CookieMiddleware(SessionMiddleware(LazyAuthMiddleware(inner)))


# What a room's consumer tells each socket of a batch, given the room, the session and who joined
# (user, role each): the State's parts, one dict per socket, in order (rooms/consumers.py).
Welcome = Callable[[Room, LiveSession, list[tuple[User, SessionRole]]], list[dict[str, Any]]]


@dataclass
class Entered:
    """A socket let into its room: the person, the room, their role and what the State tells them."""

    user: User
    room: Room
    role: SessionRole
    joined: dict[str, Any]


@dataclass
class _Request:
    scope: dict[str, Any]
    room_id: int
    channel_name: str


def _person(scope: dict[str, Any]) -> User | None:
    """The signed-in, active person of the socket's session, or None (anonymous or unusable)."""
    user = scope.get("user")
    if user is None:
        return None
    if isinstance(user, LazyObject):  # LazyAuthMiddleware's: reading it resolves it, here on this thread
        user.is_authenticated  # noqa: B018 (read for its effect)
        user = user._wrapped
    if isinstance(user, AnonymousUser) or not user.is_authenticated or not user.is_active:
        return None
    return user


def _resolve_people(scopes: list[dict[str, Any]]) -> None:
    """Resolve the lazy `scope["user"]` of many sockets in two queries: their sessions, then their people.

    Channels' `get_user`, step for step, for the database session engine and the model backend:
    the session is loaded (unknown or expired: empty, as `SessionStore.load`), the person must be
    active (`user_can_authenticate`), and a session whose password hash no longer matches is flushed.
    Anything else (another engine or backend) is left to the per-socket path (`_person`).
    """
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return
    stores: list[tuple[dict[str, Any], DbSessionStore]] = []
    for scope in scopes:
        user, session = scope.get("user"), scope.get("session")
        store = getattr(session, "_wrapped", None)
        if isinstance(user, LazyObject) and user._wrapped is empty and type(store) is DbSessionStore:
            stores.append((scope, store))
    keys = {store.session_key for _, store in stores if store.session_key}
    data = dict(
        Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now()).values_list(
            "session_key", "session_data"
        )
    )
    wanted: list[tuple[dict[str, Any], DbSessionStore, Any]] = []
    for scope, store in stores:
        raw = data.get(store.session_key) if store.session_key else None
        # What SessionStore.load would have read: the store answers from it without a query of its own.
        store._session_cache = store.decode(raw) if raw is not None else {}  # type: ignore[attr-defined]
        if raw is None:
            store._session_key = None  # as SessionStore.load does for a missing session
        try:
            user_id = get_user_model()._meta.pk.to_python(store[SESSION_KEY])
            backend_path = store[BACKEND_SESSION_KEY]
        except (KeyError, ValidationError):
            scope["user"]._wrapped = AnonymousUser()
            continue
        if backend_path != MODEL_BACKEND or backend_path not in settings.AUTHENTICATION_BACKENDS:
            continue  # resolved one by one by Channels' own get_user
        wanted.append((scope, store, user_id))
    people = get_user_model()._default_manager.in_bulk({user_id for _, _, user_id in wanted})
    backend = ModelBackend()
    for scope, store, user_id in wanted:
        user = people.get(user_id)
        if user is not None and not backend.user_can_authenticate(user):
            user = None
        if user is not None:
            session_hash = store.get(HASH_SESSION_KEY)
            if not (session_hash and constant_time_compare(session_hash, user.get_session_auth_hash())):
                store.flush()
                user = None
        scope["user"]._wrapped = user or AnonymousUser()


def _enter_room(room_id: int, requests: list[_Request], welcome: Welcome) -> list[Entered | None]:
    """Authorise and join every socket of one room that asked in this batch (None: refused)."""
    _resolve_people([request.scope for request in requests])
    people = [_person(request.scope) for request in requests]
    room = Room.objects.select_related("channel").filter(pk=room_id).first()
    if room is None:
        return [None] * len(requests)
    roles = permissions.session_roles([user for user in people if user is not None], room)
    admitted: list[tuple[int, User, SessionRole]] = []
    for i, user in enumerate(people):
        role = roles.get(user.pk) if user is not None else None
        if user is not None and role is not None and permissions.role_can(role, RoomAction.JOIN, room):
            admitted.append((i, user, role))
    results: list[Entered | None] = [None] * len(requests)
    if not admitted:
        return results
    session = services.join_session_many(
        room=room, joins=[(user, role, requests[i].channel_name) for i, user, role in admitted]
    )
    told = welcome(room, session, [(user, role) for _, user, role in admitted])
    for (i, user, role), joined in zip(admitted, told, strict=True):
        # Each socket its own copy of the room: a consumer re-reads and replaces it, never shares a change.
        results[i] = Entered(user=user, room=copy.copy(room), role=role, joined=joined)
    return results


def _enter_all(requests: list[_Request], welcome: Welcome) -> list[Entered | None | BaseException]:
    """One database trip for the whole batch, room by room; a room that fails fails only its own sockets."""
    by_room: dict[int, list[int]] = {}
    for i, request in enumerate(requests):
        by_room.setdefault(request.room_id, []).append(i)
    outcome: list[Entered | None | BaseException] = [None] * len(requests)
    for room_id, indexes in by_room.items():
        try:
            entered = _enter_room(room_id, [requests[i] for i in indexes], welcome)
        except Exception as exc:  # the database failed us: these sockets are asked to retry
            logger.exception("room %s: %d joins failed", room_id, len(indexes))
            for i in indexes:
                outcome[i] = exc
            continue
        for i, one in zip(indexes, entered):
            outcome[i] = one
    return outcome


class TripBatcher(Generic[T, R]):
    """Collects work while a database trip is under way; the next trip does all of it.

    `work` runs on the database thread over the whole batch and answers each item in order (an
    exception for an item fails only that item's waiter). With `linger`, each trip that is not full
    first waits that long for more: work that arrives spread out otherwise made a trip of one or two
    items each (a join storm's clock replies: 280 trips for 1,000 sockets; its joins, a trip for the
    first socket of every burst).
    """

    def __init__(self, work: Callable[[list[T]], list[R | BaseException]], *, linger: float = 0.0) -> None:
        self._work = work
        self._linger = linger
        self._waiting: list[tuple[T, asyncio.Future[R] | None]] = []
        self._task: asyncio.Task[None] | None = None  # held: the loop keeps only a weak reference

    async def submit(self, item: T) -> R:
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._enqueue(item, done)
        return await done

    def post(self, item: T) -> None:
        """Queue work without waiting for it; a failure is logged."""
        self._enqueue(item, None)

    def _enqueue(self, item: T, done: asyncio.Future[R] | None) -> None:
        self._waiting.append((item, done))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self._waiting:
            if self._linger and len(self._waiting) < MAX_BATCH:  # before every trip that is not full yet:
                await asyncio.sleep(self._linger)  # what arrives during a trip waits for more, too
            # At most MAX_BATCH a trip: a socket still has to be accepted within Daphne's handshake
            # time-out (5 s), however many arrived, so a trip stays short on a loaded machine too.
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            # A socket whose handshake timed out meanwhile is gone: no presence, no work for it.
            batch = [(item, done) for item, done in batch if done is None or not done.done()]
            if not batch:
                continue
            try:
                outcome = await database_sync_to_async(self._work)([item for item, _ in batch])
            except Exception as exc:  # noqa: BLE001 (handed to each waiter)
                outcome = [exc] * len(batch)
            for (_, done), result in zip(batch, outcome, strict=True):
                if done is None:
                    if isinstance(result, BaseException):
                        logger.warning("a batched database write failed: %r", result)
                elif done.done():  # its socket went away while it waited
                    continue
                elif isinstance(result, BaseException):
                    done.set_exception(result)
                else:
                    done.set_result(result)


class JoinBatcher:
    """Lets sockets into their rooms, all those that connect during one database trip in the next."""

    def __init__(self, welcome: Welcome) -> None:
        self._trips: TripBatcher[_Request, Entered | None] = TripBatcher(
            lambda batch: _enter_all(batch, welcome), linger=JOIN_LINGER_SECONDS
        )

    async def enter(self, scope: dict[str, Any], room_id: int, channel_name: str) -> Entered | None:
        """Let the socket in, or None if the room policy refuses it; raises if the database failed."""
        return await self._trips.submit(_Request(scope=scope, room_id=room_id, channel_name=channel_name))


def _record_clocks(probes: list[services.ClockProbe]) -> list[None | BaseException]:
    services.record_clock_probes(probes)
    return [None] * len(probes)


# Every socket answers its first clock probe right after joining: a storm's replies share trips too,
# gathered for a moment first (nobody waits on them; a recording reads the offset much later).
CLOCK_LINGER_SECONDS = 0.25
clock_replies: TripBatcher[services.ClockProbe, None] = TripBatcher(_record_clocks, linger=CLOCK_LINGER_SECONDS)
