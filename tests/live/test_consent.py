"""Consent to be recorded (issue 12): answers per person and recording, ingest refusing the media
of whoever has not agreed, the room's socket command, the admin and the consent report."""

from __future__ import annotations

import asyncio
import csv
import io

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from config.asgi import application
from meetings import services as meeting_services
from meetings.models import Room, User
from recordings import services
from recordings.consent_report import consent_csv
from recordings.models import ConsentAnswer, Recording, Segment, Track
from recordings.notices import TEXTS
from tests.live.conftest import RoomSocket, csrf_pair, make_webm, session_cookie

BASE = "http://testserver"
# The docs' words (docs/notices.md "Consent and automatic recording"), spelled out here.
REFUSED = (
    "Not recorded: you have not agreed to be recorded, so this recording does not take your camera, "
    "microphone or screen."
)


def consenting_recording(room: Room, host: User) -> Recording:
    Room.objects.filter(pk=room.pk).update(ask_recording_consent=True)
    room.refresh_from_db()
    meeting_services.open_or_create_session(room=room)
    recording, _ = services.start_recording(room=room, user=host)
    return recording


def put_segments(recording: Recording, user: User, body: bytes, seqs: list[int], track: str = "camera-p") -> list:
    """PUT segments through the ASGI application Daphne serves; (status, json) of each."""
    token, csrf_cookie = csrf_pair()
    cookies = {"sessionid": session_cookie(Client(), user), "csrftoken": csrf_cookie}
    headers = {"X-CSRFToken": token, "Origin": BASE, "X-Track-Kind": "camera"}

    async def run() -> list:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=BASE, cookies=cookies, headers=headers) as client:
            out = []
            for seq in seqs:
                url = f"/rooms/{recording.room_id}/recordings/{recording.uid}/tracks/{track}/segments/{seq}"
                response = await client.put(url, content=body)
                out.append((response.status_code, response.json()))
            return out

    return asyncio.run(run())


@pytest.mark.django_db
def test_answers_are_kept_per_person_and_recording_with_their_history(demo) -> None:
    room, host, participant = demo.rooms["single"], demo.users["host"], demo.users["participant"]
    first = consenting_recording(room, host)
    assert first.consent_required is True
    services.answer_consent(recording=first, user=participant, answer="decline")
    services.answer_consent(recording=first, user=participant, answer="agree")
    services.answer_consent(recording=first, user=host, answer="decline")
    row = ConsentAnswer.objects.get(recording=first, user=participant)
    assert row.answer == "agree" and [step["answer"] for step in row.history] == ["decline", "agree"]
    assert row.first_answered_at < row.answered_at
    assert services.may_record(recording=first, user_id=participant.pk)
    assert not services.may_record(recording=first, user_id=host.pk)
    assert not services.may_record(recording=first, user_id=demo.users["moderator"].pk)  # no answer: declined
    services.stop_recording(recording=first, reason=Recording.StopReason.STOPPED_BY_HOST)
    with pytest.raises(services.RecordingError):  # a stopped recording takes no answer
        services.answer_consent(recording=first, user=participant, answer="decline")
    services.fail_recording(recording_id=first.pk, error="test: out of the way")
    second, _ = services.start_recording(room=room, user=host)
    assert second.pk != first.pk
    assert not services.may_record(recording=second, user_id=participant.pk)  # asked again, per recording
    services.answer_consent(recording=second, user=participant, answer="decline")
    assert ConsentAnswer.objects.filter(user=participant).count() == 2
    with pytest.raises(services.RecordingError):
        services.answer_consent(recording=second, user=participant, answer="maybe")


@pytest.mark.django_db
def test_a_room_that_does_not_ask_records_everyone(demo, settings) -> None:
    room = demo.rooms["single"]
    assert room.ask_recording_consent is False  # the site default, RECORDING_CONSENT_DEFAULT
    meeting_services.open_or_create_session(room=room)
    recording, _ = services.start_recording(room=room, user=demo.users["host"])
    assert recording.consent_required is False
    assert services.may_record(recording=recording, user_id=demo.users["participant"].pk)
    with pytest.raises(services.RecordingError, match="does not ask"):
        services.answer_consent(recording=recording, user=demo.users["participant"], answer="agree")
    settings.RECORDING_CONSENT_DEFAULT = True
    assert Room.objects.create(title="New", owner=demo.users["host"], creator=demo.users["host"]).ask_recording_consent


