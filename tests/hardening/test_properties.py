"""Property-based tests (Hypothesis): random and malformed input to every form view and to ingest.

The property: whatever arrives, the answer is not a server error (no 5xx, no exception). The
views run in process through Django's test client (with DEBUG off, as in production); ingest
through the ASGI application Daphne serves, with scopes built by hand so that headers, lengths
and body pieces can be anything. Real PostgreSQL and Redis; the examples of one test share its
database (rolled back at its end). `HYPOTHESIS_EXAMPLES` raises the number of examples per test.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.asgi import application
from media_library import services as library_services
from media_library.models import Folder, RecordingNotice, ShareLink
from meetings.models import Room
from tests.live.conftest import csrf_pair, session_cookie

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "60"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis directory in the work tree; failures print their example
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

NASTY = [
    "", " ", "-1", "0", "1", "007", "x", "my_media", "9" * 30, "1e9", "NaN", "inf", "/", "//evil.example",
    "https://evil.example/", "\x00", "../../etc/passwd", "%00", "<script>alert(1)</script>", "１２",
    "\u202e", "a" * 5000, "camera", "screen", "co_editor", "co_viewer", "yes", "true", "None",
]  # fmt: skip
values = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=60),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
)
FIELDS = [
    "action", "title", "name", "next", "folder", "folder_id", "entry_id", "username", "role", "user_id",
    "expires_in_days", "link_id", "confirm", "js", "password", "q", "page",
]  # fmt: skip
forms = st.dictionaries(
    st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=12)),
    st.one_of(values, st.lists(values, min_size=1, max_size=3)),
    max_size=7,
)
ENTRY_ACTIONS = ["rename", "add_collaborator", "remove_collaborator", "create_share", "revoke_share", "delete", "x"]
ROOM_ACTIONS = ["upload", "create_folder", "rename_folder", "delete_folder", "rename_entry", "", "x"]
WHO = ["host", "moderator", "participant", "coeditor", "outsider", "admin", "starter", "coviewer", None]


def client_for(people, who: str | None) -> Client:
    client = Client()
    if who is not None:
        client.force_login(people.users[who])
    return client


def assert_no_server_error(response: Any, what: str) -> None:
    assert response.status_code < 500, (what, response.status_code)


@pytest.fixture
def world(cast, publish) -> dict[str, Any]:
    """Things with ids the requests may name: an entry with a share link, a folder, a notice."""
    entry = publish("single")
    room = cast.room("single")
    link = library_services.create_share_link(entry=entry, by=cast.users["host"], expires_in_days=0)
    folder = library_services.create_folder(room=room, name="Slides", parent=None)
    notice, _ = RecordingNotice.objects.get_or_create(
        user=cast.users["host"], recording=entry.source_recording, defaults={"entry": entry}
    )
    broadcast = Room.objects.filter(mode=Room.Mode.BROADCAST).first() or room
    return {"entry": entry, "room": room, "link": link, "folder": folder, "notice": notice, "broadcast": broadcast}


ids = st.one_of(st.integers(min_value=0, max_value=10**18), st.just(-1))


@pytest.mark.django_db
@PROPERTY
@given(who=st.sampled_from(WHO), action=st.sampled_from(ENTRY_ACTIONS), form=forms, use_real=st.booleans(), raw=ids)
def test_entry_forms_never_fail(cast, world, who, action, form, use_real, raw) -> None:
    entry_id = world["entry"].pk if use_real else raw
    client = client_for(cast, who)
    data = {"action": action, **form}
    if action == "delete":
        path = f"/media/{entry_id}/delete/" if entry_id >= 0 else "/media/-1/delete/"
        assert_no_server_error(client.get(path, {"next": str(form.get("next", ""))}), path)
        response = client.post(path, data)
    else:
        path = f"/media/{entry_id}/" if entry_id >= 0 else "/media/-1/"
        response = client.post(path, data)
    assert_no_server_error(response, f"{who} {path} {data}")


@pytest.mark.django_db
@PROPERTY
@given(
    who=st.sampled_from(WHO),
    action=st.sampled_from(ROOM_ACTIONS),
    form=forms,
    panel=st.booleans(),
    upload=st.one_of(st.none(), st.tuples(st.text(max_size=80), st.binary(max_size=2048), st.text(max_size=40))),
    real_folder=st.booleans(),
)
def test_room_media_forms_never_fail(cast, world, who, action, form, panel, upload, real_folder) -> None:
    room = world["room"]
    client = client_for(cast, who)
    data: dict[str, Any] = {"action": action, **form}
    if real_folder:
        data["folder_id"] = str(world["folder"].pk)
    if upload is not None:
        name, content, content_type = upload
        try:
            data["file"] = SimpleUploadedFile(name, content, content_type=content_type or "application/octet-stream")
        except SuspiciousFileOperation:  # a name the test client cannot even hold ("/"); the fuzz sends such raw
            data["file"] = SimpleUploadedFile("f", content, content_type=content_type or "application/octet-stream")
    path = f"/rooms/{room.pk}/media/" + ("?panel=1" if panel else "")
    assert_no_server_error(client.post(path, data), f"{who} {path} {data}")
    query = {k: v for k, v in form.items() if k in ("folder", "page")}
    assert_no_server_error(client.get(f"/rooms/{room.pk}/media/", query), "list")
    assert_no_server_error(client.get(f"/rooms/{room.pk}/media/panel/", query), "panel")
    # Whatever happened, the folders of the room still form a tree.
    assert all(f.parent_id is None or f.parent_id != f.pk for f in Folder.objects.filter(room=room))


@pytest.mark.django_db
@PROPERTY
@given(who=st.sampled_from(WHO), form=forms, notice=st.one_of(st.none(), ids), room=st.one_of(st.none(), ids))
def test_notices_close_room_and_lists_never_fail(cast, world, who, form, notice, room) -> None:
    client = client_for(cast, who)
    notice_id = world["notice"].pk if notice is None else notice
    assert_no_server_error(client.post(f"/notices/{notice_id}/seen/", form), "notice")
    room_id = world["broadcast"].pk if room is None else room
    assert_no_server_error(client.post(f"/rooms/{room_id}/close/", form), "close_room")
    query = {k: v for k, v in form.items() if isinstance(v, str)}
    for path in ("/", "/my-media/", f"/channels/{cast.demo.channel.slug}/media/", f"/rooms/{room_id}/"):
        assert_no_server_error(client.get(path, query), path)


@pytest.mark.django_db
@PROPERTY
@given(who=st.sampled_from(WHO), form=forms, token=st.one_of(st.none(), st.text(max_size=70)))
def test_share_links_never_fail(cast, world, who, form, token) -> None:
    client = client_for(cast, who)
    link: ShareLink = world["link"]
    token = link.token if token is None else token
    for suffix in ("", "stream/", "poster/"):
        response = client.get(f"/s/{token}/{suffix}", {k: v for k, v in form.items() if isinstance(v, str)})
        assert_no_server_error(response, f"share {token!r} {suffix}")


@pytest.mark.django_db
@PROPERTY
@given(form=forms, username=values, password=values, octet=st.integers(1, 254))
def test_login_never_fails(demo, form, username, password, octet) -> None:
    client = Client()
    data = {**form, "username": username, "password": password}
    response = client.post("/login/?next=" + str(form.get("next", "")), data, REMOTE_ADDR=f"192.0.2.{octet}")
    assert_no_server_error(response, f"login {data}")
    assert_no_server_error(Client().post("/admin/login/", data, REMOTE_ADDR=f"192.0.2.{octet}"), "admin login")


# --- ingest -------------------------------------------------------------------------------------------------

header_names = st.sampled_from(
    [b"content-length", b"x-track-kind", b"x-segment-start", b"x-segment-duration", b"x-final", b"origin",
     b"host", b"x-csrftoken", b"cookie", b"content-type", b"x-forwarded-proto", b"transfer-encoding"]
)  # fmt: skip
header_values = st.one_of(
    st.sampled_from([b"", b"0", b"-1", b"1e309", b"nan", b"camera", b"screen", b"1", b"true", b"http://testserver",
                     b"null", b"testserver", b"evil.example", b"a,b", b"99999999999999999999", b" 12 "]),
    st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
)  # fmt: skip
rec_ids = st.one_of(
    st.just(None),  # the real recording
    st.text("0123456789abcdefABCDEF-", min_size=32, max_size=36),
    st.uuids().map(str),
)
bodies = st.one_of(
    st.binary(max_size=3000),
    st.binary(max_size=3000).map(lambda b: b"\x1a\x45\xdf\xa3" + b),
    st.just(None),  # a real small WebM
)


@pytest.fixture
def ingest_world(transactional_db, demo, tmp_path) -> dict[str, Any]:
    from meetings import services as meeting_services
    from recordings import services
    from tests.live.conftest import make_webm

    room = demo.rooms["single"]
    meeting_services.open_or_create_session(room=room)
    recording, _ = services.start_recording(room=room, user=demo.users["host"])
    token, csrf_cookie = csrf_pair()
    cookies = {
        who: f"sessionid={session_cookie(Client(), demo.users[who])}; csrftoken={csrf_cookie}"
        for who in ("host", "participant", "outsider")
    }
    return {"recording": recording, "token": token, "cookies": cookies, "webm": make_webm(tmp_path / "a.webm")}


@PROPERTY
@given(
    method=st.sampled_from(["PUT", "PUT", "PUT", "POST", "GET", "DELETE"]),
    who=st.sampled_from(["host", "participant", "outsider", None]),
    rec_uid=rec_ids,
    room_id=st.one_of(st.none(), st.integers(0, 10**18)),
    track=st.one_of(st.sampled_from(["camera-a", "screen-b"]), st.text(max_size=70).filter(lambda t: "/" not in t)),
    seq=st.integers(0, 999_999_999),
    extra=st.lists(st.tuples(header_names, header_values), max_size=6),
    body=bodies,
    pieces=st.integers(1, 4),
    length=st.sampled_from(["right", "right", "missing", "short", "long", "garbage"]),
    ok_headers=st.booleans(),
)
def test_ingest_never_fails(ingest_world, method, who, rec_uid, room_id, track, seq, extra, body, pieces, length,
                            ok_headers) -> None:  # fmt: skip
    recording = ingest_world["recording"]
    body = ingest_world["webm"] if body is None else body
    path = (
        f"/rooms/{recording.room_id if room_id is None else room_id}/recordings/{rec_uid or recording.uid}"
        f"/tracks/{track}/segments/{seq}"
    )
    headers: list[tuple[bytes, bytes]] = []
    if ok_headers:
        headers += [(b"host", b"testserver"), (b"origin", b"http://testserver"), (b"x-csrftoken", b"t")]
        if who is not None:
            headers.append((b"cookie", ingest_world["cookies"][who].encode()))
    lengths = {"right": str(len(body)), "short": str(max(len(body) - 5, 0)), "long": str(len(body) + 100),
               "garbage": "12abc"}  # fmt: skip
    if length in lengths:
        headers.append((b"content-length", lengths[length].encode()))
    headers += extra
    scope = {
        "type": "http", "method": method, "path": path, "raw_path": path.encode("utf-8", "surrogateescape"),
        "root_path": "", "scheme": "http", "query_string": b"", "headers": headers,
        "server": ("testserver", 80), "client": ("127.0.0.1", 5000),
    }  # fmt: skip
    step = max(1, len(body) // pieces)
    chunks = [body[i : i + step] for i in range(0, len(body), step)] or [b""]

    async def run() -> int:
        app = ApplicationCommunicator(application, scope)
        for i, chunk in enumerate(chunks):
            await app.send_input({"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1})
        start = await app.receive_output(timeout=30)
        assert start["type"] == "http.response.start", start
        while True:  # drain the body
            message = await app.receive_output(timeout=30)
            if not message.get("more_body", False):
                break
        await app.wait(timeout=30)
        return int(start["status"])

    status = asyncio.run(run())
    assert status < 500, (status, method, path, headers[:12], len(body))
