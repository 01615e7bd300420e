"""Benchmark: how fast 1,000 people get into one room, and how fast the room hears "Recording will start momentarily".

    .venv/bin/python bench/fanout_bench.py [--clients 1000] [--rounds 3] [--profile]
        [--server-env NAME=VALUE] [--app MODULE:application]   # to measure a candidate fix

Two rows, same machine, same Redis, same load client, one Daphne process each, run one
after the other:

- anchor: bench/bare_asgi.py, a trivial consumer that group_sends one notice on "go";
- ours: config.asgi:application on a throwaway PostgreSQL database (`liverec_bench`) whose
  room has `--clients` invited people, each signed in with its own session. The clients behave
  like room.js (clock replies, heartbeats every HEARTBEAT_SECONDS), so the server carries a real
  room's background load while the host sends `start_recording`.

For every client, latency = arrival of the notice minus the moment the host's command left
(both `time.perf_counter` in this process). The connection phase is timed but not judged.
Between rounds the host stops the recording and the bench does what the sweep does after the
stop grace (`begin_processing`, which fails a recording without media), so the next Start
creates a new recording.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from common import (
    VAR,
    Daphne,
    ensure_database,
    machine_note,
    raise_open_files,
    server_env,
    setup_django,
    stop_profile,
    table,
)

STARTING = "Recording will start momentarily, please wait"
if TYPE_CHECKING:  # imported for real only after Django is set up on the bench database
    from loadtest.simulation import SimParticipant

TARGET_P99_MS = 250.0
TARGET_RATIO = 1.5
# The join storm (issue 14): every client into the room, the connection phase of the same run.
TARGET_JOIN_SECONDS = 3.0
TARGET_JOIN_RATIO = 2.0
# The live mesh's signalling during each round (issue 11): this many of its members join at once, a
# busy moment (the top of the hour); each offer is answered, so about 2 x 5 x 24 x 7 messages.
SIGNALLING_JOINERS = 5


@dataclass
class RoomResult:
    name: str
    clients: int
    joined: int = 0
    connect_seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    expected: int = 0  # notices that should have arrived (clients x rounds)
    server_cpu_connect: float = 0.0
    server_cpu_rounds: float = 0.0
    mesh_members: int = 0  # sockets admitted to the live mesh (MESH_MAX_PEERS)
    signals_sent: int = 0  # signalling messages the mesh's members sent during the rounds
    signals_received: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def received(self) -> int:
        return len(self.latencies_ms)


async def measure_room(
    result: RoomResult,
    url: str,
    room_id: int,
    session_keys: list[str],
    server: Daphne,
    *,
    rounds: int,
    batch: int,
    settle: float,
    profile_to: Path | None,
    start: Callable[[SimParticipant], Awaitable[float]],
    between: Callable[[SimParticipant], Awaitable[None]],
    signalling: bool = False,
) -> None:
    from loadtest.simulation import SimParticipant, connect_all

    sims = [
        SimParticipant(name=f"client-{i}", session_key=key, room_id=room_id, base_url=url)
        for i, key in enumerate(session_keys)
    ]
    join_profiler = server.profile(profile_to.with_name("join-" + profile_to.name)) if profile_to else None
    cpu0, t0 = server.cpu_seconds(), time.perf_counter()
    failures = await connect_all(sims, batch=batch)
    result.connect_seconds = time.perf_counter() - t0
    joined = [s for s in sims if s.joined]
    result.joined = len(joined)
    result.errors += sorted({repr(f) for f in failures})[:5]
    await asyncio.sleep(settle)  # clock replies and the first heartbeats of the join land first
    result.server_cpu_connect = server.cpu_seconds() - cpu0
    if join_profiler is not None:
        stop_profile(join_profiler)
    host = sims[0]
    cpu0 = server.cpu_seconds()
    profiler = server.profile(profile_to) if profile_to is not None else None
    try:
        if not host.joined:
            result.errors.append("the host could not join: no rounds")
            rounds = 0
            result.expected = len(sims)  # nobody heard anything
        for _ in range(rounds):
            seen = [sum(1 for text, _ in s.notices if text == STARTING) for s in joined]
            # Issue 11: the live mesh's signalling on top, as if SIGNALLING_JOINERS of its members joined
            # the moment the notice goes out: an offer and candidates to each peer, each answering so.
            mesh = [s for s in joined if s.peer_id is not None] if signalling else []
            result.mesh_members = len(mesh)
            bursts = [asyncio.ensure_future(s.signal_burst()) for s in mesh[-SIGNALLING_JOINERS:]]
            sent_at = await start(host)
            deadline = time.perf_counter() + 30.0
            while time.perf_counter() < deadline:
                if all(sum(1 for text, _ in s.notices if text == STARTING) > n for s, n in zip(joined, seen)):
                    break
                await asyncio.sleep(0.05)
            for s, n in zip(joined, seen):
                arrivals = [at for text, at in s.notices if text == STARTING][n:]
                if arrivals:
                    result.latencies_ms.append((arrivals[0] - sent_at) * 1000)
            result.expected += len(sims)
            await asyncio.gather(*bursts)
            await between(host)
        result.server_cpu_rounds = server.cpu_seconds() - cpu0
        await asyncio.sleep(1.0)  # the last relayed signals land
        result.signals_sent = sum(s.signals_sent for s in joined)
        result.signals_received = sum(s.signals_received for s in joined)
    finally:
        if profiler is not None:
            stop_profile(profiler)
        await asyncio.gather(*(s.close(drain_timeout=0) for s in sims))
    for s in joined:
        result.errors += s.errors[:1]


def bench_people(clients: int) -> tuple[int, list[str]]:
    """A fresh room with `clients` people who may join it (the host among them), all signed in."""
    from loadtest import simulation
    from meetings.models import Room, User

    owner, _ = User.objects.get_or_create(username="bench-owner", defaults={"display_name": "Bench owner"})
    room = Room.objects.create(title=f"Fan-out bench {datetime.now():%Y-%m-%d %H:%M:%S}", owner=owner, creator=owner)
    people = simulation.ensure_people(room=room, count=clients - 1, host=True, prefix="bench")
    everyone = [people.host] + people.participants
    keys = simulation.login_sessions(everyone)
    return room.pk, [keys[u.pk] for u in everyone]


def summarise(result: RoomResult) -> list[object]:
    from loadtest.simulation import percentile

    ms = result.latencies_ms
    return [
        result.name,
        result.clients,
        result.joined,
        f"{result.connect_seconds:.1f}",
        f"{result.received}/{result.expected}",
        f"{percentile(ms, 50):.0f}",
        f"{percentile(ms, 99):.0f}",
        f"{max(ms, default=float('nan')):.0f}",
        f"{result.server_cpu_rounds:.2f}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="Start commands per app (latencies pooled)")
    parser.add_argument("--batch", type=int, default=50, help="clients connecting at once")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds between the last join and the first round")
    parser.add_argument("--database", default="liverec_bench")
    parser.add_argument("--profile", action="store_true", help="py-spy our server in the joins and rounds (var/bench/)")
    parser.add_argument(
        "--app",
        default="config.asgi:application",
        help="our ASGI application (another module path measures a candidate fix)",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for our server, to try a setting (e.g. DB_CONN_MAX_AGE=60)",
    )
    args = parser.parse_args()
    extra_env = dict(item.split("=", 1) for item in args.server_env)

    limit = raise_open_files()
    note = machine_note()
    db_url = ensure_database(args.database)
    setup_django(db_url)
    from asgiref.sync import sync_to_async

    from recordings import services as recording_services
    from recordings.models import Recording

    room_id, keys = bench_people(args.clients)
    print(
        f"{note}; open-files limit {limit}; room {room_id} with {len(keys)} signed-in people; "
        f"joining {args.batch} at a time; our server's extra environment: {extra_env or 'none'}"
    )

    async def go(host: SimParticipant) -> float:
        return await host.send_raw({"type": "go"})

    async def pause(host: SimParticipant) -> None:
        await asyncio.sleep(1.0)

    async def start_recording(host: SimParticipant) -> float:
        _, sent_at = await host.command("start_recording", timeout=60)
        return sent_at

    async def stop_and_close(host: SimParticipant) -> None:
        await host.command("stop_recording", timeout=60)
        await asyncio.sleep(1.0)
        rec = await sync_to_async(Recording.objects.filter(room_id=room_id, state="stopping").first)()
        if rec is not None:  # the sweep's step after the stop grace: no media, so it fails and leaves the room
            await sync_to_async(recording_services.begin_processing)(recording_id=rec.pk)
        await asyncio.sleep(1.0)

    results = []
    for name, app, start, between in (
        ("anchor: bare group_send", "bench.bare_asgi:application", go, pause),
        (f"ours: {args.app}", args.app, start_recording, stop_and_close),
    ):
        log = VAR / f"fanout-{'ours' if app == args.app else 'anchor'}.log"
        server = Daphne(app, server_env(db_url, **(extra_env if app == args.app else {})), log)
        print(f"{name}: Daphne pid {server.proc.pid} on {server.url}, connecting {len(keys)} clients...", flush=True)
        result = RoomResult(name=name, clients=len(keys))
        profile_to = VAR / "fanout-profile.txt" if args.profile and app == args.app else None
        try:
            asyncio.run(
                measure_room(
                    result,
                    server.url,
                    room_id,
                    keys,
                    server,
                    rounds=args.rounds,
                    batch=args.batch,
                    settle=args.settle,
                    profile_to=profile_to,
                    start=start,
                    between=between,
                    signalling=app == args.app,
                )
            )
        finally:
            server.stop()
        print(
            f"  joined {result.joined} in {result.connect_seconds:.1f} s "
            f"(server CPU {result.server_cpu_connect:.1f} s);"
            f" notices {result.received}/{result.expected}"
            + (
                f"; live mesh: {result.mesh_members} members, signalling {result.signals_sent} sent, "
                f"{result.signals_received} relayed"
                if result.mesh_members
                else ""
            ),
            flush=True,
        )
        for error in result.errors[:5]:
            print(f"  error: {error}")
        results.append(result)

    from loadtest.simulation import percentile

    print()
    print(
        table(
            [
                "app",
                "clients",
                "joined",
                "connect s",
                "notices received",
                "p50 ms",
                "p99 ms",
                "max ms",
                "server CPU s (rounds)",
            ],
            [summarise(r) for r in results],
        )
    )
    anchor_p99 = percentile(results[0].latencies_ms, 99)
    ours_p99 = percentile(results[1].latencies_ms, 99)
    ratio = ours_p99 / anchor_p99
    every = all(r.received == r.expected for r in results)
    join_ratio = results[1].connect_seconds / results[0].connect_seconds
    all_joined = all(r.joined == r.clients for r in results)
    joins_ok = results[1].connect_seconds <= TARGET_JOIN_SECONDS and join_ratio <= TARGET_JOIN_RATIO and all_joined
    ok = ours_p99 <= TARGET_P99_MS and ratio <= TARGET_RATIO and every and joins_ok
    print(
        f"\nours p99 / anchor p99 = {ratio:.2f} (target <= {TARGET_RATIO}); ours p99 {ours_p99:.0f} ms "
        f"(target <= {TARGET_P99_MS:.0f}); every client got every notice: {'yes' if every else 'NO'}"
    )
    print(
        f"join storm: ours {results[1].connect_seconds:.1f} s / anchor {results[0].connect_seconds:.1f} s = "
        f"{join_ratio:.2f} (target <= {TARGET_JOIN_SECONDS:.0f} s and <= {TARGET_JOIN_RATIO}x); "
        f"everyone joined: {'yes' if all_joined else 'NO'}"
    )
    print("PASS" if ok else "MISS")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
