"""Presenting from Media and Files (issue 11): what may be presented, PDF pages, and who loads the files."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from media_library import presenting
from media_library.models import MediaEntry
from meetings import selectors, services
from meetings.models import LiveSession, Presence, Presentation, PresentationEvent
from meetings.services import PresentationError
from tests.presenting import PAGE_COLORS, close_to, decode_png, make_pdf, pixel, room_file

pytestmark = pytest.mark.django_db


def pdf_entry(demo, pages: int = 3, data: bytes | None = None) -> MediaEntry:
    room = demo.rooms["single"]
    return room_file(
        room, demo.users["host"], name="slides.pdf", data=data or make_pdf(pages),
        kind=MediaEntry.Kind.DOCUMENT, content_type="application/pdf",
    )  # fmt: skip


def live_session(demo, *usernames: str) -> LiveSession:
    room = demo.rooms["single"]
    session = None
    for i, name in enumerate(usernames):
        role = "host" if name == "host" else "moderator" if name == "moderator" else "participant"
        session = services.join_session(
            room=room, user=demo.users[name], role=role, channel_name=f"test.{name}.{i}", fresh=True
        )
    assert session is not None
    return session


def test_pdf_pages_are_rendered_once_to_pngs_that_fit_the_stage(demo) -> None:
    entry = pdf_entry(demo)
    item = presenting.presentable(user=demo.users["host"], room=demo.rooms["single"], entry_id=entry.pk)
    assert item.kind == "pdf" and len(item.pages) == 3 and item.source == ""
    for number, name in enumerate(item.pages, start=1):
        assert name.startswith(f"presentations/pdf/{entry.pk}/") and name.endswith(f"page-{number:04d}.png")
        with default_storage.open(name, "rb") as fh:
            png = fh.read()
        width, height, _ = decode_png(png)
        assert (width, height) == (1920, 1080)  # a 16:9 slide fills the 1080p stage
        assert close_to(pixel(png, 1900, 500), PAGE_COLORS[number - 1])
        bar_end = (20 + number * 80) * 3  # each page's black bar is as long as its number (points x 3)
        assert close_to(pixel(png, bar_end - 20, 1080 - 70), (0, 0, 0))
        assert close_to(pixel(png, bar_end + 20, 1080 - 70), PAGE_COLORS[number - 1])
    first = default_storage.open(item.pages[0]).read()
    default_storage.delete(item.pages[0])  # a second presentation reuses the manifest: nothing renders
    again = presenting.presentable(user=demo.users["host"], room=demo.rooms["single"], entry_id=entry.pk)
    assert again.pages == item.pages and not default_storage.exists(item.pages[0]) and first


def test_a_broken_pdf_gets_a_clear_error(demo) -> None:
    entry = pdf_entry(demo, data=b"%PDF-1.4\nthis is not a PDF at all")
    with pytest.raises(PresentationError, match="could not be opened"):
        presenting.presentable(user=demo.users["host"], room=demo.rooms["single"], entry_id=entry.pk)


def test_the_page_cap(demo, settings) -> None:
    settings.PRESENT_PDF_MAX_PAGES = 2
    entry = pdf_entry(demo, pages=4)
    item = presenting.presentable(user=demo.users["host"], room=demo.rooms["single"], entry_id=entry.pk)
    assert len(item.pages) == 2


def test_only_leaders_present_and_only_presentable_items(demo) -> None:
    entry = pdf_entry(demo)
    room = demo.rooms["single"]
    for name in ("participant", "outsider"):
        with pytest.raises(PresentationError, match="not in this room"):
            presenting.presentable(user=demo.users[name], room=room, entry_id=entry.pk)
    other = room_file(
        room, demo.users["host"], name="notes.txt", data=b"hello", kind=MediaEntry.Kind.DOCUMENT,
        content_type="text/plain",
    )  # fmt: skip
    with pytest.raises(PresentationError, match="Only images, PDFs and videos"):
        presenting.presentable(user=demo.users["host"], room=room, entry_id=other.pk)
    with pytest.raises(PresentationError, match="not in this room"):
        presenting.presentable(user=demo.users["host"], room=demo.rooms["channel"], entry_id=entry.pk)


def test_the_event_log_and_the_files_members_may_load(demo) -> None:
    entry = pdf_entry(demo)
    room = demo.rooms["single"]
    session = live_session(demo, "host", "participant")
    item = presenting.presentable(user=demo.users["host"], room=room, entry_id=entry.pk)
    presentation = services.start_presentation(session=session, presenter=demo.users["host"], item=item)
    services.turn_page(session=session, user=demo.users["host"], page=2)
    with pytest.raises(PresentationError, match="no page 4"):
        services.turn_page(session=session, user=demo.users["host"], page=4)
    with pytest.raises(PresentationError, match="Only the person presenting"):
        services.turn_page(session=session, user=demo.users["participant"], page=1)
    log = list(PresentationEvent.objects.filter(presentation=presentation).values_list("page", "position", "playing"))
    assert log == [(1, None, False), (2, None, False)]
    snapshot = selectors.presentation_snapshot_for_room(room_id=room.pk)
    assert snapshot is not None and snapshot["page"] == 2 and snapshot["page_count"] == 3
    assert snapshot["presenter"] == demo.users["host"].label and snapshot["kind"] == "pdf"

    page2 = reverse("media_library:presented_page", args=[room.pk, presentation.pk, 2])
    participant, outsider = Client(), Client()
    participant.force_login(demo.users["participant"])
    outsider.force_login(demo.users["outsider"])
    response = participant.get(page2)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert close_to(pixel(b"".join(response.streaming_content), 1900, 500), PAGE_COLORS[1])
    assert outsider.get(page2).status_code == 404
    assert (
        participant.get(reverse("media_library:presented_page", args=[room.pk, presentation.pk, 9])).status_code == 404
    )
    assert participant.get(reverse("media_library:entry_stream", args=[entry.pk])).status_code == 404  # not outside
    # A member who is not in the session now does not load it either.
    Presence.objects.filter(user=demo.users["participant"]).delete()
    assert participant.get(page2).status_code == 404
    services.join_session(room=room, user=demo.users["participant"], role="participant", channel_name="p2", fresh=True)
    assert participant.get(page2).status_code == 200

    # The presenter leaves: presenting stops, and the pages are no longer served.
    services.leave_session(channel_name="test.host.0")
    presentation.refresh_from_db()
    assert presentation.ended_at is not None and presentation.ended_at <= timezone.now()
    assert selectors.presentation_snapshot_for_room(room_id=room.pk) is None
    assert participant.get(page2).status_code == 404


def test_video_control_and_the_newest_presentation_wins(demo, tmp_path) -> None:
    from tests.library.conftest import write_mp4

    room = demo.rooms["single"]
    video = room_file(
        room, demo.users["host"], name="clip.mp4", data=write_mp4(tmp_path / "clip.mp4").read_bytes(),
        kind=MediaEntry.Kind.VIDEO, content_type="video/mp4", duration=1.0,
    )  # fmt: skip
    session = live_session(demo, "host", "moderator")
    item = presenting.presentable(user=demo.users["host"], room=room, entry_id=video.pk)
    assert item.kind == "video" and item.source == video.file.name
    first = services.start_presentation(session=session, presenter=demo.users["host"], item=item)
    services.control_video(session=session, user=demo.users["host"], playing=True, position=0.5)
    with pytest.raises(PresentationError, match="seconds from the start"):
        services.control_video(session=session, user=demo.users["host"], playing=True, position=-1)
    # The presenter's own stamp is kept when it is recent; a stamp from the future or long ago is not.
    now = timezone.now()
    stamped = services.control_video(session=session, user=demo.users["host"], playing=True, position=2.0, at=now)
    assert stamped.at == now
    future = services.control_video(
        session=session, user=demo.users["host"], playing=False, position=3.0, at=now + timedelta(hours=1)
    )
    assert stamped.at < future.at <= timezone.now()
    older = services.control_video(
        session=session, user=demo.users["host"], playing=True, position=3.0, at=now - timedelta(seconds=1)
    )
    assert older.at == future.at  # never before the event it follows: the log stays in order
    second = services.start_presentation(session=session, presenter=demo.users["moderator"], item=item)
    first.refresh_from_db()
    assert first.ended_at is not None and second.ended_at is None
    assert list(first.events.values_list("position", "playing")) == [
        (0.0, False), (0.5, True), (2.0, True), (3.0, False), (3.0, True),
    ]  # fmt: skip
    assert Presentation.objects.filter(session=session, ended_at__isnull=True).count() == 1
    services.end_session(session=session, reason=LiveSession.EndReason.ENDED_BY_HOST)
    second.refresh_from_db()
    assert second.ended_at is not None


def test_a_presenter_demoted_mid_presentation_stops_presenting(demo) -> None:
    """Presenting is for hosts and moderators: one demoted while presenting stops, as one who leaves does.
    (The demotion's path from the admin to the socket, which calls change_presence_role, is tested in
    tests/realtime/test_role_changes.py.)"""
    entry = pdf_entry(demo)
    room = demo.rooms["single"]
    session = live_session(demo, "moderator", "participant")
    item = presenting.presentable(user=demo.users["moderator"], room=room, entry_id=entry.pk)
    presentation = services.start_presentation(session=session, presenter=demo.users["moderator"], item=item)
    services.change_presence_role(channel_name="test.participant.1", role="moderator")  # someone else: no effect
    services.change_presence_role(channel_name="test.moderator.0", role="moderator")
    presentation.refresh_from_db()
    assert presentation.ended_at is None
    services.change_presence_role(channel_name="test.moderator.0", role="participant")
    presentation.refresh_from_db()
    assert presentation.ended_at is not None
    assert selectors.presentation_snapshot_for_room(room_id=room.pk) is None


def test_an_uploaded_pdf_is_rendered_before_anyone_presents_it(demo, django_capture_on_commit_callbacks) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from media_library import services as library

    room, host = demo.rooms["single"], demo.users["host"]
    with django_capture_on_commit_callbacks(execute=True) as queued:
        entry = library.upload_room_file(
            room=room, user=host, folder=None,
            uploaded=SimpleUploadedFile("deck.pdf", make_pdf(3), content_type="application/pdf"),
        )  # fmt: skip
    assert len(queued) == 1  # the rendering task, after the upload's commit (eager in the tests)
    folder = presenting.pages_dir(entry)
    assert default_storage.exists(f"{folder}/pages.json") and default_storage.exists(f"{folder}/page-0003.png")
    # Presenting it now renders nothing: a page taken away stays away, the manifest answers.
    default_storage.delete(f"{folder}/page-0002.png")
    item = presenting.presentable(user=host, room=room, entry_id=entry.pk)
    assert len(item.pages) == 3 and not default_storage.exists(f"{folder}/page-0002.png")

    # Nothing is queued for what is not a PDF; a broken PDF uploads fine and is told at presenting.
    with django_capture_on_commit_callbacks(execute=True) as queued:
        library.upload_room_file(
            room=room, user=host, folder=None,
            uploaded=SimpleUploadedFile("notes.txt", b"plain", content_type="text/plain"),
        )  # fmt: skip
    assert queued == []
    with django_capture_on_commit_callbacks(execute=True):
        broken = library.upload_room_file(
            room=room, user=host, folder=None,
            uploaded=SimpleUploadedFile("broken.pdf", b"%PDF-1.4 not really", content_type="application/pdf"),
        )  # fmt: skip
    assert not default_storage.exists(f"{presenting.pages_dir(broken)}/pages.json")
    with pytest.raises(PresentationError, match="could not be opened"):
        presenting.presentable(user=host, room=room, entry_id=broken.pk)


def test_preparing_pages_answers_zero_for_what_it_cannot_render(demo) -> None:
    room, host = demo.rooms["single"], demo.users["host"]
    image = room_file(
        room, host, name="photo.png", data=b"\x89PNG", kind=MediaEntry.Kind.IMAGE, content_type="image/png"
    )
    binned = pdf_entry(demo)
    MediaEntry.objects.filter(pk=binned.pk).update(deleted_at=timezone.now())
    assert presenting.prepare_pages(entry_id=image.pk) == 0
    assert presenting.prepare_pages(entry_id=binned.pk) == 0
    assert presenting.prepare_pages(entry_id=10**9) == 0
    assert presenting.prepare_pages(entry_id=pdf_entry(demo, pages=2).pk) == 2
