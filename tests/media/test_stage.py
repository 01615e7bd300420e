"""Presentations drawn from the stored item (recordings/media/stage.py), checked by decoding the output.

A red camera (320x180) is in every test, so a presentation has the 1440x1080 stage on the left and the
camera sits in the column on the right. Pages are PNGs (what PDF pages are rendered to); the presented
video is an H.264 + AAC MP4 whose pictures encode their own position (loadtest/presented.py).
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from loadtest.presented import make_position_video, read_position, slide, write_png
from loadtest.synthetic import make_track
from recordings.media.audio import encode_audio_window
from recordings.media.compositor import compose_window
from recordings.media.cuts import CutTimeline
from recordings.media.layout import PresentTrack, Rect, compute_layout, fit
from recordings.media.stage import StageItem, StageStep, cut_stage_item
from recordings.media.timeline import TrackInput

from .conftest import TEST_PRESET, colour_close, decode_audio, decode_video

FPS = 30
STAGE = Rect(0, 0, 1440, 1080)


@pytest.fixture(scope="module")
def camera(tmp_path_factory: pytest.TempPathFactory) -> TrackInput:
    return make_track(
        tmp_path_factory.mktemp("cam"), track_id="cam", segments=2, segment_s=4, width=320, height=180,
        fps=15, pattern="red", tone_hz=None,
    )  # fmt: skip


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Three 1920x1080 pages: green, blue, yellow (the camera is red)."""
    folder = tmp_path_factory.mktemp("pages")
    paths = []
    for number, colour in enumerate(["green", "blue", "yellow"], start=1):
        path = folder / f"page-{number}.png"
        write_png(path, slide(1920, 1080, colour, number))
        paths.append(str(path))
    return paths


# Position-coded video: a tone over positions 1.0-1.5 and 4.5-5.0 only.
TONE_SPANS = [(1.0, 1.5), (4.5, 5.0)]


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    make_position_video(path, duration_s=6.0, tone_spans=TONE_SPANS, keyint=60)
    return str(path)


def compose(tracks: list[TrackInput], stage: list[StageItem], windows: list[tuple[float, float]], out: Path, **kw):
    """Each window composed on its own (as workers do); the decoded frames of all, in order."""
    frames: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    reports = []
    for k, (a, b) in enumerate(windows):
        path = out / f"w{k}.mp4"
        reports.append(
            compose_window(tracks, start=a, end=b, out_path=str(path), preset=TEST_PRESET, stage=stage, **kw)
        )
        decoded = decode_video(path)
        assert decoded.count == round((b - a) * FPS)
        frames += [decoded.frames[i] for i in range(decoded.count)]
    return frames, reports


