"""Benchmark: a long meeting paused many times, against the same meeting never paused.

    .venv/bin/python bench/pause_bench.py                # 20 minutes, 10 pauses
    .venv/bin/python bench/pause_bench.py --minutes 5    # a quicker look

The meeting is one camera that flashes white and sounds a tone together every 7 s (loadtest.
synthetic.make_marker_segment, 320x180 VP8/Opus in 10 s segments, cached under var/bench/
inputs-pause). It is played through the product's own pipeline the way bench/ready_bench.py
plays its meeting (the sweep's windows composed as the simulated meeting runs, then Stop ->
finalize -> publish, Celery eager, a throwaway SQLite database), twice in one process each:

* anchor: never paused;
* paused: the same media with 10 pauses of 20 s spread over the meeting (decision 0022).

For each it reports Stop to the verified MP4 (target: at most 30 s), the output's duration
against the recorded time, and the A/V offset at the end: the flash frame against the tone onset
of the last markers of the file (decoded from the last 30 s). The ratio paused/anchor shows what
the cuts cost.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "var" / "bench"
INPUTS = BENCH / "inputs-pause"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

SEGMENT = 10.0
MARKER_EVERY = 7.0
FLASH = 0.2
PAUSES = 10
PAUSE_S = 20.0


def pauses_for(duration: float) -> list[tuple[float, float]]:
    """10 pauses of 20 s, evenly spread (seconds on the media timeline), none in the last minute."""
    step = (duration - 60.0) / PAUSES
    length = min(PAUSE_S, step / 3)  # a short --minutes run keeps 10 pauses that do not overlap
    return [(round(step * (k + 0.5), 1), round(step * (k + 0.5) + length, 1)) for k in range(PAUSES)]


def markers_for(duration: float, pauses: list[tuple[float, float]]) -> list[float]:
    every = [round(1.0 + MARKER_EVERY * k, 1) for k in range(int(duration / MARKER_EVERY) + 1)]
    return [
        m
        for m in every
        if m + FLASH < duration - 0.5 and all(abs(m - x) > 0.5 and abs(m + FLASH - x) > 0.5 for p in pauses for x in p)
    ]


def generate(duration: float, markers: list[float]) -> list[tuple[str, float, float]]:
    from loadtest.synthetic import make_marker_segment

    INPUTS.mkdir(parents=True, exist_ok=True)
    out = []
    start, seq = 0.0, 0
    while start < duration - 1e-6:
        length = min(SEGMENT, duration - start)
        path = INPUTS / f"m{duration:g}-{seq:05d}.webm"
        if not path.exists():
            inside = [round(m - start, 3) for m in markers if start <= m < start + length]
            make_marker_segment(path, duration_s=length, markers=inside, marker_s=FLASH)
        out.append((str(path), start, length))
        start, seq = start + length, seq + 1
    return out


def av_offsets_at_end(path: str, from_s: float) -> list[float]:
    """Tone onset minus flash, for each marker in the file from `from_s` (seconds) on."""
    import av

    flashes: list[float] = []
    with av.open(path) as container:
        stream = container.streams.video[0]
        container.seek(int(from_s / stream.time_base), stream=stream, backward=True)
        lit_before = False
        for frame in container.decode(stream):
            plane = frame.planes[0]
            luma = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(plane.height, plane.line_size)
            lit = float(luma[400:680, 800:1120].mean()) > 150
            if lit and not lit_before and (frame.time or 0) >= from_s:
                flashes.append(float(frame.time or 0))
            lit_before = lit
    with av.open(path) as container:
        stream = container.streams.audio[0]
        container.seek(int(from_s / stream.time_base), stream=stream, backward=True)
        first: float | None = None
        chunks = []
        for frame in container.decode(stream):
            if first is None:
                first = float(frame.time or 0)
            chunks.append(frame.to_ndarray())
    mono = np.abs(np.concatenate(chunks, axis=1)).max(axis=0)
    onsets, last = [], -(10**9)
    for i in np.flatnonzero(mono > 0.1):
        if i - last > 0.1 * 48_000:
            t = (first or 0.0) + i / 48_000
            if t >= from_s - 0.05:
                onsets.append(t)
        last = i
    return [min((tone - f for tone in onsets), key=abs) for f in flashes if onsets]


def run(minutes: float, paused: bool) -> dict[str, object]:
    from django.conf import settings
    from django.utils import timezone

    from meetings import services as meeting_services
    from recordings import pipeline, services
    from recordings.media.assemble import probe
    from recordings.models import Recording, RecordingPause, Segment, Track

    duration = minutes * 60
    pauses = pauses_for(duration)
    files = generate(duration, markers_for(duration, pauses))
    demo = meeting_services.seed_demo(password="bench-only")
    room = demo.rooms["single"]
    meeting_services.open_or_create_session(room=room)
    recording, _ = services.start_recording(room=room, user=demo.users["host"])
    began = timezone.now() - timedelta(seconds=duration + 120)
    used = pauses if paused else []
    Recording.objects.filter(pk=recording.pk).update(
        created_at=began, started_at=began, state="recording", paused_seconds=sum(b - a for a, b in used)
    )
    RecordingPause.objects.bulk_create(
        RecordingPause(
            recording=recording, paused_at=began + timedelta(seconds=a), resumed_at=began + timedelta(seconds=b)
        )
        for a, b in used
    )
    track = Track.objects.create(recording=recording, user=demo.users["host"], kind="camera", client_id="camera-bench")
    Segment.objects.bulk_create(
        Segment(
            track=track,
            seq=seq,
            path=str(Path(p).relative_to(BENCH)),
            size=Path(p).stat().st_size,
            start=start,
            duration=length,
            sha256=f"{seq:064d}",
        )  # fmt: skip
        for seq, (p, start, length) in enumerate(files)
    )
    recording.refresh_from_db()
    tick = settings.SWEEP_INTERVAL_SECONDS
    t0, clock = time.monotonic(), 0.0
    while clock < duration:
        clock = min(clock + tick, duration)
        pipeline.schedule_due_windows(now=recording.started_at + timedelta(seconds=clock))
    progressive = time.monotonic() - t0
    stop = time.monotonic()
    Recording.objects.filter(pk=recording.pk).update(
        state="stopping", stop_reason="stopped_by_host", stopped_at=recording.started_at + timedelta(seconds=duration)
    )
    services.begin_processing(recording_id=recording.pk)
    recording.refresh_from_db()
    assert recording.processed_at is not None, recording.error
    ready = time.monotonic() - stop
    recorded = duration - sum(b - a for a, b in used)
    length = probe(recording.output_path).duration
    offsets = av_offsets_at_end(recording.output_path, max(length - 30.0, 0.0))
    return {
        "variant": f"paused {PAUSES}x{pauses[0][1] - pauses[0][0]:g} s" if paused else "anchor (no pause)",
        "recorded_s": recorded,
        "output_s": length,
        "ready_s": ready,
        "progressive_s": progressive,
        "offset_ms": max((abs(o) for o in offsets), default=float("nan")) * 1000,
        "markers_checked": len(offsets),
        "state": recording.state,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--one", choices=("anchor", "paused"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        from ready_bench import setup_django

        setup_django(BENCH / f"pause-{args.one}-{args.minutes:g}min")
        print("RESULT " + json.dumps(run(args.minutes, args.one == "paused")), flush=True)
        return
    from common import machine_note, table

    print(machine_note(), flush=True)
    started = time.monotonic()
    rows = []
    for variant in ("anchor", "paused"):  # each in its own process: a fresh database
        out = subprocess.run(
            [sys.executable, __file__, "--one", variant, "--minutes", str(args.minutes)], capture_output=True, text=True
        )
        line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
        if line is None:
            sys.exit(f"the {variant} run failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
        rows.append(json.loads(line[7:]))
        print(f"  {variant} done", flush=True)
    anchor = rows[0]
    print()
    print(
        table(
            [
                "meeting",
                "recorded",
                "output",
                "A/V offset at the end (max)",
                "composing during meeting",
                "Stop to verified MP4",
                "vs anchor",
                "state",
            ],
            [
                [
                    f"{args.minutes:g} min, {r['variant']}",
                    f"{r['recorded_s']:.1f} s",
                    f"{r['output_s']:.2f} s",
                    f"{r['offset_ms']:.1f} ms ({r['markers_checked']} markers)",
                    f"{r['progressive_s']:.0f} s",
                    f"**{r['ready_s']:.1f} s**",
                    f"{r['ready_s'] / anchor['ready_s']:.2f}x",
                    r["state"],
                ]
                for r in rows
            ],
        )  # fmt: skip
    )
    print(f"\nwhole run: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
