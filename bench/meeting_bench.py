"""Benchmark: join to first remote frame in a 4-person meeting, and the signalling a join costs.

    .venv/bin/python bench/meeting_bench.py [--joins 20] [--width 320 --height 180] [--static daphne]

As deployed (docs/deploy.md): nginx with deploy/nginx.conf in front of one Daphne process (config.asgi,
DEBUG off), serving the room's JavaScript from collectstatic's output; `--static daphne` instead lets
Daphne serve it with DEBUG on, as `make run` does. On a throwaway
PostgreSQL database (`liverec_bench_meeting`) seeded with the demo, and headless Chromium with
fake camera and microphone. Three people (host, moderator, co-editor) are in the meeting; the
fourth (the participant) joins `--joins` times, each time in a fresh browser context, and leaves
(context closed) once it sees everyone; the next join waits until the others dropped its tile.

Figures, per join:

- join to first remote frame: from the start of the room page's navigation (performance.now()
  = 0) to the first decoded frame of any remote camera tile (videoWidth > 0), and to the moment
  all three remote tiles show a frame. It includes the page load, getUserMedia, the socket, the
  roster, offers and answers, ICE, DTLS and the first key frame.
- signalling load: messages and bytes the four pages sent to the server for the mesh (signal,
  media_state) and messages and bytes the server sent them for it (roster, peer_joined,
  peer_state, signal), counted by wrapping each page's WebSocket.

Anchor (same run, same browser): two RTCPeerConnections in one page connected directly (no
server, no page load), from createOffer to the first decoded frame of the same fake camera: the
floor this machine puts under any WebRTC join. Target (issue 11): p95 of "all remotes" <= 1.5 s.
The camera is 320x180 at 15 fps by default (as in the browser tests: four pages encode and decode
on one machine); `--width/--height` to measure another size.

Each join opens a new browser context, i.e. a new Chromium window, which loads Chromium's own
address-bar popup into a renderer of its own (loadtest/browser.py, WINDOW_UI_FEATURES): 0.75 s of
CPU during the join, on the two cores the four pages share. A person joining opens a page, not a
browser window, and on their own machine; the benchmark turns that popup off unless `--window-ui`
(as every run before session 10 measured it).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from common import VAR, Daphne, ensure_database, machine_note, server_env, setup_django, table

from loadtest.browser import launch_chromium, sign_in

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--no-sandbox",
    "--disable-gpu",
    "--autoplay-policy=no-user-gesture-required",
]
PASSWORD = "bench-meeting"
TARGET_P95_S = 1.5

HOOKS = """
(() => {
  const small = { width: { ideal: %(w)d }, height: { ideal: %(h)d }, frameRate: { ideal: 15 } };
  const MESH_IN = new Set(["roster", "peer_joined", "peer_left", "peer_state", "signal"]);
  const MESH_OUT = new Set(["signal", "media_state"]);
  window.__mesh = { sent: 0, sentBytes: 0, got: 0, gotBytes: 0, firstFrame: null, allFrames: null, at: {} };
  // The first time each stage of a join happens, ms since navigation start.
  const mark = (stage) => { if (!(stage in __mesh.at)) __mesh.at[stage] = performance.now(); };
  document.addEventListener("DOMContentLoaded", () => {
    mark("page_parsed");
    const nav = performance.getEntriesByType("navigation")[0];
    if (nav) Object.assign(__mesh.at, { page_first_byte: nav.responseStart, page_received: nav.responseEnd });
    const scripts = performance.getEntriesByType("resource").filter((r) => r.name.endsWith(".js"));
    if (scripts.length) {
      __mesh.at.scripts_asked = Math.min(...scripts.map((r) => r.startTime));
      __mesh.at.scripts_loaded = Math.max(...scripts.map((r) => r.responseEnd));
    }
  });
  const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (c) => {
    mark("devices_asked");
    return gum(c && c.video ? { ...c, video: small } : c).then((s) => { mark("devices_ready"); return s; });
  };
  const NativePC = window.RTCPeerConnection;
  window.RTCPeerConnection = function (...args) {
    const pc = new NativePC(...args);
    mark("peer_connection");
    pc.addEventListener("icecandidate", (e) => e.candidate && mark("first_candidate"));
    pc.addEventListener("track", () => mark("first_track"));
    pc.addEventListener("negotiationneeded", () => mark("negotiation_needed"));
    const addTrack = pc.addTrack.bind(pc);
    pc.addTrack = (...a) => { mark("track_added"); return addTrack(...a); };
    const sld = pc.setLocalDescription.bind(pc);
    pc.setLocalDescription = (...a) => {
      mark("offer_asked");
      return sld(...a).then((r) => { mark("offer_made"); return r; });
    };
    pc.addEventListener("connectionstatechange", () => pc.connectionState === "connected" && mark("connected"));
    return pc;
  };
  window.RTCPeerConnection.prototype = NativePC.prototype;
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    mark("socket_opening");
    ws.addEventListener("open", () => mark("socket_open"));
    const send = ws.send.bind(ws);
    ws.send = (data) => {
      try {
        const m = JSON.parse(data);
        if (m.type === "signal") mark(m.kind + "_sent");
        if (MESH_OUT.has(m.type)) { __mesh.sent++; __mesh.sentBytes += data.length; }
      } catch (e) {}
      return send(data);
    };
    ws.addEventListener("message", (e) => {
      try {
        const m = JSON.parse(e.data);
        if (m.type === "state" || m.type === "roster") mark(m.type);
        if (m.type === "signal") mark(m.kind + "_received");
        if (MESH_IN.has(m.type)) { __mesh.got++; __mesh.gotBytes += e.data.length; }
      } catch (err) {}
    });
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, { OPEN: 1, CLOSED: 3, CONNECTING: 0, CLOSING: 2 });
  const timer = setInterval(() => {
    const videos = [...document.querySelectorAll("#tiles .tile-remote video")];
    const shown = videos.filter((v) => v.videoWidth > 0).length;
    if (shown > 0 && __mesh.firstFrame === null) { __mesh.firstFrame = performance.now(); mark("first_frame"); }
    if (shown >= %(peers)d && __mesh.allFrames === null) { __mesh.allFrames = performance.now(); clearInterval(timer); }
  }, 10);
})();
"""

ANCHOR = """
async ([w, h]) => {
  const video = { width: w, height: h, frameRate: 15 };
  const stream = await navigator.mediaDevices.getUserMedia({ video, audio: true });
  const t0 = performance.now();
  const a = new RTCPeerConnection(), b = new RTCPeerConnection();
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const el = document.createElement("video");
  el.muted = true; el.autoplay = true; document.body.append(el);
  const frame = new Promise((resolve) => {
    b.ontrack = (e) => { el.srcObject = e.streams[0]; el.requestVideoFrameCallback(() => resolve(performance.now())); };
  });
  stream.getTracks().forEach((t) => a.addTrack(t, stream));
  await a.setLocalDescription(); await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(); await a.setRemoteDescription(b.localDescription);
  const t1 = await frame;
  a.close(); b.close(); stream.getTracks().forEach((t) => t.stop()); el.remove();
  return t1 - t0;
}
"""


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def seed() -> int:
    from meetings import services
    from meetings.models import LiveSession, Room

    demo = services.seed_demo(password=PASSWORD)
    for session in LiveSession.objects.open():  # a fresh session for this run
        services.end_session(session=session, reason=LiveSession.EndReason.ENDED_BY_HOST)
    room = demo.rooms["single"]
    # A meeting, whatever an earlier use of this database left: a broadcast's viewer would join without
    # a camera, which is not the join measured here.
    Room.objects.filter(pk=room.pk).update(mode=Room.Mode.INTERACTIVE)
    return room.pk


@contextlib.contextmanager
def deployed_front(port: int) -> Iterator[int]:
    """collectstatic into a folder of the bench's, and nginx as documented in front of `port`; yields nginx's port."""
    from django.conf import settings
    from django.core.management import call_command

    from loadtest.nginx import nginx

    static = VAR / "meeting-static"
    settings.STATIC_ROOT = static
    call_command("collectstatic", interactive=False, verbosity=0, clear=True)
    tmp = VAR / "meeting-nginx"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with nginx(tmp, [port], static) as front:
        yield front


def login(browser: Any, url: str, username: str, front: str) -> tuple[Any, Any]:
    """A context signed in at Daphne itself (`url`): through nginx, which passes the Host without its
    port, Django's CSRF check would refuse the form's Origin. A cookie holds for every port of a host."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.grant_permissions(["camera", "microphone"], origin=front)
    page = context.new_page()
    sign_in(page, url, username, PASSWORD)
    return context, page


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--joins", type=int, default=20)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=180)
    parser.add_argument(
        "--static",
        choices=("nginx", "daphne"),
        default="nginx",
        help="who serves the JavaScript: nginx in front, as deployed (default), or Daphne with DEBUG on",
    )
    parser.add_argument(
        "--window-ui",
        action="store_true",
        help="let each new browser context load Chromium's hidden address-bar popup, as runs before session 10 did",
    )
    args = parser.parse_args()

    database = ensure_database("liverec_bench_meeting")
    setup_django(database)
    room_id = seed()
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    front = contextlib.ExitStack()
    if args.static == "nginx":
        server = Daphne("config.asgi:application", server_env(database), VAR / "meeting-daphne.log")
        front_url = f"http://127.0.0.1:{front.enter_context(deployed_front(server.port))}"
    else:
        server = Daphne("config.asgi:application", server_env(database, DEBUG="1"), VAR / "meeting-daphne.log")
        front_url = server.url
    from playwright.sync_api import sync_playwright

    first: list[float] = []
    every: list[float] = []
    loads: list[tuple[int, int, int, int]] = []
    stages: dict[str, list[float]] = {}
    anchors: list[float] = []
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p.chromium, CHROMIUM, ARGS, window_ui=args.window_ui)
            hooks = HOOKS % {"w": args.width, "h": args.height, "peers": 3}
            room_url = f"{front_url}/rooms/{room_id}/"
            present = []
            for username in ("host", "moderator", "coeditor"):
                context, page = login(browser, server.url, username, front_url)
                context.add_init_script(hooks)
                page.goto(room_url, timeout=120000)
                page.wait_for_selector("#room[data-ready='1']", timeout=120000)
                present.append(page)
            for page in present:  # everyone sees everyone before the measured joins
                page.wait_for_function("document.querySelectorAll('#tiles .tile-remote').length === 2", timeout=60000)
            context, page = login(browser, server.url, "participant", front_url)
            state = context.storage_state()
            context.close()
            for i in range(args.joins):
                before = [page.evaluate("({...window.__mesh})") for page in present]
                context = browser.new_context(viewport={"width": 1280, "height": 800}, storage_state=state)
                context.grant_permissions(["camera", "microphone"], origin=front_url)
                context.add_init_script(hooks)
                joiner = context.new_page()
                joiner.goto(room_url, timeout=120000)
                joiner.wait_for_function("window.__mesh && window.__mesh.allFrames !== null", timeout=120000)
                mesh = joiner.evaluate("({...window.__mesh})")
                for stage, at in mesh["at"].items():
                    stages.setdefault(stage, []).append(at / 1000)
                first.append(mesh["firstFrame"] / 1000)
                every.append(mesh["allFrames"] / 1000)
                time.sleep(1.0)  # candidates trickling after the first frame count towards the join too
                mesh = joiner.evaluate("({...window.__mesh})")
                after = [page.evaluate("({...window.__mesh})") for page in present]
                sent = mesh["sent"] + sum(a["sent"] - b["sent"] for a, b in zip(after, before, strict=True))
                sent_bytes = mesh["sentBytes"] + sum(
                    a["sentBytes"] - b["sentBytes"] for a, b in zip(after, before, strict=True)
                )
                got = mesh["got"] + sum(a["got"] - b["got"] for a, b in zip(after, before, strict=True))
                got_bytes = mesh["gotBytes"] + sum(
                    a["gotBytes"] - b["gotBytes"] for a, b in zip(after, before, strict=True)
                )
                loads.append((sent, sent_bytes, got, got_bytes))
                context.close()
                for page in present:
                    page.wait_for_function(
                        "document.querySelectorAll('#tiles .tile-remote').length === 2", timeout=60000
                    )
                print(f"join {i + 1}: first remote frame {first[-1]:.2f} s, all three {every[-1]:.2f} s", flush=True)
            anchor_page = present[0]
            for _ in range(5):
                anchors.append(anchor_page.evaluate(ANCHOR, [args.width, args.height]) / 1000)
            browser.close()
    finally:
        front.close()
        server.stop()

    anchor = statistics.median(anchors)
    rows = [
        ["anchor: one page, two peer connections, no server (median of 5)", "", f"{anchor:.3f}", "", "1.0"],
        [
            f"ours: 4th person joins a 3-person meeting ({args.joins} joins)",
            f"{percentile(first, 50):.3f} / {percentile(first, 95):.3f}",
            f"{percentile(every, 50):.3f}",
            f"{percentile(every, 95):.3f}",
            f"{percentile(every, 50) / anchor:.1f}",
        ],
    ]
    print()
    print(f"Machine: {machine_note()}; {load}")
    window = "loaded in each new context (--window-ui)" if args.window_ui else "off"
    print(f"Camera {args.width}x{args.height} at 15 fps (fake device); JavaScript served by {args.static}; "
          f"Chromium's address-bar popup {window}\n")  # fmt: skip
    print(table(["case", "first remote frame p50 / p95 (s)", "all remotes p50 (s)", "all remotes p95 (s)",
                 "p50 / anchor"], rows))  # fmt: skip
    sent = statistics.mean(x[0] for x in loads)
    sent_bytes = statistics.mean(x[1] for x in loads)
    got = statistics.mean(x[2] for x in loads)
    got_bytes = statistics.mean(x[3] for x in loads)
    print()
    print(table(["signalling per join (mean)", "messages", "bytes"], [
        ["browsers to server (signal, media_state)", f"{sent:.1f}", f"{sent_bytes:,.0f}"],
        ["server to browsers (roster, peer_*, signal)", f"{got:.1f}", f"{got_bytes:,.0f}"],
    ]))  # fmt: skip
    print()
    print("Where a join's time goes (the joining page; seconds since its navigation started):\n")
    ordered = sorted(stages.items(), key=lambda item: statistics.median(item[1]))
    print(table(["stage (first time)", "joins", "p50 s", "p95 s"], [
        [stage, str(len(at)), f"{percentile(at, 50):.3f}", f"{percentile(at, 95):.3f}"] for stage, at in ordered
    ]))  # fmt: skip
    ok = percentile(every, 95) <= TARGET_P95_S
    print(f"\nall remotes p95 {percentile(every, 95):.2f} s (target <= {TARGET_P95_S} s): {'MET' if ok else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
