"""One event catalogue, one definition of every notice text (issue: one event transport).

The server builds every event the browser receives from core.events.CATALOGUE; the room's
JavaScript handles each of its types. Every notice text lives in core/notices.py only:
templates print it with {% notice_text %}, the JavaScript receives the table as room_config.
"""

from __future__ import annotations

import dataclasses
import re

from core import events, notices
from tests.architecture.conftest import APPS, ROOT

# SPEC.md's own words: written nowhere in the product but core/notices.py.
SPEC_CODES = (
    "recording_confirm",
    "recording_starting",
    "recording_started",
    "recording_ended",
    "recording_completed",
    "file_available",
    "file_available_owner_only",
)


def product_texts() -> dict[str, str]:
    files = [p for app in APPS for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]
    files += [*(ROOT / "templates").rglob("*.html"), *(ROOT / "static").rglob("*.js")]
    return {str(p.relative_to(ROOT)): p.read_text() for p in files}


def test_spec_texts_are_written_once() -> None:
    texts = product_texts()
    for code in SPEC_CODES:
        where = sorted(path for path, body in texts.items() if notices.text(code) in body)
        assert where == ["core/notices.py"], (code, where)


def test_the_catalogue_names_each_event_once_and_the_room_handles_every_one() -> None:
    types = [event.TYPE for event in events.CATALOGUE]
    assert len(types) == len(set(types)) and all(types)
    assert set(events.Event.__subclasses__()) == set(events.CATALOGUE)  # nothing sent from outside it
    room_js = "\n".join(p.read_text() for p in (ROOT / "static" / "js" / "room").rglob("*.js"))
    handled = set(re.findall(r"(?:case\s+|type\s*===\s*)\"([a-z_]+)\"", room_js))
    assert set(types) - {"ack"} <= handled, set(types) - handled  # an ack needs no handling


def test_an_event_is_its_type_and_fields() -> None:
    notice = events.Notice.of("recording_starting")
    assert notice.payload() == {
        "type": "notice",
        "code": "recording_starting",
        "text": "Recording will start momentarily, please wait",
        "level": "info",
    }
    ack = events.Ack(id=3, command="start_recording", result={"created": True})
    assert ack.payload() == {"type": "ack", "id": 3, "command": "start_recording", "created": True}
    message = events.channel_message(notice)
    assert message["type"] == events.CHANNEL_MESSAGE_TYPE and message["payload"] == notice.payload()
    for event in events.CATALOGUE:
        assert dataclasses.is_dataclass(event)


def test_groups_are_named_from_ids_only() -> None:
    assert events.room_group(7) == "room.7" and events.leaders_group(7) == "room.7.leaders"
    assert events.participants_group(7) == "room.7.participants" and events.user_group(9) == "user.9"
