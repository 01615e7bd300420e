"""Presenting from Media and Files in real Chromium pages (issue 11): a 3-page PDF and a video.

Every page shows page 2 after the presenter turns to it (the image's page marker, its URL and its
pixels read back through a canvas); a late joiner lands on page 2; viewers have no controls; a presented
video plays at the same position on every page, within 0.5 s, read against each page's server clock.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from media_library.models import MediaEntry
from tests.live.conftest import make_webm
from tests.presenting import PAGE_COLORS, make_pdf, room_file

pytestmark = pytest.mark.django_db(transaction=True)

# The colour at a point of the shown image, read through a canvas (same-origin, so readable).
PIXEL_JS = """
([x, y]) => {
  const img = document.getElementById("presentation-image");
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  return Array.from(ctx.getImageData(Math.round(x * img.naturalWidth), Math.round(y * img.naturalHeight), 1, 1).data)
    .slice(0, 3);
}
"""

# (video position, server clock) on this page, read together.
VIDEO_JS = """
() => {
  const video = document.getElementById("presentation-video");
  return { position: video.currentTime, server: window.roomPresentation.serverNow(), paused: video.paused };
}
"""


# Stops the stage image's load event before the page's own listener hears it (capture phase, at the
# document: a load event never reaches the window). A page must then show a preloaded page without it
# (presentation.js, showImage).
BLOCK_STAGE_LOAD_JS = """
() => document.addEventListener("load", (e) => {
  if (e.target && e.target.id === "presentation-image") e.stopImmediatePropagation();
}, true)
"""
PRELOADED_JS = """
(pages) => pages.every((n) => performance.getEntriesByType("resource")
  .some((e) => e.name.endsWith(`/pages/${n}/`) && e.responseEnd > 0))
"""


def close_to(a, b, tolerance: int = 30) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def present_from_panel(host, title: str) -> None:
    """The host presents as people do: More, Media and Files, the row's Present button."""
    host.get_by_role("button", name="More").click()
    host.get_by_role("menuitem", name="Media and Files").click()
    host.get_by_role("button", name=f"Present {title}").click()


def shows_page(page, number: int) -> None:
    stage = page.locator("#stage-presentation")
    expect(stage).to_be_visible(timeout=20000)
    expect(stage).to_have_attribute("data-shown-page", str(number), timeout=20000)
    expect(page.locator("#stage")).to_have_attribute("data-stage-kind", "presentation")
    src = page.locator("#presentation-image").get_attribute("src")
    assert src is not None and src.endswith(f"/pages/{number}/")
    # The slide's colour (its right half) and its bar, as long as its page number, in the image shown.
    assert close_to(page.evaluate(PIXEL_JS, [0.95, 0.5]), PAGE_COLORS[number - 1])
    bar_end = (20 + number * 80) / 640
    assert close_to(page.evaluate(PIXEL_JS, [bar_end - 0.02, 1 - 35 / 360]), (0, 0, 0))
    assert close_to(page.evaluate(PIXEL_JS, [bar_end + 0.02, 1 - 35 / 360]), PAGE_COLORS[number - 1])


def test_a_presented_pdf_shows_the_same_page_everywhere(live, demo, join_room) -> None:
    room = demo.rooms["single"]
    entry = room_file(
        room, demo.users["host"], name="Quarterly slides.pdf", data=make_pdf(3),
        kind=MediaEntry.Kind.DOCUMENT, content_type="application/pdf",
    )  # fmt: skip
    host, participant, coeditor = join_room(room, "host", "participant", "coeditor")
    present_from_panel(host, entry.title)
    for page in (host, participant, coeditor):
        shows_page(page, 1)
    # Viewers see no controls; the presenter does.
    expect(host.locator("#presentation-controls")).to_be_visible()
    assert participant.locator("#presentation-controls").count() == 0  # not even in a participant's page
    expect(coeditor.locator("#presentation-controls")).to_be_hidden()  # a host who is not presenting

    # The participant's page has the next two pages fetched already: it shows them at once, with no
    # wait for the image's load event (here never heard at all). Before, it waited for that event.
    participant.wait_for_function(PRELOADED_JS, arg=[2, 3], timeout=20000)
    participant.wait_for_timeout(1000)  # fetched, then taken into the page's available images
    participant.evaluate(BLOCK_STAGE_LOAD_JS)
    host.get_by_role("button", name="Next page").click()
    for page in (host, participant, coeditor):
        shows_page(page, 2)
    expect(host.get_by_label("Go to page")).to_have_value("2")

    late = join_room(room, "moderator")[0]
    shows_page(late, 2)
    expect(late.locator("#presentation-controls")).to_be_hidden()

    # Go to page 3 by number, back with the keyboard, then stop: the stage empties everywhere.
    host.get_by_label("Go to page").fill("3")
    host.get_by_label("Go to page").press("Enter")
    shows_page(participant, 3)
    host.locator("#presentation-prev").focus()
    host.keyboard.press("ArrowLeft")
    shows_page(late, 2)
    host.get_by_role("button", name="Stop presenting").click()
    for page in (host, participant, coeditor, late):
        expect(page.locator("#stage-presentation")).to_be_hidden(timeout=20000)
        expect(page.locator("#stage")).not_to_have_attribute("data-stage-kind", "presentation")


def test_a_presented_video_plays_in_step_on_every_page(live, demo, join_room, tmp_path) -> None:
    room = demo.rooms["single"]
    data = make_webm(tmp_path / "clip.webm", seconds=30.0)
    entry = room_file(
        room, demo.users["host"], name="Product demo.webm", data=data,
        kind=MediaEntry.Kind.VIDEO, content_type="video/webm", duration=30.0,
    )  # fmt: skip
    host, viewer_a, viewer_b = join_room(room, "host", "participant", "moderator")
    present_from_panel(host, entry.title)
    for page in (host, viewer_a, viewer_b):
        expect(page.locator("#presentation-video")).to_be_visible(timeout=20000)
    assert host.locator("#presentation-video").evaluate("v => v.controls") is True
    assert viewer_a.locator("#presentation-video").evaluate("v => v.controls") is False

    # The presenter plays, then seeks to 12 s, with the video's own controls (here, as scripts press them).
    host.locator("#presentation-video").evaluate("v => v.play()")
    host.wait_for_timeout(1500)
    host.locator("#presentation-video").evaluate("v => { v.currentTime = 12; }")
    for page in (viewer_a, viewer_b):
        page.wait_for_function(
            "() => { const v = document.getElementById('presentation-video'); return !v.paused && v.currentTime > 12 }",
            timeout=20000,
        )
    host.wait_for_timeout(2000)  # let each page's sync loop settle, as a person would watch
    for _ in range(5):
        readings = [page.evaluate(VIDEO_JS) for page in (host, viewer_a, viewer_b)]
        assert not any(r["paused"] for r in readings), readings
        # Each page's video started (position 0) at server time `server - position`: the same for all.
        starts = [r["server"] - r["position"] for r in readings]
        assert max(starts) - min(starts) < 0.5, readings
        host.wait_for_timeout(700)

    # Paused by the presenter: everyone stops at the same position.
    host.locator("#presentation-video").evaluate("v => v.pause()")
    for page in (viewer_a, viewer_b):
        page.wait_for_function("() => document.getElementById('presentation-video').paused", timeout=15000)
    host.wait_for_timeout(1500)
    positions = [page.evaluate(VIDEO_JS)["position"] for page in (host, viewer_a, viewer_b)]
    assert max(positions) - min(positions) < 0.5, positions
    assert min(positions) > 12
