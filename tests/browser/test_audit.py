"""The accessibility and layout gate: every page, for each role that sees it, in real Chromium.

axe-core (WCAG 2.1 A and AA rules) must find nothing "serious" or "critical" (tests/browser/pages.py
ACCEPTED lists the few accepted, with the reason); at 375, 768, 1280 and 1920 px no page scrolls
sideways, no element's content spills out of its box, dialogs and panels fit the window. A
screenshot of each page state at 375 and 1280 px is kept under var/test-artifacts/screens/ (or
$TEST_ARTIFACTS_DIR/screens/). Each test lists every finding of its pages at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.utils import timezone
from playwright.sync_api import expect

from media_library import services as library
from media_library.models import MediaEntry
from meetings.models import LiveSession, Room, User
from meetings.services import DemoData
from recordings.models import Recording
from tests.browser.conftest import new_page, notice
from tests.browser.pages import ADMIN_WIDTHS, Audit, focus_problems
from tests.conftest import DEMO_PASSWORD
from tests.library.conftest import write_mp4

pytestmark = pytest.mark.browser

LONG_REASON = "Publishing failed: could not connect to the endpoint URL http://storage.internal/" + "x" * 80


@dataclass
class Library:
    """What the library pages show: two published recordings, an uploaded file, a share link."""

    recording: Recording
    entry: MediaEntry  # the "single" room's recording, owned by host
    channel_entry: MediaEntry  # published to the channel's Media tab
    upload: MediaEntry  # a document the moderator uploaded to the "single" room (host may view, not delete)
    share_url: str


def past_recording(room: Room, starter: User, state: str, **fields: object) -> Recording:
    """A recording of a session that has ended (so no room is left "live" by it)."""
    now = timezone.now()
    session = LiveSession.objects.create(
        room=room, state=LiveSession.State.ENDED, started_at=now - timedelta(minutes=5), ended_at=now,
        end_reason=LiveSession.EndReason.ENDED_BY_HOST, max_end_at=now + timedelta(hours=1),
    )  # fmt: skip
    return Recording.objects.create(
        room=room, session=session, started_by=starter, state=state, started_at=now - timedelta(minutes=5),
        cap_deadline=now, first_media_deadline=now, duration=2.0, **fields,
    )  # fmt: skip


def build_library(demo: DemoData, tmp_path: Path) -> Library:
    host, moderator = demo.users["host"], demo.users["moderator"]
    single, channel_room = demo.rooms["single"], demo.rooms["channel"]
    mp4 = str(write_mp4(tmp_path / "rec.mp4", seconds=2.0))
    recording = past_recording(single, host, Recording.State.PROCESSING)
    entry = library.publish_recording(recording=recording, mp4_path=mp4)
    channel_entry = library.publish_recording(
        recording=past_recording(channel_room, host, Recording.State.PROCESSING), mp4_path=mp4
    )
    # My Media's other states: one being processed, one that failed with a long reason.
    past_recording(demo.rooms["integration"], host, Recording.State.PROCESSING, progress=40)
    past_recording(demo.rooms["integration"], host, Recording.State.FAILED, error=LONG_REASON)
    upload = library.upload_room_file(
        room=single,
        user=moderator,
        # A file's name is often one long word: it must wrap or be cut, never widen its list.
        uploaded=SimpleUploadedFile("Weekly_planning_agenda_and_decisions_2026.pdf", b"%PDF-1.4\n", "application/pdf"),
        folder=None,
    )
    link = library.create_share_link(entry=entry, by=host, expires_in_days=7)
    return Library(recording, entry, channel_entry, upload, f"/s/{link.token}/")


def signed_in(browser, live, username: str | None, **options: object):
    """A fresh context (one per role) at 1280 px, signed in through the login page unless anonymous."""
    return new_page(browser, live, username, width=1280, **options)


def visit(page, url: str, status: int = 200):
    response = page.goto(url)
    assert response is not None and response.status == status, f"{url}: {response and response.status}, not {status}"
    return page


def test_every_page_outside_the_room(browser, live, demo, tmp_path) -> None:
    lib = build_library(demo, tmp_path)
    audit = Audit()
    url = live.url
    contexts = []
    try:
        anonymous = signed_in(browser, live, None)
        contexts.append(anonymous.context)
        audit.page(visit(anonymous, url + "/login/"), "sign-in")
        anonymous.get_by_label("Username").fill("host")
        anonymous.get_by_label("Password").fill("not the password")
        anonymous.get_by_role("button", name="Sign in").click()
        expect(anonymous.get_by_role("alert")).to_be_visible()
        audit.page(anonymous, "sign-in (wrong password)")
        audit.page(visit(anonymous, url + lib.share_url), "share page (anonymous)")
        audit.page(visit(anonymous, url + "/no-such-page/", 404), "404 (anonymous)")
        # A form sent without its CSRF cookie (cookies cleared, a page left open too long): the 403 page.
        visit(anonymous, url + "/login/")
        anonymous.context.clear_cookies()
        anonymous.get_by_label("Username").fill("host")
        anonymous.get_by_label("Password").fill(DEMO_PASSWORD)
        with anonymous.expect_response(url + "/login/") as refused:
            anonymous.get_by_role("button", name="Sign in").click()
        assert refused.value.status == 403
        expect(anonymous.get_by_role("heading", name="Not allowed")).to_be_visible()  # the product's page, not Django's
        audit.page(anonymous, "403: form refused (anonymous)")
        # The 500 page needs nothing but static files; no view here fails, so it is served as Django renders it.
        anonymous.route(url + "/audit-500/", lambda route: route.fulfill(status=500, body=render_to_string("500.html")))
        audit.page(visit(anonymous, url + "/audit-500/", 500), "500")

        host = signed_in(browser, live, "host")
        contexts.append(host.context)
        audit.page(host, "home (host)")
        # Outside the room, notices ("your file is available", kept until dismissed) sit in the page
        # under the top bar: they never cover its heading or navigation.
        expect(host.locator("#notices .notice").first).to_be_visible()
        notices_bottom = (
            host.locator("#notices").bounding_box()["y"] + host.locator("#notices").bounding_box()["height"]
        )
        assert notices_bottom <= host.get_by_role("heading", level=1).bounding_box()["y"], "notices cover the heading"
        audit.page(visit(host, url + "/my-media/"), "my media (host)")
        audit.page(visit(host, url + "/my-media/recycle-bin/"), "recycle bin (host)")
        audit.page(visit(host, url + f"/media/{lib.entry.pk}/"), "entry: recording (owner)")
        audit.page(visit(host, url + f"/media/{lib.upload.pk}/"), "entry: document (room leader)")
        audit.page(visit(host, url + f"/media/{lib.entry.pk}/delete/"), "entry delete (owner)")
        audit.page(visit(host, url + f"/media/{lib.upload.pk}/delete/", 403), "403: not allowed (room leader)")
        audit.page(visit(host, url + "/media/999999/", 404), "404 (signed in)")
        audit.page(visit(host, url + f"/channels/{demo.channel.slug}/media/"), "channel media (owner)")
        audit.page(visit(host, url + f"/rooms/{demo.rooms['single'].pk}/media/"), "room media and files (host)")
        host.get_by_role("link", name="Recordings").first.click()
        expect(host.get_by_role("link", name=lib.entry.title)).to_be_visible()
        audit.page(host, "room media and files: Recordings folder (host)")
        visit(host, url + "/settings/api-tokens/")
        host.get_by_label("Name").fill("Course sync script")
        host.get_by_role("button", name="Create token").click()
        expect(host.get_by_text("mtk_").first).to_be_visible()
        audit.page(host, "api tokens: one just created (host)")
        audit.page(visit(host, url + f"/rooms/{demo.rooms['single'].pk}/webhooks/"), "room webhooks (owner)")

        participant = signed_in(browser, live, "participant")
        contexts.append(participant.context)
        audit.page(participant, "home (participant)")
        audit.page(visit(participant, url + "/my-media/"), "my media (participant)")
        audit.page(visit(participant, url + f"/channels/{demo.channel.slug}/media/"), "channel media (member)")
        audit.page(visit(participant, url + f"/media/{lib.channel_entry.pk}/"), "entry: channel recording (member)")

        outsider = signed_in(browser, live, "outsider")
        contexts.append(outsider.context)
        audit.page(outsider, "home (outsider)")
        audit.page(visit(outsider, url + "/my-media/"), "my media (outsider, empty)")
        audit.page(visit(outsider, url + lib.share_url), "share page (signed in)")

        admin = signed_in(browser, live, "admin")
        contexts.append(admin.context)
        for path, name in (
            ("/admin/", "admin: index"),
            ("/admin/recordings/recording/", "admin: recordings"),
            (f"/admin/recordings/recording/{lib.recording.pk}/change/", "admin: recording"),
            ("/admin/media_library/mediaentry/", "admin: media entries"),
            (f"/admin/media_library/mediaentry/{lib.entry.pk}/change/", "admin: media entry"),
        ):
            audit.page(visit(admin, url + path), name, widths=ADMIN_WIDTHS, elements=False)
    finally:
        for context in contexts:
            context.close()
    assert not audit.findings, audit.report()


def test_the_room_in_each_state(browser, live, demo, tmp_path) -> None:
    lib = build_library(demo, tmp_path)  # the Media and Files panel lists a recording and a file
    room = demo.rooms["single"]
    audit = Audit()
    host = signed_in(browser, live, "host")
    participant = signed_in(browser, live, "participant")
    try:
        for page in (host, participant):
            visit(page, f"{live.url}/rooms/{room.pk}/")
            expect(page.locator("#room")).to_have_attribute("data-ready", "1", timeout=15000)
        audit.page(host, "room: idle (host)")
        # The room fills the window under the top bar, exactly: no page scroll on a desktop.
        assert host.evaluate("document.documentElement.scrollHeight <= innerHeight"), (
            "the room is taller than the window"
        )
        audit.page(participant, "room: idle (participant)")

        host.get_by_role("button", name="More").click()
        expect(host.get_by_role("menu")).to_be_visible()
        audit.page(host, "room: More menu (host)")
        host.get_by_role("menuitem", name="Record").click()
        start = host.get_by_role("dialog", name="Do you want to start recording?")
        expect(start).to_be_visible()
        audit.page(host, "room: start recording dialog")
        start.get_by_role("button", name="Start Recording").click()
        for page in (host, participant):
            expect(notice(page, "This session is being recorded")).to_be_visible(timeout=20000)
        audit.page(host, "room: recording (host)")
        audit.page(participant, "room: recording (participant)")

        host.get_by_role("button", name="More").click()
        host.get_by_role("menuitem", name="Media and Files").click()
        panel = host.locator("#media-panel")
        expect(panel).to_be_visible()
        expect(panel.get_by_role("link", name="Recordings").first).to_be_visible(timeout=10000)
        audit.page(host, "room: Media and Files panel (host)")
        panel.get_by_role("link", name="Recordings").first.click()
        expect(panel.get_by_role("link", name=lib.entry.title)).to_be_visible(timeout=10000)
        audit.page(host, "room: Media and Files panel, Recordings folder (host)")
        panel.get_by_role("button", name="Close Media and Files").click()
        expect(panel).to_be_hidden()

        host.get_by_role("button", name="End session for everyone").click()
        end = host.get_by_role("dialog", name="End the session for everyone?")
        expect(end).to_be_visible()
        audit.page(host, "room: end session dialog")
        end.get_by_role("button", name="Cancel").click()

        host.get_by_role("button", name="More").click()
        host.get_by_role("menuitem", name="Stop recording").click()
        stop = host.get_by_role("dialog", name="Stop recording?")
        expect(stop).to_be_visible()
        audit.page(host, "room: stop recording dialog")
        stop.get_by_role("button", name="Stop recording").click()
        expect(notice(host, "Recording ended, starting upload")).to_be_visible(timeout=10000)
        audit.page(host, "room: recording stopped (host)", widths=(375, 1280))
    finally:
        host.context.close()
        participant.context.close()
    assert not audit.findings, audit.report()


# Every running animation or transition, with reduced motion asked for: none may last (WCAG 2.3.3).
MOVING_JS = """
() => [...document.querySelectorAll("*")].flatMap((el) => {
  const s = getComputedStyle(el);
  const ms = (t) => parseFloat(t) * (t.trim().endsWith("ms") ? 1 : 1000);
  const longest = (list) => Math.max(...list.split(",").map(ms));
  const moving = [];
  if (s.animationName !== "none" && longest(s.animationDuration) > 1) {
    moving.push(`animation ${s.animationName} ${s.animationDuration}`);
  }
  if (longest(s.transitionDuration) > 1) moving.push(`transition ${s.transitionProperty} ${s.transitionDuration}`);
  return moving.map((m) => `${el.tagName.toLowerCase()}.${[...el.classList].join(".")}: ${m}`);
})
"""


def test_dark_scheme_and_reduced_motion(browser, live, demo, tmp_path) -> None:
    """With the system in dark mode, no text below WCAG AA contrast on the pages people live in; with
    reduced motion asked for, nothing pulses or slides (the recording dot, the toasts, the cards)."""
    lib = build_library(demo, tmp_path)
    audit = Audit()
    options = {"color_scheme": "dark", "reduced_motion": "reduce"}
    anonymous = signed_in(browser, live, None, **options)
    host = signed_in(browser, live, "host", **options)
    moving: list[str] = []
    try:
        assert host.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
        dark = {"widths": (1280,), "contrast_only": True}
        audit.page(visit(anonymous, live.url + "/login/"), "dark: sign-in", **dark)
        audit.page(host, "dark: home (host)", **dark)
        audit.page(visit(host, live.url + "/my-media/"), "dark: my media (host)", **dark)
        moving += host.evaluate(MOVING_JS)
        audit.page(visit(host, f"{live.url}/media/{lib.entry.pk}/"), "dark: entry (owner)", **dark)
        audit.page(visit(host, f"{live.url}/channels/{demo.channel.slug}/media/"), "dark: channel media", **dark)
        audit.page(
            visit(host, f"{live.url}/rooms/{demo.rooms['single'].pk}/media/"), "dark: room media and files", **dark
        )
        visit(host, f"{live.url}/rooms/{demo.rooms['single'].pk}/")
        expect(host.locator("#room")).to_have_attribute("data-ready", "1", timeout=15000)
        audit.page(host, "dark: room (host)", **dark)
        moving += host.evaluate(MOVING_JS)
        host.get_by_role("button", name="More").click()
        audit.page(host, "dark: room More menu", **dark)
        host.get_by_role("menuitem", name="Media and Files").click()
        expect(host.locator("#media-panel").get_by_role("link", name="Recordings").first).to_be_visible(timeout=10000)
        audit.page(host, "dark: room Media and Files panel", **dark)
        host.keyboard.press("Escape")
        host.get_by_role("button", name="End session for everyone").click()
        expect(host.get_by_role("dialog", name="End the session for everyone?")).to_be_visible()
        audit.page(host, "dark: room end session dialog", **dark)
    finally:
        anonymous.context.close()
        host.context.close()
    assert not audit.findings, audit.report()
    assert not moving, "moves although reduced motion is asked for:\n" + "\n".join(moving)


def test_keyboard_skip_link_and_focus_rings(browser, live, demo) -> None:
    """The first Tab shows the skip link, Enter moves the focus into the page's main content; every
    focus stop shows a ring that stands out from what is behind it, in the light and the dark theme."""
    host = signed_in(browser, live, "host")
    dark = signed_in(browser, live, "host", color_scheme="dark")
    anonymous = signed_in(browser, live, None)
    try:
        host.keyboard.press("Tab")
        skip = host.get_by_role("link", name="Skip to content")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()
        host.keyboard.press("Enter")
        assert host.evaluate("document.activeElement.id") == "main", "the skip link must move the focus to <main>"

        problems = focus_problems(host, "home")
        problems += focus_problems(visit(host, live.url + "/my-media/"), "my media")
        problems += focus_problems(visit(anonymous, live.url + "/login/"), "sign-in")
        problems += focus_problems(dark, "home (dark)")
        problems += focus_problems(visit(dark, live.url + "/my-media/"), "my media (dark)")
    finally:
        for page in (host, dark, anonymous):
            page.context.close()
    assert not problems, "\n".join(problems)
