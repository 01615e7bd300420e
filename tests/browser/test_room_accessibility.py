"""The room by keyboard and screen reader, its live notices, and the Media and Files drawer's fit.

Two pages in all: one host page checks the menu, the dialogs and the drawer (at 1280 and 375 px),
the other records to see notices replace each other and go when dismissed.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from media_library.models import MediaEntry
from tests.browser.conftest import notice

pytestmark = pytest.mark.browser

STARTING = "Recording will start momentarily, please wait"
BEING_RECORDED = "This session is being recorded"
ENDED_LEADERS = "Recording ended, starting upload"
LONG_TITLE = (
    "Weekly planning - recording of Tuesday 14 May 2024, 10:00 (quarterly review with the whole "
    "product team, the roadmap and the hiring plan)"
)

# Every element of `root` whose content is wider than its box, or that reaches past the root's
# edges. Left out: what is not rendered (a closed <details>), the visually-hidden texts (clipped to
# 1 px on purpose) and text fields (their value scrolls inside them by design).
OVERFLOWING = """(selector) => {
  const root = document.querySelector(selector);
  const box = root.getBoundingClientRect();
  const bad = [];
  for (const el of [root, ...root.querySelectorAll("*")]) {
    if (!el.checkVisibility() || el.closest(".visually-hidden") || el.matches("input, textarea, select")) continue;
    const r = el.getBoundingClientRect();
    const wide = el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0;
    const out = r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1);
    if (wide || out) bad.push(`${el.tagName}.${el.className} ${el.scrollWidth}>${el.clientWidth} ${r.left}-${r.right}`);
  }
  return bad;
}"""


def focused(page: Page) -> str:
    """The focused element, as `tag#id` or `tag.class` (enough to tell the room's controls apart)."""
    result: str = page.evaluate(
        "() => { const e = document.activeElement; return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')"
        " + (e.getAttribute('role') ? '[' + e.getAttribute('role') + ']' : '') + ' ' + e.textContent.trim(); }"
    )
    return result


def check_drawer_fits(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    drawer = page.locator("#media-panel")
    expect(drawer.get_by_role("link", name=LONG_TITLE)).to_be_visible()
    assert page.evaluate(OVERFLOWING, "#media-panel") == [], width
    box: Any = drawer.bounding_box()
    if width <= 480:
        assert box["x"] == 0 and box["width"] == width, box  # a phone: the whole width
    # A long name takes at most two lines (its full text is the link's name and its tooltip), and
    # its actions button is inside the drawer, not pushed off it.
    title = drawer.locator(".mf-title", has_text=LONG_TITLE)
    lines = page.evaluate(
        "(el) => Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight))",
        title.element_handle(),
    )
    assert lines <= 2, (width, lines)
    actions = drawer.get_by_label(f"Actions for {LONG_TITLE}", exact=True)
    actions_box: Any = actions.bounding_box()
    assert actions_box["x"] + actions_box["width"] <= box["x"] + box["width"], (actions_box, box)


def test_menu_dialogs_and_drawer_by_keyboard_and_the_drawer_fits(live, demo, join_room) -> None:
    room = demo.rooms["single"]
    host = demo.users["host"]
    MediaEntry.objects.create(
        title=LONG_TITLE, owner=host, creator=host, kind="video", size=48_000_000, duration=3723.4, room=room
    )
    (page,) = join_room(room, "host")
    page.set_viewport_size({"width": 1280, "height": 800})
    more = page.locator("#btn-more")

    # The counter is a timer with a name, never read out every second; the indicator is a status.
    expect(page.get_by_role("timer", name="Recording time", include_hidden=True)).to_have_attribute("aria-live", "off")
    expect(page.locator("#rec-indicator")).to_have_attribute("role", "status")

    # The three-dots menu: Enter opens it on its first item, arrows move (and wrap), Escape closes
    # it and gives the focus back to its button.
    more.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("menu")).to_be_visible()
    expect(more).to_have_attribute("aria-expanded", "true")
    assert focused(page) == "button#menu-record[menuitem] Record"
    page.keyboard.press("ArrowDown")
    assert focused(page) == "button#menu-media[menuitem] Media and Files"  # Stop recording is hidden
    page.keyboard.press("ArrowDown")
    assert focused(page) == "button#menu-record[menuitem] Record"
    page.keyboard.press("ArrowUp")
    assert focused(page) == "button#menu-media[menuitem] Media and Files"
    page.keyboard.press("Escape")
    expect(page.get_by_role("menu")).to_be_hidden()
    expect(more).to_have_attribute("aria-expanded", "false")
    # The focus comes back on the dialog's or menu's "close", an event queued after it hides: waited for.
    expect(more).to_be_focused()

    # Space opens it too; Record opens the confirmation with the focus in it; Escape closes it and
    # the focus is back on the menu's button (the item that opened it is hidden by then).
    page.keyboard.press(" ")
    expect(page.get_by_role("menuitem", name="Record")).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Do you want to start recording?")
    expect(dialog).to_be_visible()
    assert page.evaluate("() => document.getElementById('dlg-start').contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(more).to_be_focused()

    # End session: same, and the focus goes back to its own button.
    page.locator("#btn-end").focus()
    page.keyboard.press("Enter")
    end = page.get_by_role("dialog", name="End the session for everyone?")
    expect(end).to_be_visible()
    assert page.evaluate("() => document.getElementById('dlg-end').contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(end).to_be_hidden()
    expect(page.locator("#btn-end")).to_be_focused()
    # Its "close" event comes a task after it hid: a focus moved in between (a click, a key on a
    # busy page) is kept, not taken back to the button that opened it.
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 50))")  # the Escape's "close" has run
    page.keyboard.press("Enter")
    expect(end).to_be_visible()
    moved_to = page.evaluate(
        """async () => {
        document.getElementById("dlg-end").close();
        document.getElementById("btn-more").focus();
        await new Promise((resolve) => setTimeout(resolve, 100));
        return document.activeElement.id;
      }"""
    )
    assert moved_to == "btn-more"

    # The drawer: opened from the menu by keyboard, the focus moves into it; Escape closes it and
    # gives the focus back.
    more.focus()
    page.keyboard.press("ArrowUp")  # opens on the last item
    assert focused(page) == "button#menu-media[menuitem] Media and Files"
    page.keyboard.press("Enter")
    drawer = page.get_by_role("dialog", name="Media and Files")
    expect(drawer).to_be_visible()
    assert page.evaluate("() => document.getElementById('media-panel').contains(document.activeElement)")
    check_drawer_fits(page, 1280)
    check_drawer_fits(page, 375)
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(more).to_be_focused()


def test_live_notices_replace_the_ones_they_supersede_and_each_can_be_dismissed(live, demo, join_room) -> None:
    (page,) = join_room(demo.rooms["single"], "host")
    expect(page.locator("#notices")).to_have_attribute("aria-live", "polite")
    page.get_by_role("button", name="More").click()
    page.get_by_role("menuitem", name="Record").click()
    confirm = page.get_by_role("dialog", name="Do you want to start recording?")
    confirm.get_by_role("button", name="Start Recording").click()
    expect(notice(page, STARTING)).to_be_visible(timeout=10000)
    expect(notice(page, STARTING).get_by_role("button", name="Dismiss notice")).to_be_visible()

    # "This session is being recorded" replaces "Recording will start momentarily": one notice left.
    expect(notice(page, BEING_RECORDED)).to_be_visible(timeout=20000)
    expect(notice(page, STARTING)).to_have_count(0)
    # On a phone there is no room beside the title: the notice is under the top bar, not over the name.
    page.set_viewport_size({"width": 375, "height": 812})
    notice_box: Any = notice(page, BEING_RECORDED).bounding_box()
    title_box: Any = page.get_by_role("heading", level=1).bounding_box()
    assert notice_box["y"] + notice_box["height"] <= title_box["y"], (notice_box, title_box)
    assert page.evaluate(OVERFLOWING, "#notices") == []
    page.set_viewport_size({"width": 1280, "height": 800})

    # Stopping: "Recording ended, starting upload" replaces "This session is being recorded".
    page.locator("#rec-stop").click()
    page.get_by_role("dialog", name="Stop recording?").get_by_role("button", name="Stop recording").click()
    expect(notice(page, ENDED_LEADERS)).to_be_visible(timeout=10000)
    expect(notice(page, BEING_RECORDED)).to_have_count(0)
    expect(page.locator("#notices .notice")).to_have_count(1)

    # Its dismiss button removes it, and by keyboard too.
    dismiss = notice(page, ENDED_LEADERS).get_by_role("button", name="Dismiss notice")
    dismiss.focus()
    page.keyboard.press("Enter")
    expect(notice(page, ENDED_LEADERS)).to_have_count(0)
