"""Websocket fuzzing: many random and malformed messages into room sockets of a real Daphne.

    .venv/bin/python bench/fuzz_ws.py [--messages 10000] [--sockets 8] [--seed 1] [--database liverec_fuzz]

Sets up a throwaway PostgreSQL database (the demo people and rooms), starts one Daphne
(config.settings, DEBUG off, the machine's Redis) and opens `--sockets` room sockets in "Weekly
planning" as host, co-editor, moderator and participant in turn. Each socket sends fuzz messages
one by one, each followed by a marker whose answer closes that message's answer: valid and
invalid commands, wrong field types, random JSON, raw text, binary frames, oversized and deeply
nested messages, NaN and huge numbers, rare `end_session` (the room closes every socket with
4000; they reconnect). Figures: messages sent and answered, answers by kind, closes by code, and
the server's log: lines at ERROR, tracebacks, HTTP 500s. Exits 1 unless 0 server errors,
0 tracebacks, 0 closes with 1011 and every message answered. The suite runs a smaller version
(tests/realtime/test_fuzz.py) against its live Daphne.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import string
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COMMANDS = ["heartbeat", "clock_reply", "start_recording", "stop_recording", "end_session", "go_live"]
# What the room's socket may say (core.events.CATALOGUE types); anything else is a finding.
EVENT_TYPES = {
    "state", "session", "session_ended", "recording", "progress", "notice", "file_available", "clock_probe", "ack",
    "error", "roster", "peer_joined", "peer_left", "peer_state", "signal", "mute_request",
}  # fmt: skip
MAX_CHARS = 4096
ANSWER_TIMEOUT = 20.0


# --- Messages ----------------------------------------------------------------------------------------


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([0, -1, 1, 2**31, -(2**63), 10**30, rng.randrange(-(10**6), 10**6)])
    if kind == 3:
        return rng.choice([0.0, -0.0, 1.5, 1e308, -1e-308, float("nan"), float("inf"), float("-inf"), rng.random()])
    if kind in (4, 5):
        return random_text(rng, rng.randrange(0, 30))
    if kind == 6:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    if kind == 7:
        return {random_text(rng, rng.randrange(0, 8)): random_value(rng, depth + 1) for _ in range(rng.randrange(4))}
    return rng.choice(COMMANDS)


def random_text(rng: random.Random, length: int) -> str:
    alphabet = string.printable + 'éü中文😀\u0000\u200f\u202e\ufeff\\"{}[]:,'
    return "".join(rng.choice(alphabet) for _ in range(length))


def command_message(rng: random.Random, allow_end: bool) -> dict[str, Any]:
    """A command-shaped object: a known type (mostly well formed) with fields of any type."""
    choices = [c for c in COMMANDS if c != "end_session" or (allow_end and rng.random() < 0.02)]
    message: dict[str, Any] = {"type": rng.choice(choices)}
    if rng.random() < 0.8:
        message["id"] = rng.choice([rng.randrange(10**6), random_text(rng, 6), random_value(rng)])
    if message["type"] == "clock_reply":
        good = rng.random() < 0.5
        message["server_time"] = time.time() if good else random_value(rng)
        message["client_time"] = time.time() * 1000 if good else random_value(rng)
    for key in ("close_room", "extra", "type2"):
        if rng.random() < 0.1:
            message[key] = random_value(rng)
    return message


def fuzz_message(rng: random.Random, allow_end: bool) -> str | bytes:
    """One message, text or binary, from a mix of well-formed, malformed and hostile kinds."""
    kind = rng.randrange(14)
    if kind <= 3:
        return json.dumps(command_message(rng, allow_end))
    if kind == 4:
        return json.dumps(random_value(rng))
    if kind == 5:
        return json.dumps({"type": random_value(rng), "id": random_value(rng)})
    if kind == 6:
        return random_text(rng, rng.randrange(0, 300))
    if kind == 7:
        return rng.randbytes(rng.randrange(0, 200))
    if kind == 8:
        size = rng.randrange(MAX_CHARS - 20, MAX_CHARS * 3)
        return json.dumps({"type": "heartbeat", "pad": "x" * size})[: size + rng.randrange(0, 40)]
    if kind == 9:
        depth = rng.choice([rng.randrange(1, 200), rng.randrange(900, 1100), rng.randrange(1500, MAX_CHARS)])
        opener, closer = rng.choice([("[", "]"), ('{"a":', "}"), ("[{", "}]")])
        text = opener * depth + (closer * depth if rng.random() < 0.5 else "")
        return text[:MAX_CHARS]
    if kind == 10:
        whole = json.dumps(command_message(rng, allow_end))
        return whole[: rng.randrange(len(whole))]  # truncated
    if kind == 11:
        return rng.choice(
            ['{"type": NaN}', '{"type": "clock_reply", "server_time": Infinity, "client_time": -Infinity}',
             '{"type": "heartbeat", "id": ' + "9" * rng.randrange(1, 4000) + "}", "", " ", "null", "true", "[]", "{}",
             '{"type": "heartbeat", "id": "\\ud800"}', '{"type": "heartbeat"} {"type": "heartbeat"}',
             '{"type": "heartbeat", "type": "start_recording"}', "\ufeff{}"]
        )  # fmt: skip
    if kind == 12:
        return json.dumps({"type": rng.choice(COMMANDS).upper(), "id": rng.randrange(100)})
    return json.dumps(
        {random_text(rng, 4): random_value(rng) for _ in range(rng.randrange(1, 6))} | {"type": "heartbeat"}
    )


# --- Driving sockets ---------------------------------------------------------------------------------


@dataclass
class Report:
    sent: int = 0
    answered: int = 0
    answers: Counter[str] = field(default_factory=Counter)  # by type, errors by text
    closes: Counter[int] = field(default_factory=Counter)
    reconnects: int = 0
    findings: list[str] = field(default_factory=list)  # anything not as defined
    seconds: float = 0.0

    @property
    def closed_1011(self) -> int:
        return self.closes.get(1011, 0)


async def drive(
    ws_url: str, origin: str, cookie: str, *, count: Callable[[], bool], rng: random.Random, allow_end: bool,
    report: Report, name: str,
) -> None:  # fmt: skip
    """One socket: send a message and a marker, read up to the marker's answer, repeat while `count()`."""
    import websockets

    async def connect() -> Any:
        ws = await websockets.connect(
            ws_url, origin=websockets.Origin(origin), additional_headers={"Cookie": f"sessionid={cookie}"},
            open_timeout=30, max_size=2**20,
        )  # fmt: skip
        first = json.loads(await asyncio.wait_for(ws.recv(), ANSWER_TIMEOUT))
        if first.get("type") != "state":
            report.findings.append(f"{name}: first message {first!r}")
        return ws

    ws = await connect()
    serial = 0
    try:
        while count():
            raw = fuzz_message(rng, allow_end)
            serial += 1
            marker = f"{name}-{serial}"
            report.sent += 1
            try:
                await ws.send(raw)
                await ws.send(json.dumps({"type": "fuzz-marker", "id": marker}))
                while True:
                    answer = json.loads(await asyncio.wait_for(ws.recv(), ANSWER_TIMEOUT))
                    kind = answer.get("type")
                    if kind == "error" and answer.get("id") == marker:
                        report.answered += 1
                        break
                    report.answers[f"error: {answer.get('error')}" if kind == "error" else str(kind)] += 1
                    if kind not in EVENT_TYPES:
                        report.findings.append(f"{name}: undefined answer {answer!r} to {raw[:100]!r}")
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd is not None else 1006
                report.closes[code] += 1
                if code != 4000:  # only the session ending may close a member's socket
                    report.findings.append(f"{name}: closed with {code} after {raw[:100]!r}")
                report.answered += 1  # a close is the defined answer to end_session
                report.reconnects += 1
                ws = await connect()
            except TimeoutError:
                report.findings.append(f"{name}: no answer within {ANSWER_TIMEOUT:.0f} s to {raw[:100]!r}")
                await ws.close()
                report.reconnects += 1
                ws = await connect()
    finally:
        await ws.close()


