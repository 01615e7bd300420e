"""Benchmark: time from Stop to the verified final MP4, through the product's own pipeline.

    .venv/bin/python bench/ready_bench.py --minutes 2 --minutes 20

For each length it builds a recording of the compose benchmark's meeting (four participants:
three 1280x720 webcams, one 1920x1080 screen share, VP8/Opus WebM in 10 s segments; inputs
cached under var/bench/inputs by bench/compose_bench.py's generator) in a throwaway database,
then plays the meeting the way the running product does:

1. while the meeting runs, the deadline sweep queues every window that has settled
   (`pipeline.schedule_due_windows`, called at each 5 s sweep tick of the meeting's clock);
   the windows are composed as they come, and the table reports how fast that went against
   the meeting's own length (it must stay ahead of real time to keep up);
2. at Stop, `services.begin_processing` hands over to `pipeline.finalize`: compose the tail
   windows (picture and sound), remux, verify, publish. That wall time is "Stop to verified MP4".

The meeting's clock is simulated (it does not wait 20 real minutes): step 1 composes exactly
the windows the sweep would have queued by Stop, so the state at Stop, and therefore the time
measured in step 2, is the same as after a real-time meeting in which composition kept up.
Tasks run in this process (Celery eager mode), as a single worker would run them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "var" / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def setup_django(run_dir: Path) -> None:
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        VAR_DIR=str(run_dir),
        DATABASE_URL=f"sqlite:///{run_dir / 'db.sqlite3'}",
        SPOOL_DIR=str(BENCH),
        WORK_DIR=str(run_dir / "work"),
        MEDIA_ROOT=str(run_dir / "media"),
        CELERY_TASK_ALWAYS_EAGER="1",
        LOG_LEVEL="WARNING",
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def build_recording(minutes: float):
    from compose_bench import PARTICIPANTS, generate_inputs
    from django.utils import timezone

    from meetings import services as meeting_services
    from recordings import services
    from recordings.models import Recording, Segment, Track

    demo = meeting_services.seed_demo(password="bench-only")
    room = demo.rooms["single"]
    meeting_services.open_or_create_session(room=room)
    recording, _ = services.start_recording(room=room, user=demo.users["host"])
    duration = minutes * 60
    began = timezone.now() - timedelta(seconds=duration + 120)
    Recording.objects.filter(pk=recording.pk).update(created_at=began, started_at=began, state="recording")
    users = [demo.users[name] for name in ("host", "participant", "coeditor", "moderator")]
    for (track_id, kind, *_rest), track_input, user in zip(PARTICIPANTS, generate_inputs(minutes), users):
        track = Track.objects.create(recording=recording, user=user, kind=kind, client_id=track_id)
        Segment.objects.bulk_create(
            Segment(
                track=track,
                seq=seq,
                path=str(Path(ref.path).relative_to(BENCH)),
                size=Path(ref.path).stat().st_size,
                start=ref.start,
                duration=10.0,
                sha256=f"{seq:064d}",
            )
            for seq, ref in enumerate(track_input.segments)
        )
    recording.refresh_from_db()
    return recording, duration


def run(minutes: float) -> dict[str, float]:
    from django.conf import settings

    from recordings import pipeline, services
    from recordings.models import Recording

    recording, duration = build_recording(minutes)
    tick = settings.SWEEP_INTERVAL_SECONDS
    t0 = time.monotonic()
    clock = 0.0
    while clock < duration:  # the meeting: each sweep tick queues (here: composes) settled windows
        clock = min(clock + tick, duration)
        pipeline.schedule_due_windows(now=recording.started_at + timedelta(seconds=clock))
    progressive = time.monotonic() - t0
    before_stop = recording.fragments.filter(state="done").count()

    stop = time.monotonic()
    Recording.objects.filter(pk=recording.pk).update(
        state="stopping", stop_reason="stopped_by_host", stopped_at=recording.started_at + timedelta(seconds=duration)
    )
    services.begin_processing(recording_id=recording.pk)  # finalize (and publish) run here, eagerly
    recording.refresh_from_db()
    assert recording.processed_at is not None, recording.error
    ready = time.monotonic() - stop
    windows = recording.fragments.count()
    return {
        "minutes": minutes,
        "windows": windows,
        "before_stop": before_stop,
        "tail": windows - before_stop,
        "progressive_s": progressive,
        "realtime_x": duration / progressive if progressive else float("inf"),
        "ready_s": ready,
        "state": recording.state,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, action="append", help="meeting length (repeatable)")
    parser.add_argument("--one", type=float, help=argparse.SUPPRESS)  # child: run one length, print JSON
    args = parser.parse_args()
    if args.one is not None:
        setup_django(BENCH / f"ready-{args.one:g}min")
        print("RESULT " + json.dumps(run(args.one)), flush=True)
        return
    rows = []
    for minutes in args.minutes or [2.0]:
        # Each length in its own process: a fresh database, and its own peak RSS.
        out = subprocess.run([sys.executable, __file__, "--one", str(minutes)], capture_output=True, text=True)
        line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
        if line is None:
            sys.exit(f"the {minutes:g}-minute run failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
        rows.append(json.loads(line[7:]))
        print(f"  {minutes:g} min done", flush=True)
    print()
    print(
        "| meeting | windows | composed before Stop | tail at Stop | composing during meeting "
        "| Stop to verified MP4 | peak RSS | state |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['minutes']:g} min | {r['windows']} | {r['before_stop']} | {r['tail']} | "
            f"{r['progressive_s']:.0f} s ({r['realtime_x']:.2f}x real time) | **{r['ready_s']:.1f} s** | "
            f"{r['peak_rss_mb']:.0f} MB | {r['state']} |"
        )


if __name__ == "__main__":
    main()
