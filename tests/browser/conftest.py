"""Real Chromium (Debian's) driven by Playwright, with fake camera and microphone."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from loadtest.browser import launch_chromium
from loadtest.browser import sign_in as sign_in_form
from tests.conftest import DEMO_PASSWORD
from tests.live.conftest import live, live_server_process  # noqa: F401  (fixtures reused here)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--auto-select-desktop-capture-source=Entire screen",
]


@pytest.fixture(scope="module")
def browser(live_server_process) -> Iterator[object]:  # noqa: F811  (the server starts first, without the flag)
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"Chromium is required here but {CHROMIUM} is missing")
        pytest.skip("no system Chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on the main thread while it runs; the ORM calls in
    # these tests are still plain synchronous calls, which this flag (documented for Playwright)
    # allows. It is set only while the browser is open, and never reaches a server process.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p.chromium, CHROMIUM, CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def launch_browser(browser) -> Iterator[object]:
    """Start another Chromium with extra flags, for what is set per browser process (e.g. a WAV file
    as the fake microphone: `--use-file-for-fake-audio-capture`); closed after the test. The shared
    `browser` keeps the default flags, so other tests are not slowed."""
    launched = []

    def _launch(*extra_args: str):
        other = launch_chromium(browser.browser_type, CHROMIUM, [*CHROMIUM_ARGS, *extra_args])
        launched.append(other)
        return other

    yield _launch
    for other in launched:
        other.close()


def new_page(browser, live, username: str | None, *, width: int = 1366, **options: object):  # noqa: F811
    """A page in a fresh context (camera and microphone allowed), signed in through the login page as
    a person would, unless `username` is None (anonymous)."""
    context = browser.new_context(viewport={"width": width, "height": 800}, **options)
    context.grant_permissions(["camera", "microphone"], origin=live.url)
    page = context.new_page()
    if username is not None:
        sign_in_form(page, live.url, username, DEMO_PASSWORD)
    return page


@pytest.fixture
def sign_in(browser, live):  # noqa: F811
    """Open a fresh browser context and sign in through the login page, as a person would."""
    contexts = []

    def _sign_in(username: str):
        page = new_page(browser, live, username)
        contexts.append(page.context)
        return page

    yield _sign_in
    for context in contexts:
        context.close()


def start_recording(host) -> None:
    """A leader starts a recording as people do: More, Record, then "Start Recording" in the dialog."""
    host.get_by_role("button", name="More").click()
    host.get_by_role("menuitem", name="Record").click()
    host.get_by_role("dialog", name="Do you want to start recording?").get_by_role(
        "button", name="Start Recording"
    ).click()


def notice(page, text: str):
    """A notice toast with exactly this text."""
    return page.locator(f'#notices .notice[data-text="{text}"]').first


@pytest.fixture
def join_room(live, sign_in):  # noqa: F811
    """Sign people in and open the room page for each, ready (socket connected, state received)."""
    from playwright.sync_api import expect

    def _join(room, *usernames: str) -> list:
        pages = []
        for username in usernames:
            page = sign_in(username)
            page.goto(f"{live.url}/rooms/{room.pk}/")
            expect(page.locator("#room")).to_have_attribute("data-ready", "1", timeout=15000)
            pages.append(page)
        return pages

    return _join