async def fuzz(*, ws_url: str, origin: str, cookies: list[tuple[str, str]], messages: int, seed: int) -> Report:
    """Send `messages` fuzz messages over one socket per (role, cookie), concurrently; leaders may end the session."""
    report = Report()
    budget = {"left": messages}

    def take() -> bool:
        if budget["left"] <= 0:
            return False
        budget["left"] -= 1
        return True

    started = time.perf_counter()
    await asyncio.gather(
        *(
            drive(ws_url, origin, cookie, count=take, rng=random.Random(seed * 1000 + i), allow_end=role == "host",
                  report=report, name=f"{role}{i}")
            for i, (role, cookie) in enumerate(cookies)
        )
    )  # fmt: skip
    report.seconds = time.perf_counter() - started
    return report


def server_findings(log: str) -> dict[str, int]:
    return {
        "error lines": sum(1 for line in log.splitlines() if " ERROR " in line),
        "tracebacks": log.count("Traceback (most recent call last)"),
        "HTTP 500": sum(1 for line in log.splitlines() if '" 500 ' in line),
        "exceptions inside application": log.count("Exception inside application"),
    }


def summary(report: Report, server: dict[str, int]) -> str:
    lines = [
        f"messages sent {report.sent}, answered {report.answered}, in {report.seconds:.1f} s "
        f"({report.sent / max(report.seconds, 1e-9):.0f}/s), reconnects {report.reconnects}",
        "closes by code: " + (", ".join(f"{code}: {n}" for code, n in sorted(report.closes.items())) or "none"),
        "server: " + ", ".join(f"{name} {n}" for name, n in server.items()),
        "answers:",
        *(f"  {n:6d}  {what}" for what, n in report.answers.most_common()),
    ]
    if report.findings:
        lines += ["findings:", *(f"  {f}" for f in report.findings[:20])]
    return "\n".join(lines)