@pytest.mark.django_db(transaction=True)
def test_ingest_refuses_a_decliner_and_a_non_answerer_and_accepts_after_agree(demo, tmp_path) -> None:
    room, participant = demo.rooms["single"], demo.users["participant"]
    recording = consenting_recording(room, demo.users["host"])
    body = make_webm(tmp_path / "p.webm")
    # Not answered yet: treated as declining.
    assert put_segments(recording, participant, body, [0]) == [(409, {"ok": False, "error": REFUSED})]
    services.answer_consent(recording=recording, user=participant, answer="decline")
    assert put_segments(recording, participant, body, [0, 1]) == [(409, {"ok": False, "error": REFUSED})] * 2
    assert not Track.objects.filter(user=participant).exists() and not Segment.objects.exists()
    recording.refresh_from_db()
    assert recording.state == "starting"  # a decliner's media does not even start the recording
    services.answer_consent(recording=recording, user=participant, answer="agree")
    assert [status for status, _ in put_segments(recording, participant, body, [2])] == [201]
    assert Segment.objects.get().track.user == participant
    # Changed their mind again: refused again, from the next segment on.
    services.answer_consent(recording=recording, user=participant, answer="decline")
    assert put_segments(recording, participant, body, [3])[0][0] == 409
    assert Segment.objects.count() == 1


@pytest.mark.django_db
def test_record_segment_itself_refuses_without_agreement(demo) -> None:
    """The service is the last word, whatever called it (a race with a decline after ingest asked)."""
    recording = consenting_recording(demo.rooms["single"], demo.users["host"])
    with pytest.raises(services.ConsentRefused, match="not agreed"):
        services.record_segment(recording=recording, user=demo.users["participant"], client_id="c", kind="camera",
                                seq=0, relpath="x.webm", size=1, sha256="0" * 64, client_start_ms=None,
                                duration=1.0)  # fmt: skip
    assert not Track.objects.exists()


@pytest.mark.django_db
def test_the_consent_report_and_the_admin(client, demo) -> None:
    room, participant, host = demo.rooms["single"], demo.users["participant"], demo.users["host"]
    User.objects.filter(pk=participant.pk).update(display_name="=HYPERLINK(1)")
    recording = consenting_recording(room, host)
    services.answer_consent(recording=recording, user=participant, answer="decline")
    services.answer_consent(recording=recording, user=participant, answer="agree")
    services.answer_consent(recording=recording, user=demo.users["moderator"], answer="decline")
    rows = list(csv.DictReader(io.StringIO(consent_csv(ConsentAnswer.objects.all()))))
    assert [(r["username"], r["answer"], r["answers given"]) for r in rows] == [
        ("participant", "agree", "2"),
        ("moderator", "decline", "1"),
    ]
    assert rows[0]["room"] == "Weekly planning" and rows[0]["recording"] == str(recording.uid)
    assert rows[0]["name"] == "'=HYPERLINK(1)"  # never run as a formula by a spreadsheet

    client.force_login(demo.users["admin"])
    page = client.get(reverse("admin:recordings_recording_change", args=[recording.pk])).content.decode()
    assert "Consent answers" in page and "participant" in page and "Declined" in page
    listing = client.get(reverse("admin:recordings_consentanswer_changelist")).content.decode()
    assert "Agreed" in listing and "Declined" in listing
    for url, selected in (
        (reverse("admin:recordings_recording_changelist"), recording.pk),
        (reverse("admin:recordings_consentanswer_changelist"), ConsentAnswer.objects.get(user=participant).pk),
    ):
        response = client.post(url, {"action": "consent_report", "_selected_action": [selected]})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        assert "participant,'=HYPERLINK(1)" in response.content.decode()
    # Answers are the person's: the admin neither adds nor edits them.
    assert client.get(reverse("admin:recordings_consentanswer_add")).status_code == 403
    client.force_login(host)
    assert client.get(reverse("admin:recordings_consentanswer_changelist")).status_code == 302


