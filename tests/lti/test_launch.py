"""LTI 1.3 launches played end to end against the tool (issue 13 item 3, decision 0021)."""

from __future__ import annotations

import json
import re

import jwt
from django.test import Client
from django.urls import reverse
from jwcrypto.jwk import JWK

from lti.models import CourseRoom, PlatformAccount
from media_library import services as media_services
from meetings.models import Room, RoomCollaborator, SessionRole, User
from meetings.permissions import session_role
from tests.library.conftest import add_coviewer, make_recording
from tests.lti.conftest import INSTRUCTOR, LEARNER, LTI, TEACHING_ASSISTANT, Platform


def person(sub: str) -> User:
    return PlatformAccount.objects.get(subject=sub).user


def test_jwks_serves_the_tools_public_key(client: Client, db) -> None:
    keys = client.get("/lti/jwks/").json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["use"] == "sig" and keys[0]["kid"]
    assert "d" not in keys[0]  # never the private part
    assert client.get("/lti/jwks/").json()["keys"] == keys  # stable: one key, made once


def test_course_room_made_once_and_roles_mapped(platform: Platform) -> None:
    learner = Client()
    early = platform.launch(learner, sub="l-1", roles=LEARNER)
    assert early.status_code == 409 and b"once an instructor has launched it" in early.content
    assert not CourseRoom.objects.exists()

    instructor = Client()
    response = platform.launch(instructor, sub="i-1", roles=INSTRUCTOR, given_name="Ines", family_name="Instructor")
    room = CourseRoom.objects.get().room
    assert response.status_code == 302 and response["Location"] == reverse("room", args=[room.pk])
    owner = person("i-1")
    assert (room.origin, room.kind, room.title) == (Room.Origin.INTEGRATION, Room.Kind.SINGLE, "Biology 101")
    assert room.owner == owner and room.creator == owner  # the first instructor who launches owns it
    assert owner.display_name == "Person i-1" and owner.email == "i-1@lms.example.edu"
    assert instructor.get(reverse("room", args=[room.pk])).status_code == 200  # signed in

    for sub, roles in (("i-2", INSTRUCTOR), ("t-1", TEACHING_ASSISTANT), ("l-1", LEARNER)):
        assert platform.launch(Client(), sub=sub, roles=roles)["Location"] == reverse("room", args=[room.pk])
    assert platform.launch(learner, sub="l-1", roles=LEARNER).status_code == 302
    assert CourseRoom.objects.count() == 1 and Room.objects.filter(lti_course__isnull=False).count() == 1
    assert PlatformAccount.objects.filter(subject="l-1").count() == 1  # matched again by (issuer, subject)
    room.refresh_from_db()
    assert room.owner == owner  # a second instructor does not take it over
    roles = {sub: session_role(person(sub), room) for sub in ("i-1", "i-2", "t-1", "l-1")}
    assert roles == {
        "i-1": SessionRole.HOST,
        "i-2": SessionRole.HOST,
        "t-1": SessionRole.MODERATOR,
        "l-1": SessionRole.PARTICIPANT,
    }

    # The course's role wins on each launch: the learner became a teaching assistant, the TA a learner.
    platform.launch(Client(), sub="l-1", roles=TEACHING_ASSISTANT)
    platform.launch(Client(), sub="t-1", roles=LEARNER)
    assert (
        session_role(person("l-1"), room) == SessionRole.MODERATOR
        and not room.invitees.filter(pk=person("l-1").pk).exists()
    )
    assert (
        session_role(person("t-1"), room) == SessionRole.PARTICIPANT
        and not room.moderators.filter(pk=person("t-1").pk).exists()
    )
    platform.launch(Client(), sub="i-2", roles=LEARNER)
    assert session_role(person("i-2"), room) == SessionRole.PARTICIPANT
    assert not RoomCollaborator.objects.filter(room=room, user=person("i-2")).exists()


def _publish(room: Room, starter: User, mp4_file, django_capture_on_commit_callbacks):
    recording = make_recording(room, starter)
    with django_capture_on_commit_callbacks(execute=True):
        return media_services.publish_recording(recording=recording, mp4_path=str(mp4_file()))


def _entry_links(content: bytes) -> set[int]:
    return {int(pk) for pk in re.findall(rb'href="/media/(\d+)/"', content)}


