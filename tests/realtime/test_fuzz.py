"""The websocket fuzzer (bench/fuzz_ws.py), smaller, against the suite's live Daphne.

The full run (10,000 messages and more, its own Daphne and database) and its figures are in
docs/reliability.md, "Websocket fuzzing".
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys

from django.test import Client

from tests.live.conftest import ROOT, session_cookie

spec = importlib.util.spec_from_file_location("fuzz_ws", ROOT / "bench" / "fuzz_ws.py")
fuzz_ws = importlib.util.module_from_spec(spec)
sys.modules["fuzz_ws"] = fuzz_ws  # dataclasses look their module up by name
spec.loader.exec_module(fuzz_ws)

MESSAGES = 1500


def test_fuzzed_room_sockets_answer_everything_and_the_server_logs_no_error(live, demo) -> None:
    roles = ["host", "coeditor", "moderator", "participant"]
    cookies = [(role, session_cookie(Client(), demo.users[role])) for role in roles]
    log_start = len(live.log.read_text())
    report = asyncio.run(
        fuzz_ws.fuzz(
            ws_url=f"{live.ws_url}/ws/rooms/{demo.rooms['single'].pk}/",
            origin=live.url,
            cookies=cookies,
            messages=MESSAGES,
            seed=7,
        )
    )
    found = fuzz_ws.server_findings(live.log.read_text()[log_start:])
    summary = fuzz_ws.summary(report, found)
    assert report.sent == MESSAGES, summary
    print(summary)
    assert fuzz_ws.passed(report, found), summary
    assert report.answers["error: Unknown command."] > 0 and report.answers["ack"] > 0, summary  # it did fuzz
