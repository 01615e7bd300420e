"""Benchmark: a meeting recorded through two Daphne processes and two media workers that share no disk.

    .venv/bin/python bench/scaleout_bench.py              # the 2-minute meeting, both layouts
    .venv/bin/python bench/scaleout_bench.py --minutes 1  # shorter, for a quick look

The meeting is the compose and ready benchmarks' four-person meeting (three 1280x720 webcams with
sound, one 1920x1080 screen share; VP8/Opus WebM in 10 s segments, cached under var/bench/inputs),
played in real time by simulated participants (loadtest.simulation: real websockets, real segment
uploads, each track replaying its first segment), against PostgreSQL and a private Redis, with
moto's S3 server on loopback as the media storage. Two layouts, one after the other, in one run:

* anchor: one Daphne, one media worker, the local spool and fragment store (one machine, as before);
* scale-out: two Daphne processes (participants split across them), two media workers each with its
  own work directory, the spool and the fragment store in S3 (RECORDING_MEDIA_BUCKET).

Both run beat and the sweep worker, the product's default timings (10 s windows, veryfast x264).
Reported: Stop to available (server clock: the recording's stopped_at to available_at; target
at most 30 s), windows composed before Stop, how the windows spread over the workers, and whether
the spool and the fragment store were emptied after publishing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import PG_ADMIN_URL, machine_note, table  # noqa: E402

from loadtest.stack import LocalS3, Stack, free_port, wait_until  # noqa: E402

DB_NAME = "liverec_bench_scaleout"
OUT = ROOT / "var" / "bench" / "scaleout"
NAMESPACE = "bench-scaleout"
TARGET_READY_S = 30.0


def fresh_database() -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{DB_NAME}"


def base_env(db_url: str, redis_url: str, s3: LocalS3) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RECORDING_MEDIA"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        DEPLOYMENT_NAMESPACE=NAMESPACE,
        DEBUG="0",
        PYTHONUNBUFFERED="1",
        VAR_DIR=str(OUT / "var"),
        **s3.env(),  # the media storage is S3 in both layouts: only the spool and fragments differ
    )
    return env


def participants(room: Any, urls: list[str]) -> list[Any]:
    from compose_bench import PARTICIPANTS, generate_inputs

    from loadtest import simulation
    from loadtest.simulation import SimParticipant, TrackMedia

    inputs = generate_inputs(1 / 6)  # one 10 s segment per track, replayed for every sequence number
    people = simulation.ensure_people(room=room, count=len(PARTICIPANTS) - 1, host=True)
    everyone = [people.host, *people.participants]
    sessions = simulation.login_sessions(everyone)
    sims = []
    for i, (user, (track_id, kind, *_), track) in enumerate(zip(everyone, PARTICIPANTS, inputs, strict=True)):
        body = Path(track.segments[0].path).read_bytes()
        sims.append(
            SimParticipant(
                name=f"{user.username}-{track_id}",
                session_key=sessions[user.pk],
                room_id=room.pk,
                base_url=urls[i % len(urls)],
                tracks=[TrackMedia(kind=kind, segment=body)],
                segment_seconds=10.0,
            )
        )
    return sims


def run_layout(
    name: str, *, room: Any, env: dict[str, str], redis_port: int, s3: LocalS3, minutes: float, scale: bool
) -> dict[str, Any]:
    from django.db import connections

    from loadtest import simulation
    from recordings.models import Fragment, Recording

    tmp = OUT / name
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    layout_env = dict(env)
    if scale:
        layout_env["RECORDING_MEDIA_BUCKET"] = LocalS3.BUCKET
    stack = Stack(tmp=tmp, env=layout_env, redis_port=redis_port, http_port=free_port(), s3=s3)
    urls = [stack.url]
    try:
        stack.start_daphne("daphne")
        if scale:
            second = free_port()
            stack.start_daphne("daphne-2", second)
            urls.append(f"http://127.0.0.1:{second}")
        workers = ["worker-a", "worker-b"] if scale else ["worker-a"]
        for worker in workers:
            # Scale-out: each worker its own work directory ("its own machine"). The anchor's worker
            # shares the machine's, which the local fragment store needs: the sweep removes from it.
            own = {"WORK_DIR": str(tmp / worker / "work")} if scale else {}
            stack.start_worker(worker, env=own, concurrency=1)
        stack.start_sweeper()
        stack.start_beat()

        sims = participants(room, urls)
        connections.close_all()
        print(f"  {name}: recording a {minutes:g}-minute meeting...", flush=True)
        outcome = asyncio.run(
            simulation.run_meeting(participants=sims[1:], host=sims[0], duration=minutes * 60, record=True)
        )
        recording = Recording.objects.get(uid=outcome.recording_uid)

        def settled() -> bool:
            recording.refresh_from_db()
            return recording.state in (Recording.State.AVAILABLE, Recording.State.FAILED)

        wait_until(settled, timeout=600, what=f"{name}: the recording available", every=0.5)
        assert recording.state == Recording.State.AVAILABLE, recording.error
        assert recording.stopped_at and recording.available_at
        windows = list(Fragment.objects.filter(recording=recording))
        spread = Counter(f.composed_by.split("@")[0].rsplit("-", 1)[0] for f in windows)
        before_stop = sum(1 for f in windows if f.composed_at and f.composed_at <= recording.stopped_at)

        def emptied() -> bool:
            recording.refresh_from_db()
            return recording.media_removed_at is not None

        wait_until(emptied, timeout=60, what=f"{name}: media removed after publishing", every=0.5)
        uid = str(recording.uid)
        if scale:
            left = sum(
                stack.s3.client().list_objects_v2(Bucket=LocalS3.BUCKET, Prefix=f"{prefix}/{uid}/").get("KeyCount", 0)
                for prefix in ("spool", "fragments")
            )
        else:
            places = [OUT / "var" / "spool" / uid, OUT / "var" / "work" / uid]
            left = sum(1 for place in places if place.exists() for p in place.rglob("*") if p.is_file())
        stats = outcome.upload_stats()
        return {
            "layout": name,
            "daphnes": len(urls),
            "workers": len(workers),
            "windows": len(windows),
            "before_stop": before_stop,
            "spread": ", ".join(f"{k}: {v}" for k, v in sorted(spread.items())),
            "ready_s": (recording.available_at - recording.stopped_at).total_seconds(),
            "processed_s": (recording.processed_at - recording.stopped_at).total_seconds()
            if recording.processed_at
            else float("nan"),
            "uploads": f"{stats.acked} acked, {stats.dropped} dropped",
            "left": left,
        }
    finally:
        stack.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    args = parser.parse_args()
    started = time.monotonic()
    note = machine_note()
    OUT.mkdir(parents=True, exist_ok=True)
    db_url = fresh_database()
    s3 = LocalS3()
    s3.start()
    s3.create_bucket()
    redis_port = free_port()
    env = base_env(db_url, f"redis://127.0.0.1:{redis_port}/0", s3)
    rig = Stack(tmp=OUT, env=env, redis_port=redis_port, http_port=0, s3=s3)
    rig.start_redis()
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        os.environ.update(env)
        import django

        django.setup()
        from meetings import services as meeting_services

        room = meeting_services.seed_demo(password="bench-only").rooms["single"]
        rows = [
            run_layout(name, room=room, env=env, redis_port=redis_port, s3=s3, minutes=args.minutes, scale=scale)
            for name, scale in (("anchor", False), ("scale-out", True))
        ]
    finally:
        rig.stop_all()
        s3.stop()
    anchor = rows[0]["ready_s"]
    print()
    print(f"{args.minutes:g}-minute four-person meeting; {note}; run took {time.monotonic() - started:.0f} s")
    print(
        table(
            [
                "layout",
                "Daphnes",
                "media workers",
                "windows",
                "composed before Stop",
                "windows per worker",
                "Stop to MP4",
                "Stop to available",
                "vs anchor",
                "uploads",
                "objects left after publish",
            ],
            [
                [
                    r["layout"],
                    r["daphnes"],
                    r["workers"],
                    r["windows"],
                    r["before_stop"],
                    r["spread"],
                    f"{r['processed_s']:.1f} s",
                    f"**{r['ready_s']:.1f} s**",
                    f"x{r['ready_s'] / anchor:.2f}",
                    r["uploads"],
                    r["left"],
                ]
                for r in rows
            ],
        )  # fmt: skip
    )
    worst = max(r["ready_s"] for r in rows)
    print(f"target: Stop to available at most {TARGET_READY_S:.0f} s: {'met' if worst <= TARGET_READY_S else 'MISSED'}")


if __name__ == "__main__":
    main()
