"""Timeline rules: spans, presence, and skipping far-away segments."""

from __future__ import annotations

from recordings.media.timeline import (
    NOMINAL_SEGMENT_S,
    SegmentRef,
    TrackInput,
    interval_index,
    presence_intervals,
    track_spans,
)


def missing_track(starts: list[float], durations: list[float | None] | None = None) -> TrackInput:
    durations = durations or [None] * len(starts)
    return TrackInput(
        "t",
        "camera",
        tuple(
            SegmentRef(path=f"/nonexistent/{i}.webm", start=s, duration=d)
            for i, (s, d) in enumerate(zip(starts, durations))
        ),
    )


def test_unreadable_segments_keep_their_slot() -> None:
    spans = track_spans(missing_track([0.0, 10.0, 25.0]))
    assert [(s.start, s.end, s.readable) for s in spans] == [
        (0.0, 10.0, False),
        (10.0, 20.0, False),
        (25.0, 25.0 + NOMINAL_SEGMENT_S, False),
    ]
    assert all(s.error for s in spans)
    declared = track_spans(missing_track([0.0], [4.0]))
    assert (declared[0].start, declared[0].end) == (0.0, 4.0)


def test_late_windows_do_not_probe_the_whole_recording() -> None:
    track = missing_track([k * 10.0 for k in range(100)])
    spans = track_spans(track, since=505.0)
    assert spans[0].start == 490.0  # the one before the window start's segment, for the held picture
    assert len(spans) == 51


def test_presence_bridges_recorder_restarts_but_not_real_absences() -> None:
    spans = track_spans(missing_track([0.0, 4.05, 20.0], [4.0, 4.0, 4.0]))
    intervals = presence_intervals(spans)
    assert intervals == [(0.0, 8.05), (20.0, 24.0)]
    assert interval_index(intervals, 4.02) == 0  # the 50 ms hole between segments
    assert interval_index(intervals, 12.0) is None
    assert interval_index(intervals, 20.0) == 1
