"""Benchmark: segment ingest under a 100-person recorded meeting.

    .venv/bin/python bench/ingest_bench.py [--participants 100] [--minutes 2] [--profile]
        [--server-env NAME=VALUE] [--app MODULE:application]   # to measure a candidate fix

One Daphne process (config.asgi:application, DEBUG off) on a throwaway PostgreSQL database
(`liverec_bench`) and the machine's Redis, with its own spool under var/bench/. Every
participant uploads a real ~3.1 MB VP8+Opus WebM (10 s at 2.5 Mbit/s, generated once with
PyAV and cached) every `--segment-seconds`, on its own schedule with a random phase, one
request at a time and with room.js's retry policy. Ack latency is request start to response.

Afterwards the database and the spool are checked: one Segment row per sequence number sent,
none twice, every spool file present with the size that was sent. The spool is then removed
(--keep-spool keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from common import (
    VAR,
    Daphne,
    ensure_database,
    machine_note,
    own_cpu_seconds,
    raise_open_files,
    server_env,
    setup_django,
    stop_profile,
    table,
)

if TYPE_CHECKING:  # imported for real only after Django is set up on the bench database
    from loadtest.simulation import UploadStats

TARGET_P99_MS = 250.0


@dataclass
class Plan:
    room_id: int
    rec_uid: str
    keys: list[str]  # session key per participant
    body: bytes


@dataclass
class Outcome:
    sent: dict[str, list[int]] = field(default_factory=dict)  # client_id -> seqs whose PUT was settled as stored
    attempted: int = 0
    late_starts: list[float] = field(default_factory=list)  # seconds a PUT began after its due time


async def participant(
    index: int,
    url: str,
    plan: Plan,
    *,
    segment_seconds: float,
    count: int,
    t0: float,
    phase: float,
    outcome: Outcome,
    stats: UploadStats,
) -> None:
    from loadtest.simulation import SegmentUpload, http_client, put_segment

    client_id = f"camera-bench{index:04d}"
    loop = asyncio.get_running_loop()
    epoch_offset = time.time() - loop.time()
    stored: list[int] = []
    outcome.sent[client_id] = stored
    async with http_client(url, plan.keys[index]) as client:
        for seq in range(count):
            began = t0 + phase + seq * segment_seconds
            due = began + segment_seconds  # MediaRecorder hands the piece over when it ends
            await asyncio.sleep(max(0.0, due - loop.time()))
            outcome.late_starts.append(max(0.0, loop.time() - due))
            outcome.attempted += 1
            item = SegmentUpload(
                room_id=plan.room_id,
                rec_uid=plan.rec_uid,
                client_id=client_id,
                kind="camera",
                seq=seq,
                body=plan.body,
                start_ms=(began + epoch_offset) * 1000,
                duration_ms=segment_seconds * 1000,
            )
            if await put_segment(client, item, stats):
                stored.append(seq)


async def drive(
    url: str, plan: Plan, *, participants: int, segment_seconds: float, count: int, seed: int
) -> tuple[Outcome, UploadStats]:
    from loadtest.simulation import UploadStats

    rng = random.Random(seed)
    stats = UploadStats()
    outcome = Outcome()
    t0 = asyncio.get_running_loop().time() + 1.0
    await asyncio.gather(
        *(
            participant(
                i,
                url,
                plan,
                segment_seconds=segment_seconds,
                count=count,
                t0=t0,
                phase=rng.uniform(0, segment_seconds),
                outcome=outcome,
                stats=stats,
            )
            for i in range(participants)
        )
    )
    return outcome, stats


def prepare(participants: int, segment_seconds: float, bitrate: int) -> Plan:
    """A fresh room with a running recording, `participants` invited and signed in, and the segment bytes."""
    from django.db import connections

    from loadtest import simulation
    from meetings import services as meeting_services
    from meetings.models import Room, User
    from recordings import services as recording_services

    spec = simulation.MediaSpec(
        kind="camera",
        width=1280,
        height=720,
        seconds=segment_seconds,
        rgb=(40, 120, 200),
        tone_hz=440.0,
        noise=8,
        bitrate=bitrate,
    )
    connections.close_all()
    body = simulation.prepare_media([spec], cache_dir=VAR / "media")[spec]
    owner, _ = User.objects.get_or_create(username="bench-owner", defaults={"display_name": "Bench owner"})
    room = Room.objects.create(title=f"Ingest bench {datetime.now():%Y-%m-%d %H:%M:%S}", owner=owner, creator=owner)
    people = simulation.ensure_people(room=room, count=participants, host=True, prefix="bench")
    keys = simulation.login_sessions(people.participants)
    meeting_services.open_or_create_session(room=room)
    recording, _ = recording_services.start_recording(room=room, user=people.host)
    return Plan(room_id=room.pk, rec_uid=str(recording.uid), keys=[keys[u.pk] for u in people.participants], body=body)


def verify(plan: Plan, outcome: Outcome, spool: Path) -> dict[str, int]:
    """What the server really holds, against what it acknowledged."""
    from recordings.models import Segment

    rows = list(
        Segment.objects.filter(track__recording__uid=plan.rec_uid).values_list(
            "track__client_id", "seq", "size", "path"
        )
    )
    held: dict[tuple[str, int], list[tuple[int, str]]] = {}
    for client_id, seq, size, path in rows:
        held.setdefault((client_id, seq), []).append((size, path))
    acked = {(cid, seq) for cid, seqs in outcome.sent.items() for seq in seqs}
    missing_files = wrong_size = 0
    for entries in held.values():
        for size, path in entries:
            file = spool / path
            if not file.exists():
                missing_files += 1
            elif file.stat().st_size != size or size != len(plan.body):
                wrong_size += 1
    return {
        "rows": len(rows),
        "lost (acked, no row)": len(acked - held.keys()),
        "duplicated (rows for one seq > 1)": sum(len(v) - 1 for v in held.values()),
        "unexpected rows": len(held.keys() - acked),
        "spool files missing": missing_files,
        "spool files of wrong size": wrong_size,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--segment-seconds", type=float, default=10.0)
    parser.add_argument("--bitrate", type=int, default=2_500_000, help="bits/s of the generated segment")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default="liverec_bench")
    parser.add_argument("--profile", action="store_true", help="py-spy the server while it ingests (var/bench/)")
    parser.add_argument(
        "--app",
        default="config.asgi:application",
        help="the ASGI application (another module path measures a candidate fix)",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the server, to try a setting (e.g. DB_CONN_MAX_AGE=60)",
    )
    parser.add_argument("--keep-spool", action="store_true")
    args = parser.parse_args()
    extra_env = dict(item.split("=", 1) for item in args.server_env)

    raise_open_files()
    note = machine_note()
    db_url = ensure_database(args.database)
    setup_django(db_url)
    plan = prepare(args.participants, args.segment_seconds, args.bitrate)
    count = max(1, round(args.minutes * 60 / args.segment_seconds))
    spool = VAR / "spool-ingest"
    shutil.rmtree(spool, ignore_errors=True)
    rate = args.participants * len(plan.body) / args.segment_seconds / 1e6
    print(
        f"{note}; {args.participants} participants x {count} segments of {len(plan.body) / 1e6:.2f} MB "
        f"every {args.segment_seconds:g} s ({rate:.1f} MB/s); {args.app}, extra environment: {extra_env or 'none'}",
        flush=True,
    )

    server = Daphne(args.app, server_env(db_url, SPOOL_DIR=str(spool), **extra_env), VAR / "ingest-daphne.log")
    profiler = server.profile(VAR / "ingest-profile.txt") if args.profile else None
    cpu0, client0, wall0 = server.cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    try:
        outcome, stats = asyncio.run(
            drive(
                server.url,
                plan,
                participants=args.participants,
                segment_seconds=args.segment_seconds,
                count=count,
                seed=args.seed,
            )
        )
    finally:
        if profiler is not None:
            stop_profile(profiler)
        cpu, wall = server.cpu_seconds() - cpu0, time.perf_counter() - wall0
        client_cpu = own_cpu_seconds() - client0
        server.stop()
    checks = verify(plan, outcome, spool)
    if not args.keep_spool:
        shutil.rmtree(spool, ignore_errors=True)

    from loadtest.simulation import percentile

    ms = [1000 * v for v in stats.latencies]
    late = sorted(outcome.late_starts)
    print()
    print(
        table(
            [
                "participants",
                "segments due",
                "acked (201)",
                "duplicates (200)",
                "dropped",
                "retries",
                "p50 ms",
                "p99 ms",
                "max ms",
                "CPU s: server / client / wall",
            ],
            [
                [
                    args.participants,
                    outcome.attempted,
                    stats.acked,
                    stats.duplicates,
                    stats.dropped,
                    stats.retries,
                    f"{percentile(ms, 50):.0f}",
                    f"{percentile(ms, 99):.0f}",
                    f"{max(ms, default=float('nan')):.0f}",
                    f"{cpu:.0f} / {client_cpu:.0f} / {wall:.0f}",
                ]
            ],
        )
    )
    print(
        f"\nupload start lag behind schedule (a participant's previous upload still running): "
        f"p99 {1000 * percentile(late, 99):.0f} ms, max {1000 * max(late, default=0):.0f} ms"
    )
    print("verified against the database and spool: " + ", ".join(f"{k} {v}" for k, v in checks.items()))
    if stats.errors:
        print(f"errors: {stats.errors}")
    bad = (
        checks["lost (acked, no row)"]
        or checks["duplicated (rows for one seq > 1)"]
        or checks["spool files missing"]
        or checks["spool files of wrong size"]
        or stats.acked != outcome.attempted
        or stats.duplicates
    )
    ok = not bad and percentile(ms, 99) < TARGET_P99_MS
    print("PASS" if ok else "MISS")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
