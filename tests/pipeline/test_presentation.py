"""The recording shows the stage as presented: a PDF's pages and a library video, from the stored items.

A recording of one synthetic camera (magenta, silent) during which the host presents, through the real
services, a 3-page PDF of the room's Media and Files (rendered by media_library with pypdfium2), turns
to page 2, then presents a video that plays with a tone. The presentation times are then moved onto
known instants of the (past) meeting, the recording is processed as in production (windows composed
separately, assembled, published), and the published MP4 is decoded.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import av
import numpy as np
import pytest

from loadtest.presented import make_position_video, read_position
from media_library.models import MediaEntry
from media_library.presenting import presentable
from meetings import services as meeting_services
from meetings.models import Presentation, PresentationEvent
from recordings import services
from tests.pipeline.conftest import Part, build_recording
from tests.presenting import PAGE_COLORS, make_pdf, room_file

pytestmark = pytest.mark.django_db(transaction=True)

FIRST_MEDIA = 1.0  # ingest seconds of the camera's first media: output 0
PDF_FROM, PAGE_2_AT, PDF_TO = 3.0, 6.3, 9.0  # ingest seconds
VIDEO_FROM, PLAY_AT, VIDEO_TO = 9.5, 10.0, 14.0
TONE = (1.0, 3.0)  # positions in the video with sound


def out(ingest: float) -> float:
    return ingest - FIRST_MEDIA


def stage_rgb(rgb: np.ndarray) -> tuple[int, ...]:
    """Mean colour of a patch in the stage's upper left (clear of the page's bar at the bottom)."""
    return tuple(int(v) for v in rgb[300:340, 300:340].reshape(-1, 3).mean(axis=0))


def close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 30) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def test_the_recording_draws_the_presented_pages_and_video_from_the_stored_items(
    demo, short_windows, tmp_path: Path
) -> None:
    host = demo.users["host"]
    room = demo.rooms["single"]
    recording = build_recording(
        demo, [Part("host", "magenta", start=FIRST_MEDIA, count=3, length=5.0, tone_hz=None)], stop_at=16.0
    )
    session = recording.session
    created = recording.created_at

    pdf = room_file(
        room, host, name="slides.pdf", data=make_pdf(3), kind=MediaEntry.Kind.DOCUMENT, content_type="application/pdf"
    )
    clip_path = tmp_path / "clip.mp4"
    make_position_video(clip_path, duration_s=6.0, tone_spans=[TONE])
    clip = room_file(
        room, host, name="clip.mp4", data=clip_path.read_bytes(), kind=MediaEntry.Kind.VIDEO,
        content_type="video/mp4", duration=6.0,
    )  # fmt: skip

    slides = meeting_services.start_presentation(
        session=session, presenter=host, item=presentable(user=host, room=room, entry_id=pdf.pk)
    )
    assert len(slides.pages) == 3
    turned = meeting_services.turn_page(session=session, user=host, page=2)
    film = meeting_services.start_presentation(  # ends the slides: the newest wins
        session=session, presenter=host, item=presentable(user=host, room=room, entry_id=clip.pk)
    )
    played = meeting_services.control_video(session=session, user=host, playing=True, position=0.0)
    assert meeting_services.stop_presentation(session=session)

    # Onto known instants of the meeting, which took place in the past (as build_recording does).
    def at(seconds: float):
        return created + timedelta(seconds=seconds)

    Presentation.objects.filter(pk=slides.pk).update(started_at=at(PDF_FROM), ended_at=at(PDF_TO))
    PresentationEvent.objects.filter(presentation=slides).exclude(pk=turned.pk).update(at=at(PDF_FROM))
    PresentationEvent.objects.filter(pk=turned.pk).update(at=at(PAGE_2_AT))
    Presentation.objects.filter(pk=film.pk).update(started_at=at(VIDEO_FROM), ended_at=at(VIDEO_TO))
    PresentationEvent.objects.filter(presentation=film).exclude(pk=played.pk).update(at=at(VIDEO_FROM))
    PresentationEvent.objects.filter(pk=played.pk).update(at=at(PLAY_AT))

    services.begin_processing(recording_id=recording.pk)  # tasks run eagerly in tests: finalize, publish
    recording.refresh_from_db()
    assert recording.state == "available", recording.error

    magenta = (200, 50, 200)
    page_1, page_2 = PAGE_COLORS[0], PAGE_COLORS[1]
    shown: list[tuple[float, tuple[int, ...], float | None]] = []
    with av.open(recording.output_path) as container:
        for frame in container.decode(video=0):
            t = float(frame.time or 0.0)
            rgb = frame.to_ndarray(format="rgb24")
            position = None
            if out(PLAY_AT) <= t < out(VIDEO_TO) - 0.05:
                # The 640x360 video in the 1440x1080 stage: 1440x810 at y=134; left half seconds, right frames.
                luma = frame.to_ndarray()[: frame.height]
                position = read_position(float(luma[300:800, 100:600].mean()), float(luma[300:800, 840:1340].mean()))
            shown.append((t, stage_rgb(rgb), position))
    assert len(shown) == 450  # 15 s at 30 fps

    turn = out(PAGE_2_AT)
    for t, colour, position in shown:
        if t < out(PDF_FROM) - 1e-6 or out(PDF_TO) + 0.05 <= t < out(VIDEO_FROM) - 0.05:
            assert close(colour, magenta), (t, colour)  # the camera alone fills the frame
        elif out(PDF_FROM) + 0.05 <= t < turn - 1e-6:
            assert close(colour, page_1), (t, colour)  # page 1 right up to the turn...
        elif turn + 1 / 30 <= t < out(PDF_TO) - 0.05:
            assert close(colour, page_2), (t, colour)  # ...and page 2 from the frame after it
        elif position is not None:
            # The video plays from position 0 at PLAY_AT: within one frame of the logged position.
            assert position == pytest.approx(t - out(PLAY_AT), abs=1 / 30 + 1e-6), (t, position)
    # The frame of the turn itself: the first frame at or after 5.3 s shows page 2.
    first_page_2 = next(t for t, colour, _ in shown if close(colour, page_2))
    assert first_page_2 == pytest.approx(np.ceil(turn * 30 - 1e-6) / 30, abs=1e-3)

    # The video's sound is in the mix where its tone was played; the cameras are silent.
    def rms(a: float, b: float) -> float:
        with av.open(recording.output_path) as container:
            chunks = [f.to_ndarray() for f in container.decode(audio=0) if a <= float(f.time or 0) < b]
        return float(np.sqrt(np.mean(np.concatenate(chunks, axis=1) ** 2)))

    tone_from, tone_to = out(PLAY_AT) + TONE[0], out(PLAY_AT) + TONE[1]
    assert rms(tone_from + 0.1, tone_to - 0.1) > 0.1
    assert rms(0.0, tone_from - 0.2) < 0.002
    assert rms(tone_to + 0.2, 15.0) < 0.002


def test_a_remote_stored_file_is_copied_into_the_window_scratch_space(monkeypatch, tmp_path: Path) -> None:
    """A storage without local paths (S3 in production; Django's in-memory storage here): one copy, reused."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import InMemoryStorage

    from recordings import stage

    remote = InMemoryStorage()

    class Remote:
        """Reads like S3Storage: open() works, path() does not."""

        def open(self, name: str, mode: str = "rb"):
            return remote.open(name, mode)

        def path(self, name: str) -> str:
            raise NotImplementedError("This backend doesn't support absolute paths.")

    monkeypatch.setattr(stage, "default_storage", Remote())
    name = remote.save("presenting/pages/1/page-0001.png", ContentFile(b"png bytes"))
    local = Path(stage.fetch(name, tmp_path / "stage"))
    assert local.parent == tmp_path / "stage" and local.suffix == ".png"
    assert local.read_bytes() == b"png bytes"
    remote.delete(name)
    assert stage.fetch(name, tmp_path / "stage") == str(local)  # the copy is reused within the window
    with pytest.raises(OSError):
        stage.fetch("presenting/missing.png", tmp_path / "stage")
