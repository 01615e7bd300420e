"""The library pages with the keyboard, in real Chromium: the Home page's channel card leads to the channel's
Media tab, an entry opened there says so in its breadcrumb, durations read as the player shows them, and every
control shows where the focus is. (axe-core and the layout widths run for every page in tests/browser/test_audit.py.)
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import expect

from media_library import services as library
from media_library.models import MediaEntry
from meetings.models import LiveSession
from meetings.services import DemoData
from recordings.models import Recording
from tests.library.conftest import write_mp4

pytestmark = pytest.mark.browser

# What the keyboard focus looks like: the element's own outline or box-shadow, its ::after's (a card-wide
# link), or an ancestor's that draws it for a hidden control (.file-btn:focus-within around its file input).
FOCUSED_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const shows = (node, pseudo) => {
    const s = getComputedStyle(node, pseudo);
    return (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || (s.boxShadow || "none") !== "none";
  };
  let visible = shows(el) || shows(el, "::after");
  for (let node = el.parentElement; !visible && node && node !== document.body; node = node.parentElement) {
    visible = shows(node);
  }
  const label = (el.getAttribute("aria-label") || el.textContent || el.getAttribute("name") || "").trim().slice(0, 40);
  return { key: el.tagName + "|" + label + "|" + (el.id || el.getAttribute("href") || ""), visible };
}
"""


def channel_recording(demo: DemoData, tmp_path: Path) -> MediaEntry:
    """A published recording of the channel's room (owner: host), 61.57 s as its probe would say."""
    room, host = demo.rooms["channel"], demo.users["host"]
    now = timezone.now()
    session = LiveSession.objects.create(
        room=room, state=LiveSession.State.ENDED, started_at=now - timedelta(minutes=2), ended_at=now,
        end_reason=LiveSession.EndReason.ENDED_BY_HOST, max_end_at=now + timedelta(hours=1),
    )  # fmt: skip
    recording = Recording.objects.create(
        room=room, session=session, started_by=host, state=Recording.State.PROCESSING,
        started_at=now - timedelta(minutes=2), cap_deadline=now, first_media_deadline=now, duration=1.0,
    )  # fmt: skip
    entry = library.publish_recording(recording=recording, mp4_path=str(write_mp4(tmp_path / "c.mp4", seconds=1.0)))
    MediaEntry.objects.filter(pk=entry.pk).update(duration=61.57)
    return entry


def tab_through(page, stops: int = 60) -> list[str]:
    """Press Tab through the page; the tab stops that show no focus indicator."""
    page.locator("body").click(position={"x": 1, "y": 1})  # start from the top of the document
    unseen: list[str] = []
    seen: set[str] = set()
    for _ in range(stops):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_JS)
        if focused is None or focused["key"] in seen:
            if focused is not None and focused["key"].startswith("VIDEO"):
                continue  # the player's own controls take several Tabs inside one <video>
            break
        seen.add(focused["key"])
        if not focused["visible"]:
            unseen.append(focused["key"])
    assert seen, "no tab stop at all"
    return unseen


def test_from_home_to_a_channel_recording_with_the_keyboard(live, demo, sign_in, tmp_path) -> None:
    entry = channel_recording(demo, tmp_path)
    channel = demo.channel
    unseen: dict[str, list[str]] = {}

    member = sign_in("participant")  # a channel member: the recording is not in their My Media
    unseen["home"] = tab_through(member)
    card = member.get_by_role("link", name=f"{channel.name} media")
    card.focus()
    expect(card).to_be_focused()
    member.keyboard.press("Enter")
    member.wait_for_url(f"{live.url}/channels/{channel.slug}/media/")
    unseen["channel media"] = tab_through(member)

    title = member.get_by_role("link", name=entry.title)
    title.focus()
    member.keyboard.press("Enter")
    member.wait_for_url(f"{live.url}/media/{entry.pk}/?from=channel:{channel.slug}")
    crumbs = member.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs.get_by_role("link")).to_have_text([f"{channel.name} · Media"])
    expect(member.locator(".facts")).to_contain_text("1:01")
    unseen["entry (member)"] = tab_through(member)

    host = sign_in("host")  # the owner: every control of the entry page, My Media, the room's files
    for name, path in (
        ("my media", "/my-media/"),
        ("entry (owner)", f"/media/{entry.pk}/?from=room:{entry.room_id}"),
        ("delete confirmation", f"/media/{entry.pk}/delete/"),
        ("room media and files", f"/rooms/{entry.room_id}/media/?folder={entry.folder_id}"),
    ):
        host.goto(live.url + path)
        unseen[name] = tab_through(host)
    assert {name: keys for name, keys in unseen.items() if keys} == {}, "tab stops without a visible focus"

    # A file name without spaces, in the breadcrumb of a phone-wide page, wraps instead of widening it.
    long_name = SimpleUploadedFile("Product_team_roadmap_and_decisions_2026_final.pdf", b"%PDF-1.4", "application/pdf")
    upload = library.upload_room_file(room=entry.room, user=demo.users["host"], uploaded=long_name, folder=None)
    host.set_viewport_size({"width": 375, "height": 800})
    host.goto(f"{live.url}/media/{upload.pk}/?from=room:{entry.room_id}")
    expect(host.get_by_role("navigation", name="Breadcrumb").get_by_role("link")).to_have_text(
        [entry.room.title, "Media and Files"]
    )
    width = host.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"the entry page is {width[0]} px wide in a {width[1]} px window"
