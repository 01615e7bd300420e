"""The live meeting in real Chromium (issue 11): three people see and hear each other over the mesh.

Fake camera and microphone (Chromium's moving test pattern and beep); getStats on each page's own
peer connections proves frames are decoded and sound received, not only that tiles exist.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.browser.pages import Audit

pytestmark = pytest.mark.browser

# Small frames for the test (3 pages encode and decode on a shared 2-core machine), and a hand on
# every peer connection the page makes, for getStats. The product's own code is unchanged.
TEST_HOOKS = """
(() => {
  const small = { width: { ideal: 320 }, height: { ideal: 180 }, frameRate: { ideal: 15 } };
  const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (c) => gum(c && c.video ? { ...c, video: small } : c);
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = function (...args) {
    const pc = new Native(...args);
    window.__pcs.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Native.prototype;
})();
"""

# Per open peer connection: video frames decoded and audio samples received (inbound-rtp).
STATS = """
async () => {
  const out = [];
  for (const pc of window.__pcs.filter((pc) => pc.connectionState !== "closed")) {
    const row = { state: pc.connectionState, frames: 0, samples: 0, energy: 0 };
    (await pc.getStats()).forEach((s) => {
      if (s.type !== "inbound-rtp") return;
      if (s.kind === "video") row.frames += s.framesDecoded || 0;
      if (s.kind === "audio") { row.samples += s.totalSamplesReceived || 0; row.energy += s.totalAudioEnergy || 0; }
    });
    out.push(row);
  }
  return out;
}
"""

# The encodings of the camera video each open peer connection sends (mesh.js limits them).
CAMERA_SENT = """
() => window.__pcs.filter((pc) => pc.connectionState !== "closed").map((pc) =>
  pc.getSenders().filter((s) => s.track && s.track.kind === "video").map((s) => s.getParameters().encodings[0]))
"""

NAMES = {"host": "Hana Host", "moderator": "Milo Moderator", "participant": "Pia Participant"}


@pytest.fixture
def meet(live, sign_in):
    def _meet(room, *usernames: str) -> dict:
        pages = {}
        for username in usernames:
            page = sign_in(username)
            page.context.add_init_script(TEST_HOOKS)
            page.goto(f"{live.url}/rooms/{room.pk}/")
            expect(page.locator("#room")).to_have_attribute("data-ready", "1", timeout=15000)
            pages[username] = page
        return pages

    return _meet


def remote_tile(page, name: str):
    return page.locator("#tiles .tile-remote").filter(has=page.locator(".tile-name", has_text=name))


def wait_media_flowing(page, peers: int, timeout: float = 40.0) -> list[dict]:
    """Every one of `peers` connections decodes more frames and receives more sound over a second."""
    deadline = time.monotonic() + timeout
    last: list[dict] = []
    while time.monotonic() < deadline:
        before = page.evaluate(STATS)
        page.wait_for_timeout(1000)
        after = page.evaluate(STATS)
        last = after
        if len(before) == len(after) == peers and all(
            a["frames"] > b["frames"] > 0 and a["samples"] > b["samples"] > 0 and a["energy"] > 0
            for b, a in zip(before, after, strict=True)
        ):
            return after
    raise AssertionError(f"media not flowing on {page.url}: {last}")


def test_three_people_see_and_hear_each_other(live, demo, meet) -> None:
    room = demo.rooms["single"]
    pages = meet(room, "host", "moderator", "participant")

    for username, page in pages.items():
        others = [name for who, name in NAMES.items() if who != username]
        expect(page.locator("#tiles .tile-remote")).to_have_count(2, timeout=20000)
        for name in others:
            expect(remote_tile(page, name)).to_be_visible()
        wait_media_flowing(page, peers=2)
        # Chromium took the mesh's cap on the camera video sent to each peer (CAMERA_SEND_LIMITS).
        sent = page.evaluate(CAMERA_SENT)
        assert len(sent) == 2 and all(len(senders) == 1 for senders in sent), sent
        assert all(s[0]["maxBitrate"] == 800000 and s[0]["maxFramerate"] == 24 for s in sent), sent
        # The participant list: everyone, with roles, and the count.
        page.get_by_role("button", name="People").click()
        panel = page.get_by_role("dialog", name="People (3)")
        expect(panel).to_be_visible()
        people = panel.locator(".person")
        expect(people).to_have_count(3)
        for who, name in NAMES.items():
            expect(panel.locator(f'.person[data-role="{who}"] .person-name')).to_contain_text(name)
        page.get_by_role("button", name="Close the participant list").click()
        expect(panel).to_be_hidden()

    # Gallery while nothing is presented: the stage steps aside, the tiles fill the room.
    host = pages["host"]
    expect(host.locator("#stage")).to_have_attribute("data-has-content", "0")
    expect(host.locator("#tiles")).to_have_attribute("data-count", "3")
    # The accessibility and layout gate (tests/browser/pages.py) on the gallery and the open list.
    audit = Audit()
    audit.page(host, "room: gallery of 3 (host)")
    host.get_by_role("button", name="People").click()
    expect(host.get_by_role("dialog", name="People (3)")).to_be_visible()
    audit.page(host, "room: participant list (host)")
    host.get_by_role("button", name="Close the participant list").click()
    host.set_viewport_size({"width": 1366, "height": 800})
    assert not audit.findings, audit.report()

    # Microphone and camera off are seen by the others.
    participant = pages["participant"]
    participant.get_by_role("button", name="Mic").click()
    participant.get_by_role("button", name="Camera").click()
    for who in ("host", "moderator"):
        tile = remote_tile(pages[who], "Pia Participant")
        expect(tile).to_have_attribute("data-mic", "0")
        expect(tile).to_have_attribute("data-cam", "0")
        expect(tile.get_by_role("img", name="Microphone off")).to_be_visible()
        expect(tile.locator(".tile-nocam")).to_be_visible()
    participant.get_by_role("button", name="Mic").click()
    participant.get_by_role("button", name="Camera").click()
    expect(remote_tile(host, "Pia Participant")).to_have_attribute("data-mic", "1")
    expect(remote_tile(host, "Pia Participant")).to_have_attribute("data-cam", "1")

    # A host mutes the participant from the list; the participant is told and may unmute.
    host.get_by_role("button", name="People").click()
    host.get_by_role("button", name="Mute Pia Participant").click()
    expect(participant.get_by_role("button", name="Mic")).to_have_attribute("aria-pressed", "false")
    expect(participant.locator("#notices")).to_contain_text("A host or moderator muted your microphone.")
    expect(remote_tile(pages["moderator"], "Pia Participant")).to_have_attribute("data-mic", "0")
    # The host's list (still open) offers Mute only while the microphone is on.
    expect(host.get_by_role("button", name="Mute Pia Participant")).to_have_count(0)
    participant.get_by_role("button", name="Mic").click()
    expect(remote_tile(pages["moderator"], "Pia Participant")).to_have_attribute("data-mic", "1")
    expect(host.get_by_role("button", name="Mute Pia Participant")).to_have_count(1)

    # Someone leaves: the others drop their tile within 10 s, and the list follows.
    participant.close()
    for who in ("host", "moderator"):
        expect(remote_tile(pages[who], "Pia Participant")).to_have_count(0, timeout=10000)
        expect(pages[who].locator("#tiles .tile-remote")).to_have_count(1)
    expect(host.get_by_role("dialog", name="People (2)")).to_be_visible()


def stage_frames(page) -> float:
    """Frames the stage's video has shown (its own counter, for any source)."""
    return page.evaluate(
        "() => { const v = document.getElementById('stage-video'); "
        "return v.hidden || !v.srcObject ? -1 : v.getVideoPlaybackQuality().totalVideoFrames; }"
    )


def test_a_shared_screen_is_on_everyones_stage(live, demo, meet) -> None:
    room = demo.rooms["single"]
    pages = meet(room, "host", "participant")
    host, participant = pages["host"], pages["participant"]
    expect(participant.locator("#tiles .tile-remote")).to_have_count(1, timeout=20000)

    participant.get_by_role("button", name="Share screen").click()
    for page in (host, participant):
        stage = page.locator("#stage")
        expect(stage).to_have_attribute("data-has-content", "1", timeout=20000)
        expect(stage).to_have_attribute("data-stage-kind", "screen")
        expect(page.locator("#stage-empty")).to_be_hidden()
    video = host.get_by_label("Screen shared by Pia Participant")
    expect(video).to_be_visible()
    # The host's stage plays the remote screen: its frames advance.
    deadline = time.monotonic() + 20
    first = stage_frames(host)
    while stage_frames(host) <= max(first, 0) and time.monotonic() < deadline:
        host.wait_for_timeout(250)
    assert stage_frames(host) > max(first, 0)
    assert host.evaluate("() => document.getElementById('stage-video').videoWidth") > 0

    audit = Audit()
    audit.page(host, "room: a shared screen on the stage (host)")
    assert not audit.findings, audit.report()

    participant.get_by_role("button", name="Stop sharing").click()
    expect(host.locator("#stage")).to_have_attribute("data-has-content", "0", timeout=10000)
    expect(host.locator("#stage-video")).to_be_hidden()
