"""A bounded HTTP fuzz run against a real Daphne (bench/fuzz_http.py): 0 server errors, 0 tracebacks.

The normal suite sends FUZZ_REQUESTS (default 500) requests; `bench/fuzz_http.py --requests 10000`
runs this same test with 10,000 (docs/reliability.md, "HTTP fuzzing"). The server is a Daphne
of its own (`python -m config.daphne`, DEBUG on as `make run`), on this run's database, with a
Redis namespace of its own (its sign-in throttle counts this test's failures, nobody else's).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.test import Client

from bench.fuzz_http import Target, fuzz, log_faults
from media_library import services as library_services
from media_library.models import RecordingNotice
from meetings import services as meeting_services
from meetings.models import Room
from recordings import services as recording_services
from tests.hardening.conftest import own_server
from tests.live.conftest import csrf_pair, session_cookie

REQUESTS = int(os.environ.get("FUZZ_REQUESTS", "500"))
SEED = int(os.environ.get("FUZZ_SEED", "1"))


def test_random_and_hostile_requests_get_no_server_error(tmp_path: Path, transactional_db, cast, publish) -> None:
    entry = publish("single")
    room = cast.room("single")
    folder = library_services.create_folder(room=room, name="Slides", parent=None)
    link = library_services.create_share_link(entry=entry, by=cast.users["host"], expires_in_days=0)
    notices = list(RecordingNotice.objects.values_list("pk", flat=True))
    live_room = cast.room("integration")
    meeting_services.open_or_create_session(room=live_room)
    recording, _ = recording_services.start_recording(room=live_room, user=cast.users["host"])
    token, _ = csrf_pair()
    roles = ("host", "moderator", "participant", "coeditor", "outsider", "admin")
    sessions = {role: session_cookie(Client(), cast.users[role]) for role in roles} | {"anonymous": ""}

    run_dir = tmp_path / f"fuzzrun{os.getpid()}"  # its own files and Redis namespace
    with own_server(tmp_path, TEST_RUN_DIR=str(run_dir), DEBUG="1") as server:
        target = Target(
            base_url=server.url,
            port=server.port,
            sessions=sessions,
            csrf=token,
            room_ids=list(Room.objects.values_list("pk", flat=True)),
            entry_ids=[entry.pk],
            folder_ids=[folder.pk],
            notice_ids=notices or [1],
            share_tokens=[link.token],
            recording=(live_room.pk, str(recording.uid)),
            channel_slug=cast.demo.channel.slug,
        )
        report = fuzz(target, REQUESTS, seed=SEED)
        log = server.log_text()
        faults = log_faults(log)
    if os.environ.get("FUZZ_LOG"):  # the server's whole log, for reading a failure
        Path(os.environ["FUZZ_LOG"]).write_text(log)
    summary = report.as_dict() | {"log_faults": len(faults), "log_fault_samples": faults[:20], "seed": SEED}
    if os.environ.get("FUZZ_REPORT"):
        Path(os.environ["FUZZ_REPORT"]).write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    assert report.requests == REQUESTS
    assert report.server_errors == [], summary
    assert faults == [], summary
    assert report.client_errors == [], summary  # every request got an answer or a clean close
