"""Layout rules, as pure functions (no media)."""

from __future__ import annotations

from recordings.media.layout import PresentTrack, Rect, compute_layout, fit


def cams(n: int) -> list[PresentTrack]:
    return [PresentTrack(f"c{i}", "camera", (float(i), f"c{i}"), 0.0) for i in range(n)]


def test_single_camera_fills_the_frame() -> None:
    (cell,) = compute_layout(cams(1), 1920, 1080)
    assert cell.rect == Rect(0, 0, 1920, 1080)
    assert fit(1280, 720, cell.rect) == Rect(0, 0, 1920, 1080)


def test_grid_fits_the_number_of_cameras() -> None:
    two = compute_layout(cams(2), 1920, 1080)
    assert [c.rect for c in two] == [Rect(0, 0, 960, 1080), Rect(960, 0, 960, 1080)]
    four = compute_layout(cams(4), 1920, 1080)
    assert {(c.rect.x, c.rect.y) for c in four} == {(0, 0), (960, 0), (0, 540), (960, 540)}
    three = compute_layout(cams(3), 1920, 1080)
    # The short last row is centred.
    assert three[2].rect == Rect(480, 540, 960, 540)
    nine = compute_layout(cams(9), 1920, 1080)
    assert len({c.rect for c in nine}) == 9


def test_screen_share_takes_the_stage_and_cameras_a_column() -> None:
    present = cams(3) + [PresentTrack("s", "screen", (5.0, "s"), 5.0)]
    cells = compute_layout(present, 1920, 1080)
    stage = cells[0]
    assert stage.track_id == "s" and stage.role == "stage"
    assert fit(1920, 1080, stage.rect) == Rect(0, 134, 1440, 810)
    strip = [c for c in cells if c.role == "strip"]
    assert [c.track_id for c in strip] == ["c0", "c1", "c2"]
    assert [c.rect for c in strip] == [Rect(1440, 134, 480, 270), Rect(1440, 404, 480, 270), Rect(1440, 674, 480, 270)]


def test_newest_share_wins_the_stage() -> None:
    present = [
        PresentTrack("s1", "screen", (0.0, "s1"), 0.0),
        PresentTrack("s2", "screen", (1.0, "s2"), 30.0),
    ]
    cells = compute_layout(present, 1920, 1080)
    assert cells[0].track_id == "s2" and cells[1].track_id == "s1"


def test_fit_keeps_aspect_with_black_bars_and_even_sizes() -> None:
    cell = Rect(0, 0, 960, 1080)
    portrait = fit(720, 1280, cell)  # a phone camera
    assert portrait.h == 1080 and abs(portrait.w - 608) <= 2
    assert portrait.x > 0 and portrait.w % 2 == 0 and portrait.x % 2 == 0
    wide = fit(1280, 720, cell)
    assert wide == Rect(0, 270, 960, 540)
    odd = fit(333, 177, Rect(10, 10, 500, 500))
    assert odd.w % 2 == 0 and odd.h % 2 == 0 and odd.x % 2 == 0 and odd.y % 2 == 0
    assert odd.x + odd.w <= 510 and odd.y + odd.h <= 510


def test_nobody_present_gives_an_empty_layout() -> None:
    assert compute_layout([], 1920, 1080) == ()