def mean_yuv(frame: tuple[np.ndarray, np.ndarray, np.ndarray], x: int, y: int, r: int = 8) -> tuple[float, ...]:
    py, pu, pv = frame
    return (
        float(py[y - r : y + r, x - r : x + r].mean()),
        float(pu[y // 2 - r // 2 : y // 2 + r // 2, x // 2 - r // 2 : x // 2 + r // 2].mean()),
        float(pv[y // 2 - r // 2 : y // 2 + r // 2, x // 2 - r // 2 : x // 2 + r // 2].mean()),
    )


def page_shown(frame: tuple[np.ndarray, np.ndarray, np.ndarray]) -> str | None:
    """Which page's colour is at the stage's left third (clear of the number and the stripes)."""
    colour = mean_yuv(frame, 300, 700)
    return next((name for name in ("green", "blue", "yellow", "red") if colour_close(colour, name)), None)


def test_a_page_is_drawn_in_the_stage_at_full_resolution(camera: TrackInput, tmp_path: Path) -> None:
    # A page exactly the size it is shown at (1440x810 in the 1440x1080 stage): drawn pixel for pixel.
    rgb = slide(1440, 810, "green", 1)
    write_png(tmp_path / "page.png", rgb)
    item = StageItem("p", "pdf", 0.5, 3.0, (StageStep(0.5, str(tmp_path / "page.png")),))
    report = compose_window(
        [camera], start=0.0, end=1.0, out_path=str(tmp_path / "w.mp4"), preset=TEST_PRESET, crf=0, stage=[item]
    )
    assert not report.problems
    stage_cell = next(c for c in report.layout_changes[-1].cells if c.track_id == "p")
    assert stage_cell.rect == STAGE and stage_cell.role == "stage"
    placed = fit(1440, 810, STAGE)
    assert placed == Rect(0, 134, 1440, 810)
    video = decode_video(tmp_path / "w.mp4", keep=[10, 20])
    # 0.33 s: only the camera (the presentation starts at 0.5 s).
    assert colour_close(video.yuv_at(10, 960, 540), "red")
    # 0.67 s: the page's luma, as swscale converts it, is in the stage pixel for pixel (x264 lossless at crf 0).
    expected = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p").to_ndarray()[:810]
    shown = video.region(20, placed)
    assert np.abs(shown - expected.astype(np.int16)).max() <= 1
    # The 1-pixel stripes survive (a capture scaled down and up again would blur them to grey).
    band = shown[81 + 10, 200:1200]
    assert np.abs(np.diff(band)).mean() > 150
    # Bars above and below the 16:9 page are black; the camera is in the column on the right.
    assert video.yuv_at(20, 720, 60)[0] < 24 and video.yuv_at(20, 720, 1020)[0] < 24
    assert colour_close(video.yuv_at(20, 1680, 540), "red")


def test_pages_switch_within_a_frame_of_the_logged_time(camera: TrackInput, pages: list[str], tmp_path: Path) -> None:
    # Page 1 from 0.5 s, page 2 at 2.51 s, page 3 at 3.4 s, page 2 again at 4.9 s (a later window), end at 5.5 s.
    steps = (StageStep(0.5, pages[0]), StageStep(2.51, pages[1]), StageStep(3.4, pages[2]), StageStep(4.9, pages[1]))
    item = StageItem("pdf", "pdf", 0.5, 5.5, steps)
    frames, reports = compose([camera], [item], [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0)], tmp_path)
    assert not any(r.problems for r in reports)

    def expected(i: int) -> str:
        t = i / FPS  # an event shows from the first frame at or after it
        if t < 0.5 - 1e-9 or t >= 5.5 - 1e-9:
            return "red"  # the camera alone fills the frame
        step = max((s for s in steps if s.at <= t + 1e-9), key=lambda s: s.at)
        return {pages[0]: "green", pages[1]: "blue", pages[2]: "yellow"}[step.image or ""]

    shown = [page_shown(f) for f in frames]
    assert shown == [expected(i) for i in range(len(frames))]
    assert shown[75] == "green" and shown[76] == "blue"  # 2.51 s: frame 76 is the first at or after it
    assert shown[101] == "blue" and shown[102] == "yellow"  # 3.4 s: frame 102


def stage_position(frame: tuple[np.ndarray, np.ndarray, np.ndarray]) -> float:
    """The presented video's position, read from its picture in the stage (640x360 -> 1440x810 at y=134)."""
    luma = frame[0]
    return read_position(float(luma[300:800, 100:600].mean()), float(luma[300:800, 840:1340].mean()))


def test_a_video_shows_and_sounds_at_the_logged_positions(camera: TrackInput, video: str, tmp_path: Path) -> None:
    # Shown paused at 0 from 0.5 s; plays from 1.0 s; sought to 4.0 s at 2.5 s (playing); paused at 3.5 s
    # (position 5.0); played from 1.6 at 4.5 s; ends at 5.8 s.
    steps = (
        StageStep(0.5, position=0.0, playing=False),
        StageStep(1.0, position=0.0, playing=True),
        StageStep(2.5, position=4.0, playing=True),
        StageStep(3.5, position=5.0, playing=False),
        StageStep(4.5, position=1.6, playing=True),
    )
    item = StageItem("vid", "video", 0.5, 5.8, steps, video=video)
    windows = [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0)]
    frames, reports = compose([camera], [item], windows, tmp_path)
    assert not any(r.problems for r in reports)
    for i, frame in enumerate(frames):
        t = i / FPS
        if not 0.5 <= t < 5.8 - 1e-9:
            assert page_shown(frame) == "red", t
            continue
        step = max((s for s in steps if s.at <= t + 1e-9), key=lambda s: s.at)
        want = min(step.position_at(t), 5 + 29 / 30)  # past the end, the last frame holds
        assert stage_position(frame) == pytest.approx(np.floor(want * FPS + 1e-6) / FPS, abs=1e-6), (i, t)

    # The sound: windows encoded separately, as the product does, then laid end to end.
    sound = np.zeros((2, 6 * 48_000), dtype=np.float32)
    for k, (a, b) in enumerate(windows):
        report = encode_audio_window([camera], start=a, end=b, out_path=str(tmp_path / f"a{k}.m4a"), stage=[item])
        assert not report.problems
        samples, _rate = decode_audio(tmp_path / f"a{k}.m4a")
        n = min(report.samples, samples.shape[1], sound.shape[1] - report.start_sample)
        sound[:, report.start_sample : report.start_sample + n] = samples[:, :n]
    loud = np.abs(sound).max(axis=0).reshape(-1, 480).max(axis=1) > 0.1  # 10 ms blocks

    # Where the log says the tone's positions (1.0-1.5 and 4.5-5.0) were played: 2.0-2.5, 3.0-3.5 (after
    # the seek, cut by the pause), and none after 4.5 (positions 1.6-2.9 have no tone).
    def heard(a: float, b: float) -> float:
        return float(loud[round(a * 100) : round(b * 100)].mean())

    assert heard(2.03, 2.47) == 1.0 and heard(3.03, 3.47) == 1.0
    assert heard(0.0, 1.97) == 0.0 and heard(2.53, 2.97) == 0.0 and heard(3.53, 6.0) == 0.0


def test_pause_cuts_move_a_presentation_and_a_video_resumes_where_it_had_got_to() -> None:
    # The recording was paused from media 2.0 s to 3.0 s, stopped at 6.0 s (frames of 30 fps).
    cuts = CutTimeline.build(pauses=[(60, 90)], end=180, fps=FPS)
    video = StageItem(
        "v", "video", 1.0, 5.0,
        (StageStep(1.0, position=0.0, playing=True), StageStep(2.5, position=10.0, playing=True)),
        video="clip.mp4",
    )  # fmt: skip
    cut = cut_stage_item(video, cuts)
    assert cut is not None and (cut.start, cut.end) == (1.0, 4.0)
    # Plays from 1.0; the seek to 10.0 happened in the pause: at the resume (output 2.0) it is at 10.5.
    assert [(s.at, s.position, s.playing) for s in cut.steps] == [(1.0, 0.0, True), (2.0, 10.5, True)]
    assert cut.steps[0].position_at(1.9) == pytest.approx(0.9)

    pdf = StageItem("p", "pdf", 0.5, 4.0, (StageStep(0.5, "1.png"), StageStep(2.2, "2.png"), StageStep(3.5, "3.png")))
    cut = cut_stage_item(pdf, cuts)
    assert cut is not None and (cut.start, cut.end) == (0.5, 3.0)
    # Page 2 was turned to during the pause: it is what shows when the recording resumes.
    assert [(s.at, s.image) for s in cut.steps] == [(0.5, "1.png"), (2.0, "2.png"), (2.5, "3.png")]

    only_paused = StageItem("q", "image", 2.1, 2.9, (StageStep(2.1, "x.png"),))
    assert cut_stage_item(only_paused, cuts) is None


def test_before_its_first_event_a_presentation_shows_that_event_standing_still() -> None:
    item = StageItem("v", "video", 1.0, 3.0, (StageStep(1.2, position=5.0, playing=True),), video="clip.mp4")
    (a, b, before), (c, d, first) = item.runs(0.0, 2.0)
    assert (a, b, c, d) == (1.0, 1.2, 1.2, 2.0)
    assert not before.playing and before.position_at(1.1) == 5.0  # no sound, no frames advancing
    assert first.playing and first.position_at(1.7) == pytest.approx(5.5)


def test_the_most_recently_started_stage_item_has_the_stage() -> None:
    cam = PresentTrack("cam", "camera", (0.0, "cam"), 0.0)
    share = PresentTrack("share", "screen", (1.0, "share"), 1.0)
    pres = PresentTrack("pres", "presentation", (2.0, "pres"), 2.0)
    cells = {c.track_id: c for c in compute_layout([cam, share, pres], 1920, 1080)}
    assert cells["pres"].role == "stage" and cells["pres"].rect == STAGE
    assert cells["cam"].role == cells["share"].role == "strip"  # an older share stays in the column
    later_share = PresentTrack("share", "screen", (1.0, "share"), 3.0)
    cells = {c.track_id: c for c in compute_layout([cam, later_share, pres], 1920, 1080)}
    assert cells["share"].role == "stage"
    assert "pres" not in cells  # a presentation off the stage is not shown, as live
    alone = compute_layout([pres], 1920, 1080)
    assert [(c.track_id, c.rect) for c in alone] == [("pres", Rect(0, 0, 1920, 1080))]


def test_unreadable_items_are_reported_and_cost_only_their_own_picture(camera: TrackInput, tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not a picture" * 50)
    page = StageItem("p", "pdf", 0.0, 2.0, (StageStep(0.0, str(bad)),))
    clip = tmp_path / "bad.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    film = StageItem("v", "video", 0.0, 2.0, (StageStep(0.0, position=0.0, playing=True),), video=str(clip))
    for item in (page, film):
        out = tmp_path / f"{item.item_id}.mp4"
        report = compose_window([camera], start=0.0, end=1.0, out_path=str(out), preset=TEST_PRESET, stage=[item])
        assert report.frames == 30
        assert [p.track_id for p in report.problems] == [item.item_id]
        video = decode_video(out, keep=[15])
        assert video.yuv_at(15, 720, 540)[0] < 24  # the stage is black
        assert colour_close(video.yuv_at(15, 1680, 540), "red")  # the camera is still drawn
    audio = encode_audio_window([camera], start=0.0, end=1.0, out_path=str(tmp_path / "a.m4a"), stage=[film])
    assert [p.track_id for p in audio.problems] == ["v"]


def test_an_unreadable_page_shows_black_not_the_page_before(
    camera: TrackInput, pages: list[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a picture at all")
    item = StageItem("p", "pdf", 0.0, 2.0, (StageStep(0.0, pages[0]), StageStep(0.5, str(bad))))
    out = tmp_path / "w.mp4"
    report = compose_window([camera], start=0.0, end=1.0, out_path=str(out), preset=TEST_PRESET, stage=[item])
    assert [(p.track_id, p.path) for p in report.problems] == [("p", str(bad))]
    video = decode_video(out, keep=[10, 20])
    assert colour_close(video.yuv_at(10, 300, 700), "green")  # page 1
    assert video.yuv_at(20, 300, 700)[0] < 24 and video.yuv_at(20, 720, 540)[0] < 24  # black, not page 1


def test_a_presentation_id_may_not_collide_with_a_track(camera: TrackInput, tmp_path: Path) -> None:
    item = StageItem("cam", "image", 0.0, 1.0, (StageStep(0.0, "x.png"),))
    with pytest.raises(ValueError, match="also a track id"):
        compose_window([camera], start=0.0, end=1.0, out_path=str(tmp_path / "x.mp4"), stage=[item])