def test_media_gallery_lists_the_courses_recordings_by_access(
    platform: Platform, demo, mp4_file, django_capture_on_commit_callbacks
) -> None:
    gallery = {LTI + "custom": {"view": "gallery"}}
    instructor, learner = Client(), Client()
    platform.launch(instructor, sub="i-1", roles=INSTRUCTOR)
    platform.launch(Client(), sub="t-1", roles=TEACHING_ASSISTANT)
    platform.launch(learner, sub="l-1", roles=LEARNER)
    room = CourseRoom.objects.get().room
    by_instructor = _publish(room, person("i-1"), mp4_file, django_capture_on_commit_callbacks)
    by_ta = _publish(room, person("t-1"), mp4_file, django_capture_on_commit_callbacks)
    elsewhere = _publish(demo.rooms["single"], demo.users["host"], mp4_file, django_capture_on_commit_callbacks)
    add_coviewer(elsewhere, person("i-1"))  # the instructor may see it, but it is not the course's

    response = platform.launch(instructor, sub="i-1", roles=INSTRUCTOR, **gallery)
    assert response.status_code == 200 and b"Biology 101" in response.content
    # Instructors are the room's co-editors, so they see every course recording (SPEC's table);
    # the teaching assistant, a moderator, sees what they recorded (an integration room's creator owns it).
    assert _entry_links(response.content) == {by_instructor.pk, by_ta.pk}
    assert _entry_links(platform.launch(Client(), sub="t-1", roles=TEACHING_ASSISTANT, **gallery).content) == {by_ta.pk}
    assert by_ta.owner == person("t-1")

    # A learner sees what a participant may see: nothing, until a recording is shared with them.
    learner_view = platform.launch(learner, sub="l-1", roles=LEARNER, **gallery)
    assert learner_view.status_code == 200 and _entry_links(learner_view.content) == set()
    assert b"No recordings for you yet" in learner_view.content
    add_coviewer(by_ta, person("l-1"))
    assert _entry_links(platform.launch(learner, sub="l-1", roles=LEARNER, **gallery).content) == {by_ta.pk}
    # The gallery's own URL (search, pages) answers the same, and only to the course's people.
    url = reverse("lti:gallery", args=[room.pk])
    assert _entry_links(learner.get(url).content) == {by_ta.pk}
    outsider = Client()
    outsider.force_login(demo.users["outsider"])
    assert outsider.get(url).status_code == 404


def test_deep_linking_returns_a_response_signed_by_the_tools_key(
    platform: Platform, client: Client, mp4_file, django_capture_on_commit_callbacks
) -> None:
    platform.launch(Client(), sub="i-1", roles=INSTRUCTOR)
    room = CourseRoom.objects.get().room
    entry = _publish(room, person("i-1"), mp4_file, django_capture_on_commit_callbacks)
    settings_claim = {
        "deep_link_return_url": "https://lms.example.edu/deep-link/return",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "data": "opaque-platform-data",
    }
    dl = {
        LTI + "message_type": "LtiDeepLinkingRequest",
        "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": settings_claim,
    }
    dl[LTI + "resource_link"] = None  # a deep linking request has no resource link
    learner_try = platform.launch(Client(), sub="l-1", roles=LEARNER, **dl)
    assert learner_try.status_code == 403 and b"Only the course" in learner_try.content

    picker = platform.launch(client, sub="i-1", roles=INSTRUCTOR, **dl)
    assert picker.status_code == 200 and f'value="entry:{entry.pk}"'.encode() in picker.content
    pending = re.search(rb'name="pending" value="([^"]+)"', picker.content).group(1).decode()
    tampered = Client().post("/lti/deep-link/", {"pending": pending[:-2] + "xx", "choice": "room"})
    assert tampered.status_code == 403

    answer = Client().post("/lti/deep-link/", {"pending": pending, "choice": f"entry:{entry.pk}"})
    assert answer.status_code == 200
    assert b'action="https://lms.example.edu/deep-link/return"' in answer.content
    token = re.search(rb'name="JWT" value="([^"]+)"', answer.content).group(1).decode()
    jwks = client.get("/lti/jwks/").json()
    kid = jwt.get_unverified_header(token)["kid"]
    public = JWK(**next(key for key in jwks["keys"] if key["kid"] == kid)).export_to_pem()
    claims = jwt.decode(token, public, algorithms=["RS256"], audience=platform.registration.issuer)
    assert claims["iss"] == platform.registration.client_id
    assert claims[LTI + "message_type"] == "LtiDeepLinkingResponse"
    assert claims[LTI + "deployment_id"] == "deployment-1"
    assert claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-platform-data"
    (item,) = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["type"] == "ltiResourceLink" and item["url"] == "http://testserver/lti/launch/"
    assert item["custom"] == {"entry": str(entry.pk)} and item["title"] == entry.title
    # A forged answer would not verify: the tool's key signed it, no other.
    other = JWK.generate(kty="RSA", size=2048).export_to_pem()
    try:
        jwt.decode(token, other, algorithms=["RS256"], audience=platform.registration.issuer)
        raise AssertionError("verified with a key that did not sign it")
    except jwt.InvalidSignatureError:
        pass

    # The placed link, launched: the instructor opens the recording; a learner without access is told so.
    placed = {LTI + "custom": item["custom"]}
    opened = platform.launch(Client(), sub="i-1", roles=INSTRUCTOR, **placed)
    assert opened.status_code == 302 and opened["Location"] == reverse("media_library:entry", args=[entry.pk])
    refused = platform.launch(Client(), sub="l-2", roles=LEARNER, **placed)
    assert refused.status_code == 403 and b"do not have access" in refused.content

    room_answer = Client().post("/lti/deep-link/", {"pending": pending, "choice": "room"})
    room_token = re.search(rb'name="JWT" value="([^"]+)"', room_answer.content).group(1).decode()
    room_item = jwt.decode(room_token, public, algorithms=["RS256"], audience=platform.registration.issuer)[
        "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
    ][0]
    assert room_item["title"] == room.title and room_item["custom"] == {}


