"""Chromium launched for the browser tests, the benchmarks and the README's screenshots, and a page
signed in through the login form as a person does (tests/browser/conftest.py, bench/, scripts/)."""

from __future__ import annotations

import re
from typing import Any

# Chromium's own window furniture that every new window (a Playwright context is one) loads into a
# renderer process of its own, even headless, where nothing ever shows it: the address bar's
# suggestion popup, a WebUI page. On the 2-core machine it took 0.75 s of CPU in the first 0.8 s of
# each new context, i.e. in the middle of the join the meeting benchmark measures, on the cores the
# four meeting pages share (a Chrome trace, docs/benchmarks.md, session 10). A person's browser does
# this once per window on their own machine, not once per page they open.
WINDOW_UI_FEATURES = ("WebUIOmniboxPopup", "WebUIOmniboxFullPopup", "WebUIOmniboxAimPopup")


def launch_chromium(browser_type: Any, executable: str, args: list[str], *, window_ui: bool = False) -> Any:
    """Headless Chromium with `args`, without the window furniture above unless `window_ui`.

    Chromium honours only the last `--disable-features` of its command line, and Playwright passes
    its own list first: ours is merged with it (and with any in `args`), not put after it, which
    would turn Playwright's back on."""
    if window_ui:
        return browser_type.launch(executable_path=executable, args=args, headless=True)
    given = [arg for arg in args if arg.startswith("--disable-features=")]
    rest = [arg for arg in args if arg not in given]
    features = [*launcher_disabled_features(browser_type, executable), *WINDOW_UI_FEATURES]
    for arg in given:
        features += arg.split("=", 1)[1].split(",")
    merged = ",".join(dict.fromkeys(f for f in features if f))
    return browser_type.launch(executable_path=executable, args=[*rest, f"--disable-features={merged}"], headless=True)


def command_line(browser: Any) -> str:
    """The command line a running Chromium was started with, as chrome://version shows it."""
    page = browser.new_page()
    try:
        page.goto("chrome://version")
        return str(page.inner_text("#command_line"))
    finally:
        page.close()


_launcher_features: dict[str, tuple[str, ...]] = {}


def launcher_disabled_features(browser_type: Any, executable: str) -> tuple[str, ...]:
    """The features Playwright disables for this Chromium, read off a first launch's command line
    (Playwright does not export its list); once per process."""
    if executable not in _launcher_features:
        probe = browser_type.launch(executable_path=executable, args=["--no-sandbox"], headless=True)
        try:
            found = re.search(r"--disable-features=(\S+)", command_line(probe))
        finally:
            probe.close()
        _launcher_features[executable] = tuple(found.group(1).split(",")) if found else ()
    return _launcher_features[executable]


def sign_in(page: Any, base_url: str, username: str, password: str) -> None:
    """Fill in and send the login form at `base_url`; return once the home page is reached."""
    page.goto(base_url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base_url + "/")
