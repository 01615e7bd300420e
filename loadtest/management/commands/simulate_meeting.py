"""Join synthetic participants to a room over the real websocket and ingest endpoint.

    python manage.py simulate_meeting --participants 4 --duration 60 --record --screen

Runs against a server that shares this database (it signs the `sim-*` people in by writing
their sessions here), e.g. the one `make run` starts. See loadtest/simulation.py.

Needs the `loadtest` extra (`pip install ".[loadtest]"`; `.[test]`, which `make run` and
`make test` install, includes it): without it the `loadtest` app is not installed and the
command does not exist.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from loadtest import simulation
from loadtest.simulation import SimParticipant, TrackMedia
from meetings.models import Room

DEMO_ROOM_TITLE = "Weekly planning"


class Command(BaseCommand):
    help = "Simulate a meeting: N participants with synthetic camera (and screen) media, optionally recorded."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--room", type=int, help=f"room id (default: the demo room {DEMO_ROOM_TITLE!r})")
        parser.add_argument("--participants", type=int, default=4)
        parser.add_argument(
            "--duration", type=float, default=30.0, help="seconds in the room (recorded, with --record)"
        )
        parser.add_argument("--segment-seconds", type=float, default=settings.SEGMENT_SECONDS)
        parser.add_argument("--record", action="store_true", help="a simulated host starts a recording and stops it")
        parser.add_argument("--screen", action="store_true", help="the first participant also shares a 1080p screen")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running server")
        parser.add_argument("--width", type=int, default=1280, help="camera width (Chromium's fake camera: 1280)")
        parser.add_argument("--height", type=int, default=720)
        parser.add_argument("--cache-dir", default=str(settings.VAR_DIR / "sim"), help="where generated media is kept")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["participants"] < 1 or options["duration"] <= 0 or options["segment_seconds"] <= 0:
            raise CommandError("--participants, --duration and --segment-seconds must be positive.")
        room = self._room(options["room"])
        people = simulation.ensure_people(room=room, count=options["participants"], host=options["record"])
        everyone = ([people.host] if people.host else []) + people.participants
        sessions = simulation.login_sessions(everyone)

        seconds, width, height = options["segment_seconds"], options["width"], options["height"]
        cameras = [simulation.camera_spec(i, width=width, height=height, seconds=seconds) for i in range(len(everyone))]
        screen = simulation.screen_spec(seconds=seconds) if options["screen"] else None
        self.stdout.write(
            f"Preparing media ({len(cameras)} cameras{', 1 screen' if screen else ''}, "
            f"{width}x{height}, {seconds:g} s segments; cached in {options['cache_dir']})..."
        )
        connections.close_all()  # generation forks workers; they must not inherit DB connections
        media = simulation.prepare_media(cameras + ([screen] if screen else []), cache_dir=Path(options["cache_dir"]))

        logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per upload would bury the summary
        url = options["url"].rstrip("/")
        sims = []
        for index, user in enumerate(everyone):
            tracks = [TrackMedia(kind="camera", segment=media[cameras[index]])]
            if screen is not None and user == people.participants[0]:
                tracks.append(TrackMedia(kind="screen", segment=media[screen]))
            sims.append(
                SimParticipant(
                    name=user.username,
                    session_key=sessions[user.pk],
                    room_id=room.pk,
                    base_url=url,
                    tracks=tracks,
                    segment_seconds=seconds,
                )
            )
        host = sims[0] if people.host else None
        self.stdout.write(
            f"Joining {len(sims)} people to room {room.pk} ({room.title!r}) at {url} "
            f"for {options['duration']:g} s{' with a recording' if options['record'] else ''}..."
        )
        try:
            outcome = asyncio.run(
                simulation.run_meeting(
                    participants=sims[1:] if host else sims,
                    host=host,
                    duration=options["duration"],
                    record=options["record"],
                )
            )
        except (RuntimeError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self._summary(outcome)

    def _room(self, room_id: int | None) -> Room:
        rooms = Room.objects.select_related("channel")
        room = rooms.filter(pk=room_id).first() if room_id else rooms.filter(title=DEMO_ROOM_TITLE).first()
        if room is None:
            raise CommandError(f"No room {room_id}." if room_id else "No demo room: run `manage.py seed_demo` first.")
        return room

    def _summary(self, outcome: simulation.MeetingOutcome) -> None:
        stats = outcome.upload_stats()
        ms = [1000 * v for v in stats.latencies]
        w = self.stdout.write
        w("")
        if outcome.recording_uid:
            w(f"recording {outcome.recording_uid}")
        for p in outcome.everyone:
            states = " -> ".join(p.states_seen) or "none"
            w(
                f"  {p.name:<10} {p.role or 'not joined':<12} tracks {len(p.tracks)}  acked {p.stats.acked:>4}  "
                f"dup {p.stats.duplicates}  dropped {p.stats.dropped}  unsent {p.stats.unsent}  "
                f"notices {len(p.notices)}  recording states: {states}"
            )
            for error in p.errors:
                w(f"      server said: {error}")
        w(
            f"segments acked {stats.acked}, duplicates {stats.duplicates}, dropped {stats.dropped}, "
            f"unsent {stats.unsent}, retries {stats.retries}, errors {stats.errors or 'none'}"
        )
        if ms:
            w(
                f"ack latency p50 {simulation.percentile(ms, 50):.0f} ms, p99 {simulation.percentile(ms, 99):.0f} ms, "
                f"max {max(ms):.0f} ms over {len(ms)} uploads"
            )
        if outcome.connect_failures:
            w(self.style.ERROR(f"{len(outcome.connect_failures)} could not join: {outcome.connect_failures[:3]}"))
        failed = stats.dropped or stats.unsent or outcome.connect_failures
        w(self.style.ERROR("Some media did not land.") if failed else self.style.SUCCESS("Done."))