def test_tampered_id_token_is_refused(platform: Platform) -> None:
    browser = Client()
    auth = platform.start_login(browser)
    token = platform.id_token(auth, sub="i-1", roles=LEARNER)
    header, body, signature = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(body))
    claims[LTI + "roles"] = INSTRUCTOR  # a learner makes themself an instructor
    forged_body = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    response = browser.post("/lti/launch/", {"id_token": f"{header}.{forged_body}.{signature}", "state": auth["state"]})
    assert response.status_code == 403 and b"signature is not valid" in response.content
    assert not PlatformAccount.objects.exists() and not CourseRoom.objects.exists()
    assert "_auth_user_id" not in browser.session

    # Signed by another key under the platform's key id: refused the same way.
    impostor = JWK.generate(kty="RSA", size=2048, kid=platform.key["kid"])
    auth = platform.start_login(browser)
    forged = platform.id_token(auth, sub="i-1", roles=INSTRUCTOR, key=impostor)
    response = browser.post("/lti/launch/", {"id_token": forged, "state": auth["state"]})
    assert response.status_code == 403 and b"signature is not valid" in response.content
    assert not CourseRoom.objects.exists()


def test_replayed_id_token_is_refused(platform: Platform) -> None:
    browser = Client()
    assert platform.launch(browser, sub="i-1", roles=INSTRUCTOR).status_code == 302
    first = platform.launched[-1]
    again = browser.post("/lti/launch/", first)
    assert again.status_code == 403 and b"already used" in again.content
    # From another browser (no state cookie) too: pylti1p3 lets a state it validated pass again
    # without its cookie; the spent nonce is what stops it.
    elsewhere = Client().post("/lti/launch/", first)
    assert elsewhere.status_code == 403 and b"already used" in elsewhere.content
    # A fresh login's state with the old token: its nonce is spent as well.
    auth = platform.start_login(browser)
    assert browser.post("/lti/launch/", {**first, "state": auth["state"]}).status_code == 403


def test_unknown_platform_and_inactive_deployment_are_refused(platform: Platform) -> None:
    unknown = {"iss": "https://evil.example", "login_hint": "x", "client_id": "x", "lti1p3_new_window": "1"}
    refused = Client().get("/lti/login/", {**unknown, "target_link_uri": "http://testserver/lti/launch/"})
    assert refused.status_code == 400 and b"not registered" in refused.content
    assert Client().post("/lti/launch/", {}).status_code == 400
    platform.registration.deployments.update(is_active=False)
    response = platform.launch(Client(), sub="i-1", roles=INSTRUCTOR)
    assert response.status_code == 403 and b"not active" in response.content