def passed(report: Report, server: dict[str, int]) -> bool:
    clean_server = not any(server.values())
    return not report.findings and report.closed_1011 == 0 and report.answered == report.sent and clean_server


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import VAR, Daphne, ensure_database, machine_note, server_env, setup_django

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--sockets", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default="liverec_fuzz")
    args = parser.parse_args()

    db_url = ensure_database(args.database)
    setup_django(db_url)
    from loadtest.simulation import login_sessions
    from meetings.services import seed_demo

    demo = seed_demo(password="fuzz-only-not-a-login")
    roles = ["host", "coeditor", "moderator", "participant"]
    keys = login_sessions([demo.users[r] for r in roles])
    cookies = [(roles[i % len(roles)], keys[demo.users[roles[i % len(roles)]].pk]) for i in range(args.sockets)]
    # INFO: Daphne's own lines are kept, so a traceback of any level shows.
    server = Daphne("config.asgi:application", server_env(db_url, LOG_LEVEL="INFO"), VAR / "fuzz" / "daphne.log")
    try:
        print(machine_note(), flush=True)
        report = asyncio.run(
            fuzz(
                ws_url=f"ws://127.0.0.1:{server.port}/ws/rooms/{demo.rooms['single'].pk}/",
                origin=server.url,
                cookies=cookies,
                messages=args.messages,
                seed=args.seed,
            )
        )
        # The findings are the fuzz's, not the shutdown's: let Daphne finish every close first
        # (stopping it with sockets still closing makes channels_redis log their clean-up). A
        # close is done when its presence is gone.
        from meetings.models import Presence

        deadline = time.monotonic() + 15
        while Presence.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        found = server_findings(server.log.read_text())
    finally:
        server.stop()
    print(summary(report, found))
    print(f"server log: {server.log}")
    ok = passed(report, found)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
