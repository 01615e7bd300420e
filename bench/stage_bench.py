"""Benchmark: the cost of a presentation in one composition window, against the same window without.

    .venv/bin/python bench/stage_bench.py [--repeat 3]

One 10 s window (the product's COMPOSE_WINDOW_SECONDS), picture and sound, as a worker composes it
(recordings.media.compose_window + encode_audio_window, veryfast/CRF 23 like the product), with the
three 1280x720 webcams of bench/compose_bench.py (generated once, cached under var/bench/), and:

* ``plain``: the webcams alone (the anchor, ratio 1.00);
* ``+ screen share``: compose_bench's 1920x1080 share on the stage (what a stage cost before);
* ``+ PDF, page turned every 2 s``: 1920x1080 PNG pages (slides with 1-pixel stripes and big digits),
  five different pages in the window, each decoded and scaled once;
* ``+ video playing``: a 1920x1080 30 fps H.264 + AAC library video with a noisy band (real decoding
  work), playing through the whole window, its sound mixed in;
* ``+ video, sought twice``: the same video with a seek back and one far ahead inside the window.

Each case is timed ``--repeat`` times; the table shows the best wall time (least disturbed by the other
work on a shared machine), the ratio to ``plain`` in the same run, and the CPU time.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from compose_bench import generate_inputs  # noqa: E402

from loadtest.presented import make_position_video, slide, write_png  # noqa: E402
from recordings.media.audio import encode_audio_window  # noqa: E402
from recordings.media.compositor import DEFAULT_CRF, DEFAULT_PRESET, compose_window  # noqa: E402
from recordings.media.stage import StageItem, StageStep  # noqa: E402
from recordings.media.timeline import TrackInput  # noqa: E402

VAR = ROOT / "var" / "bench" / "stage"
START, END = 10.0, 20.0  # the second window: every track is mid-segment, as in a long meeting


def inputs() -> tuple[list[TrackInput], TrackInput, list[str], str]:
    tracks = generate_inputs(0.5)  # 3 segments of 10 s per participant
    cameras = [t for t in tracks if t.kind == "camera"]
    share = next(t for t in tracks if t.kind == "screen")
    VAR.mkdir(parents=True, exist_ok=True)
    pages = []
    for k, colour in enumerate(["green", "blue", "yellow", "cyan", "orange"], start=1):
        path = VAR / f"page-{k}.png"
        if not path.exists():
            write_png(path, slide(1920, 1080, colour, k))
        pages.append(str(path))
    video = VAR / "clip-1080p-v4.mp4"
    if not video.exists():
        print("generating the 1080p video (cached)...", flush=True)
        tmp = VAR / "clip-1080p-v4.tmp.mp4"
        make_position_video(
            tmp, duration_s=10.5, width=1920, height=1080, tone_spans=[(0.0, 10.5)], keyint=60, texture=8, crf=22
        )
        tmp.rename(video)
    return cameras, share, pages, str(video)


def cases(cameras: list[TrackInput], share: TrackInput, pages: list[str], video: str) -> list[tuple[str, list, list]]:
    pdf = StageItem(
        "pdf", "pdf", START - 5, END + 5, tuple(StageStep(START + 2 * k, pages[k]) for k in range(5))
    )  # a different page every 2 s
    playing = StageItem(
        "video", "video", START - 1, END + 5, (StageStep(START, position=0.0, playing=True),), video=video
    )
    sought = StageItem(
        "video",
        "video",
        START - 1,
        END + 5,
        (
            StageStep(START, position=4.0, playing=True),
            StageStep(START + 3, position=1.0, playing=True),  # back
            StageStep(START + 6, position=7.0, playing=True),  # far ahead
        ),
        video=video,
    )
    return [
        ("plain (anchor)", cameras, []),
        ("+ screen share", [*cameras, share], []),
        ("+ PDF, page turned every 2 s", cameras, [pdf]),
        ("+ video playing", cameras, [playing]),
        ("+ video, sought twice", cameras, [sought]),
    ]


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(tracks: list[TrackInput], stage: list[StageItem], out: Path) -> tuple[float, float, float, float]:
    """(wall, cpu, video wall, audio wall) of one window, picture and sound."""
    t0, c0 = time.monotonic(), cpu()
    report = compose_window(
        tracks, start=START, end=END, out_path=str(out / "w.mp4"), preset=DEFAULT_PRESET, crf=DEFAULT_CRF, stage=stage
    )
    t1 = time.monotonic()
    audio = encode_audio_window(tracks, start=START, end=END, out_path=str(out / "w.m4a"), stage=stage)
    t2 = time.monotonic()
    if report.problems or audio.problems:
        print("  problems:", report.problems, audio.problems)
    return t2 - t0, cpu() - c0, t1 - t0, t2 - t1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    cameras, share, pages, video = inputs()
    out = VAR / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    results = []
    for name, tracks, stage in cases(cameras, share, pages, video):
        runs = [run(tracks, stage, out) for _ in range(args.repeat)]
        best = min(runs)
        results.append((name, best))
        print(f"  {name}: " + ", ".join(f"{r[0]:.2f}s" for r in runs), flush=True)
    anchor = results[0][1][0]
    print()
    print(f"one 10 s window (3x 1280x720 webcams, {DEFAULT_PRESET}/CRF {DEFAULT_CRF}), best of {args.repeat}; "
          f"1-min load average before: {load:.1f}")  # fmt: skip
    print("| window                        | wall s | vs plain | cpu s | picture s | sound s |")
    print("|-------------------------------|--------|----------|-------|-----------|---------|")
    for name, (wall, cpu_s, video_s, audio_s) in results:
        print(f"| {name:<29} | {wall:6.2f} | {wall / anchor:7.2f}x | {cpu_s:5.1f} | {video_s:9.2f} | {audio_s:7.2f} |")


if __name__ == "__main__":
    main()
