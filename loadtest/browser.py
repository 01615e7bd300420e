"""Signing a Playwright page in through the login form, as a person does: shared by the browser tests
(tests/browser/conftest.py), the meeting benchmark and the README's screenshots."""

from __future__ import annotations

from typing import Any


def sign_in(page: Any, base_url: str, username: str, password: str) -> None:
    """Fill in and send the login form at `base_url`; return once the home page is reached."""
    page.goto(base_url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base_url + "/")
