"""The Chromium every browser test, benchmark and screenshot runs: Playwright's own switches kept, and the
hidden window furniture that would share the machine's cores with the pages under test turned off."""

from __future__ import annotations

import re
import subprocess

import pytest

from loadtest.browser import WINDOW_UI_FEATURES, command_line, launcher_disabled_features
from tests.browser.conftest import CHROMIUM

pytestmark = pytest.mark.browser


def test_window_ui_off_and_playwrights_switches_kept(browser) -> None:
    # Chromium honours only the last --disable-features: Playwright's comes first, ours after it.
    disabled = set(re.findall(r"--disable-features=(\S+)", command_line(browser))[-1].split(","))
    assert set(WINDOW_UI_FEATURES) <= disabled
    playwrights = launcher_disabled_features(browser.browser_type, CHROMIUM)
    assert playwrights and set(playwrights) <= disabled


def test_no_renderer_for_the_address_bar_popup(browser) -> None:
    """A new context (a new window) starts no top-chrome WebUI renderer: the cost the flags remove."""
    profile = re.search(r"--user-data-dir=(\S+)", command_line(browser))
    assert profile is not None
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto("about:blank")
        page.wait_for_timeout(1000)  # Chromium starts the popup's renderer soon after the window opens
        processes = _descendants(profile.group(1))
    finally:
        context.close()
    assert any("--type=renderer" in args for args in processes)  # the page's own: the walk finds them
    assert not [args for args in processes if "--top-chrome-webui" in args]


def _descendants(profile: str) -> list[str]:
    """Command lines of every process under the Chromium whose profile is `profile` (other browsers of
    a parallel test run are left out)."""
    table = subprocess.run(["ps", "-wweo", "pid=,ppid=,args="], capture_output=True, text=True, check=True).stdout
    rows = [line.split(None, 2) for line in table.splitlines() if len(line.split(None, 2)) == 3]
    roots = {pid for pid, _, args in rows if f"--user-data-dir={profile}" in args and "--type=" not in args}
    found, grew = set(roots), True
    while grew:
        more = {pid for pid, ppid, _ in rows if ppid in found} - found
        found |= more
        grew = bool(more)
    return [args for pid, _, args in rows if pid in found and pid not in roots]