# --- The room's socket ----------------------------------------------------------------------


async def cookie(user: User) -> str:
    return await sync_to_async(session_cookie)(Client(), user)


@pytest.mark.asyncio
async def test_the_consent_command_is_stored_told_to_every_tab_and_checked(live, demo) -> None:
    room = demo.rooms["single"]
    await sync_to_async(Room.objects.filter(pk=room.pk).update)(ask_recording_consent=True)
    participant = await cookie(demo.users["participant"])
    async with (
        RoomSocket(live, room.pk, await cookie(demo.users["host"])) as host,
        RoomSocket(live, room.pk, participant) as tab1,
        RoomSocket(live, room.pk, participant) as tab2,
    ):
        for ws in (host, tab1, tab2):
            assert (await ws.expect_type("state"))["consent"] is None  # nothing to answer yet
        await tab1.send(type="consent", answer="agree", id="early")
        early = await tab1.expect(lambda m: m.get("id") == "early")
        assert early == {"type": "error", "error": "There is no recording running to answer for.", "id": "early"}
        await host.send(type="start_recording", id=1)
        uid = (await host.expect_type("ack"))["uid"]
        rec = await tab1.expect(lambda m: m.get("type") == "recording")
        assert rec["recording"]["consent_required"] is True
        # Garbage gets a clear error and the socket lives.
        for bad, error in (
            ({"answer": "yes"}, 'A consent answer is "agree" or "decline".'),
            ({}, 'A consent answer is "agree" or "decline".'),
            ({"answer": ["agree"]}, 'A consent answer is "agree" or "decline".'),
            ({"answer": "agree", "recording": 7}, "A consent answer names its recording by its uid."),
            ({"answer": "agree", "recording": "0" * 32}, "That recording is no longer running."),
        ):
            await tab1.send(type="consent", id="bad", **bad)
            assert (await tab1.expect(lambda m: m.get("id") == "bad"))["error"] == error
            tab1.messages.clear()
        assert not await sync_to_async(ConsentAnswer.objects.exists)()
        await tab1.send(type="consent", answer="decline", recording=uid, id=2)
        ack = await tab1.expect(lambda m: m.get("type") == "ack" and m.get("id") == 2)
        assert ack["answer"] == "decline" and ack["uid"] == uid
        for ws in (tab1, tab2):  # both tabs of the person follow the answer
            told = await ws.expect_type("consent")
            assert told["recording_uid"] == uid and told["answer"] == "decline"
            assert told["text"] == TEXTS.text("consent_declined")
        await tab2.send(type="consent", answer="agree", id=3)
        await tab2.expect(lambda m: m.get("type") == "ack" and m.get("id") == 3)
        row = await sync_to_async(ConsentAnswer.objects.get)(user=demo.users["participant"])
        assert row.answer == "agree" and len(row.history) == 2
        assert not any(m.get("type") == "consent" for m in host.messages)  # nobody else's business
        # A new socket of the person (a reload) is given their answer, so they are not asked again.
        async with RoomSocket(live, room.pk, participant) as again:
            assert (await again.expect_type("state"))["consent"] == {"uid": uid, "answer": "agree"}
        async with RoomSocket(live, room.pk, await cookie(demo.users["moderator"])) as late:
            assert (await late.expect_type("state"))["consent"] == {"uid": uid, "answer": None}  # to be asked


def test_the_docs_say_what_the_product_says() -> None:
    """docs/notices.md "Consent and automatic recording" lists each consent text exactly as used."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "notices.md").read_text()
    section = doc.split("## Consent and automatic recording", 1)[1].split("\n## ", 1)[0]
    documented = dict(
        line[3:].split("`: ", 1) for line in section.splitlines() if line.startswith("- `") and "`: " in line
    )
    assert documented == {code: text for code, text in TEXTS.items() if code.startswith("consent_")}
    assert documented["consent_refused"] == REFUSED
