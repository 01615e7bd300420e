"""`manage.py simulate_meeting` against the live Daphne: a short recorded meeting lands whole."""

from __future__ import annotations

import io
from pathlib import Path

import av
from django.conf import settings
from django.core.management import call_command

from recordings.models import Recording, Track


def decodes(path: Path) -> bool:
    with av.open(str(path)) as container:
        return next(container.decode(video=0), None) is not None


def test_simulated_meeting_lands_every_participants_media(live, demo) -> None:
    room = demo.rooms["single"]
    out = io.StringIO()
    call_command(
        "simulate_meeting",
        url=live.url,
        room=room.pk,
        participants=3,
        duration=6,
        segment_seconds=2,
        record=True,
        width=320,
        height=180,
        stdout=out,
    )
    report = out.getvalue()
    assert "Done." in report, report

    recording = Recording.objects.get(room=room)
    states = list(recording.transitions.values_list("to_state", flat=True))
    assert states[:3] == ["starting", "recording", "stopping"], states
    assert "starting -> recording -> stopping" in report  # and every socket was told, in that order

    tracks = Track.objects.filter(recording=recording).select_related("user")
    assert sorted(t.user.username for t in tracks) == ["sim-001", "sim-002", "sim-003", "sim-host"]
    for track in tracks:
        segments = list(track.segments.order_by("seq"))
        # 6 s in 2 s pieces: three whole ones, maybe a sliver cut by Stop; numbered without gaps.
        assert [s.seq for s in segments] == list(range(len(segments))) and len(segments) >= 3, track
        assert track.ended, f"{track} never sent its final piece"
        for segment in segments:
            stored = Path(settings.SPOOL_DIR) / segment.path
            assert stored.stat().st_size == segment.size
            assert decodes(stored), stored
