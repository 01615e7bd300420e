"""Where each present track goes on the 1920x1080 canvas.

Rules (the product has no names and no chrome, only pictures):

* stage items are screen shares and presentations (an item presented from the
  room's Media and Files, drawn by ``stage.py``). With one present, the most
  recently started is the stage (left, ``STAGE_FRACTION`` of the width) and
  every other track (cameras, then other shares) is stacked in a column on
  the right; a presentation that lost the stage is not shown (as live, where
  the stage shows one item), nor are its seconds in the column;
* without a share, cameras share a grid that fits their number
  (1 fills the frame, 2 side by side, 3-4 in 2x2, 5-6 in 3x2, ...), a short
  last row centred;
* every picture keeps its aspect ratio inside its cell (black bars, never
  stretched). All rectangles are on even pixels, as 4:2:0 chroma needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from .timeline import TrackKind

STAGE_FRACTION = 0.75  # 1440 of 1920: 16:9 slides at 1440x810, cams at 480x270
# What the layout places: recorded tracks, and presentations (recordings/media/stage.py).
LayoutKind = TrackKind | Literal["presentation"]
STAGE_KINDS: frozenset[str] = frozenset({"screen", "presentation"})


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Cell:
    """A track's box on the canvas; its picture is fitted inside."""

    track_id: str
    rect: Rect
    role: str  # "stage", "strip" or "grid"


@dataclass(frozen=True)
class PresentTrack:
    track_id: str
    kind: LayoutKind
    order: tuple[float, str]  # stable ordering key: (first segment start, id)
    since: float  # start of the current presence interval (newest share wins the stage)


def _even(v: float) -> int:
    return int(v) & ~1


def fit(src_w: int, src_h: int, cell: Rect) -> Rect:
    """Largest rectangle of the source's aspect inside ``cell``, centred."""
    if src_w <= 0 or src_h <= 0:
        return cell
    scale = min(cell.w / src_w, cell.h / src_h)
    w = max(2, min(cell.w, _even(round(src_w * scale) + 1)))
    h = max(2, min(cell.h, _even(round(src_h * scale) + 1)))
    # Rounding up to even can overshoot the exact aspect by a pixel; never the cell.
    x = cell.x + _even((cell.w - w) / 2)
    y = cell.y + _even((cell.h - h) / 2)
    return Rect(x, y, w, h)


def _column(tracks: list[PresentTrack], area: Rect) -> list[Cell]:
    """16:9 cells stacked and centred in a column."""
    n = len(tracks)
    if n == 0:
        return []
    cell_w = area.w
    cell_h = _even(min(area.w * 9 / 16, area.h / n))
    if cell_h * 16 / 9 < cell_w:
        cell_w = _even(cell_h * 16 / 9)
    top = area.y + _even((area.h - cell_h * n) / 2)
    left = area.x + _even((area.w - cell_w) / 2)
    return [Cell(t.track_id, Rect(left, top + i * cell_h, cell_w, cell_h), "strip") for i, t in enumerate(tracks)]


def _grid(tracks: list[PresentTrack], width: int, height: int) -> list[Cell]:
    n = len(tracks)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    cell_w = _even(width / cols)
    cell_h = _even(height / rows)
    top = _even((height - cell_h * rows) / 2)
    cells = []
    for i, t in enumerate(tracks):
        r, c = divmod(i, cols)
        in_row = min(cols, n - r * cols)
        left = _even((width - cell_w * in_row) / 2)
        cells.append(Cell(t.track_id, Rect(left + c * cell_w, top + r * cell_h, cell_w, cell_h), "grid"))
    return cells


def compute_layout(present: list[PresentTrack], width: int, height: int) -> tuple[Cell, ...]:
    """Cells for the tracks present at one instant; deterministic for a given set."""
    if not present:
        return ()
    ordered = sorted(present, key=lambda t: t.order)
    candidates = [t for t in ordered if t.kind in STAGE_KINDS]
    if candidates:
        stage = max(candidates, key=lambda t: (t.since, t.order))
        screens = [t for t in candidates if t.kind == "screen" and t is not stage]
        others = [t for t in ordered if t.kind not in STAGE_KINDS] + screens
        if not others:
            return (Cell(stage.track_id, Rect(0, 0, width, height), "stage"),)
        stage_w = _even(width * STAGE_FRACTION)
        cells = [Cell(stage.track_id, Rect(0, 0, stage_w, height), "stage")]
        cells += _column(others, Rect(stage_w, 0, width - stage_w, height))
        return tuple(cells)
    return tuple(_grid(ordered, width, height))
