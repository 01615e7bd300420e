"""One event catalogue, one definition of every notice text (issue: one event transport).

The server builds every event the browser receives from core.events.CATALOGUE; the room's
JavaScript handles each of its types. Every notice text is written once, in the notices.py of
the app whose events say it; templates print it with {% notice_text %} and the JavaScript
receives the whole table (rooms.notices.ALL) as room_config.
"""

from __future__ import annotations

import dataclasses
import re

from core import events
from media_library import notices as library_notices
from meetings import notices as meeting_notices
from recordings import notices as recording_notices
from rooms.notices import ALL
from tests.architecture.conftest import APPS, ROOT

# SPEC.md's own words, and the one file that may write each.
SPEC_TEXTS = {
    "Do you want to start recording?": "recordings/notices.py",
    "Recording will start momentarily, please wait": "recordings/notices.py",
    "This session is being recorded": "recordings/notices.py",
    "Recording ended, starting upload": "recordings/notices.py",
    "The recording has completed": "recordings/notices.py",
    "Your recording file is available": "media_library/notices.py",
    "The recording is available to its owner": "media_library/notices.py",
}


def product_texts() -> dict[str, str]:
    files = [p for app in APPS for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]
    files += [*(ROOT / "templates").rglob("*.html"), *(ROOT / "static").rglob("*.js")]
    return {str(p.relative_to(ROOT)): p.read_text() for p in files}


def test_spec_texts_are_written_once() -> None:
    texts = product_texts()
    for text, owner in SPEC_TEXTS.items():
        assert text in ALL.values(), text
        where = sorted(path for path, body in texts.items() if text in body)
        assert where == [owner], (text, where)


def test_every_code_is_defined_by_one_app() -> None:
    tables = (meeting_notices.TEXTS, recording_notices.TEXTS, library_notices.TEXTS)
    codes = [code for table in tables for code in table]
    assert len(codes) == len(set(codes)) == len(ALL)


def test_the_catalogue_names_each_event_once_and_the_room_handles_every_one() -> None:
    types = [event.TYPE for event in events.CATALOGUE]
    assert len(types) == len(set(types)) and all(types)
    assert set(events.Event.__subclasses__()) == set(events.CATALOGUE)  # nothing sent from outside it
    room_js = "\n".join(p.read_text() for p in (ROOT / "static" / "js" / "room").rglob("*.js"))
    handled = set(re.findall(r"(?:case\s+|type\s*===\s*)\"([a-z_]+)\"", room_js))
    assert set(types) - {"ack"} <= handled, set(types) - handled  # an ack needs no handling


def test_an_event_is_its_type_and_fields() -> None:
    notice = recording_notices.TEXTS.notice("recording_starting")
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
