"""Consent in two real Chromium pages (issue 12): the participant is asked when the host starts
recording, declines and is not recorded (nothing uploaded, nothing stored, so nothing composed),
then changes their mind from the room and is recorded from then on."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from meetings.models import Room
from recordings.models import ConsentAnswer, Recording, Segment, Track
from tests.browser.conftest import notice

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/consent")
# The docs' words (docs/notices.md), spelled out so the test checks the product against them.
QUESTION = "Do you agree to be recorded?"
DECLINED = "You are not being recorded: your camera, microphone and screen are left out of the recording."
AGREED = "You agreed to be recorded: your camera, microphone and screen are part of the recording."


def segments_of(recording: Recording, username: str) -> int:
    return Segment.objects.filter(track__recording=recording, track__user__username=username).count()


def wait_until(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.3)


def test_a_decliner_is_not_recorded_until_they_agree(live, demo, join_room) -> None:
    room = demo.rooms["single"]
    Room.objects.filter(pk=room.pk).update(ask_recording_consent=True)
    host, participant = join_room(room, "host", "participant")
    expect(participant.get_by_role("dialog", name=QUESTION)).to_have_count(0)  # nothing to answer yet

    host.get_by_role("button", name="More").click()
    host.get_by_role("menuitem", name="Record").click()
    host.get_by_role("button", name="Start Recording").click()

    # Everyone is asked, the host too; the host agrees.
    for page in (host, participant):
        expect(page.get_by_role("dialog", name=QUESTION)).to_be_visible(timeout=10000)
    host.get_by_role("button", name="I agree").click()
    expect(notice(host, AGREED)).to_be_visible(timeout=10000)

    dialog = participant.get_by_role("dialog", name=QUESTION)
    dialog.get_by_text("Who will have access to the recording").click()
    expect(dialog.get_by_text("The room's owner, Hana Host.")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    participant.set_viewport_size({"width": 1280, "height": 800})
    participant.screenshot(path=str(SHOTS / "dialog-1280.png"))
    dialog.get_by_role("button", name="No, don't record me").click()
    expect(dialog).to_be_hidden()
    expect(notice(participant, DECLINED)).to_be_visible(timeout=10000)
    status = participant.locator("#consent-status")
    expect(status).to_be_visible()
    expect(status).to_contain_text("Not recorded")
    expect(participant.locator("#room")).to_have_attribute("data-consent", "decline")
    expect(participant.locator("#room")).not_to_have_attribute("data-capturing", "1")
    participant.screenshot(path=str(SHOTS / "declined-1280.png"))

    # The host is recorded; the participant's browser sends nothing and nothing of theirs is stored.
    recording = Recording.objects.get(room=room)
    wait_until(lambda: segments_of(recording, "host") >= 2)  # the short first one and a full one
    assert not Track.objects.filter(recording=recording, user__username="participant").exists()
    answer = ConsentAnswer.objects.get(recording=recording, user__username="participant")
    assert answer.answer == "decline"

    # They change their mind from the room.
    participant.set_viewport_size({"width": 375, "height": 740})
    participant.screenshot(path=str(SHOTS / "declined-375.png"))
    status.get_by_role("button", name="Change").click()
    expect(dialog).to_be_visible()
    participant.screenshot(path=str(SHOTS / "dialog-375.png"))
    dialog.get_by_role("button", name="I agree").click()
    expect(notice(participant, AGREED)).to_be_visible(timeout=10000)
    expect(status).to_be_hidden()
    expect(participant.locator("#room")).to_have_attribute("data-capturing", "1")
    agreed_at = ConsentAnswer.objects.get(pk=answer.pk).answered_at
    wait_until(lambda: segments_of(recording, "participant") >= 1)
    # Everything of theirs on the timeline begins after they agreed: the composition never has them before.
    origin = recording.created_at.timestamp()
    first = Segment.objects.filter(track__recording=recording, track__user__username="participant").order_by("start")
    assert first[0].start >= agreed_at.timestamp() - origin - 1.0  # within the clock correction's slack
    assert set(ConsentAnswer.objects.get(pk=answer.pk).history[i]["answer"] for i in (0, 1)) == {"decline", "agree"}
