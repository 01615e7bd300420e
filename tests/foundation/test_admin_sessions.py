"""The LiveSession admin never writes a session's state itself: it shows it, and its actions call the services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from meetings import services
from meetings.models import LiveSession, Room

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:meetings_livesession_changelist"


def run_action(client, action: str, session: LiveSession) -> str:
    response = client.post(reverse(CHANGELIST), {"action": action, "_selected_action": [session.pk]}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def admin_client_(client, demo):
    client.force_login(demo.users["admin"])
    return client


def test_state_is_read_only_on_the_change_form(admin_client_, demo) -> None:
    session = services.open_or_create_session(room=demo.rooms["single"])
    url = reverse("admin:meetings_livesession_change", args=[session.pk])
    page = admin_client_.get(url).content.decode()
    assert '<div class="readonly">Live</div>' in page  # shown, as text
    for field in ("state", "ended_at", "end_reason", "room_closed", "host_left_deadline", "max_end_at", "room"):
        assert f'name="{field}"' not in page, field

    response = admin_client_.post(
        url,
        {
            "state": LiveSession.State.ENDED,
            "end_reason": LiveSession.EndReason.ENDED_BY_HOST,
            "room_closed": "on",
            "presences-TOTAL_FORMS": "0",
            "presences-INITIAL_FORMS": "0",
            "presences-MIN_NUM_FORMS": "0",
            "presences-MAX_NUM_FORMS": "1000",
            "speakers-TOTAL_FORMS": "0",
            "speakers-INITIAL_FORMS": "0",
            "speakers-MIN_NUM_FORMS": "0",
            "speakers-MAX_NUM_FORMS": "1000",
            "_save": "Save",
        },
    )
    assert response.status_code == 302  # saved: the posted values were simply not fields
    session.refresh_from_db()
    assert session.state == LiveSession.State.LIVE
    assert session.end_reason == "" and session.ended_at is None and not session.room_closed


def test_sessions_cannot_be_added(admin_client_) -> None:
    assert admin_client_.get(reverse("admin:meetings_livesession_add")).status_code == 403
    assert 'href="/admin/meetings/livesession/add/"' not in admin_client_.get(reverse(CHANGELIST)).content.decode()


def test_end_action_ends_an_open_session_then_reports_it_already_ended(admin_client_, demo) -> None:
    session = services.open_or_create_session(room=demo.rooms["single"])
    assert session.state == LiveSession.State.LIVE

    page = run_action(admin_client_, "end_for_everyone", session)
    session.refresh_from_db()
    assert session.state == LiveSession.State.ENDED
    assert session.end_reason == LiveSession.EndReason.ENDED_BY_HOST
    assert session.ended_at is not None
    assert "Ended 1 session for everyone." in page
    assert "already ended" not in page

    ended_at = session.ended_at
    page = run_action(admin_client_, "end_for_everyone", session)
    session.refresh_from_db()
    assert session.ended_at == ended_at
    assert "1 session was already ended." in page
    assert "Ended 1 session" not in page


def test_go_live_moves_a_preview_broadcast_to_live(admin_client_, demo) -> None:
    room = demo.rooms["single"]
    room.mode = Room.Mode.BROADCAST
    room.save(update_fields=["mode"])
    session = services.open_or_create_session(room=room)
    assert session.state == LiveSession.State.PREVIEW

    page = run_action(admin_client_, "go_live", session)
    session.refresh_from_db()
    assert session.state == LiveSession.State.LIVE
    assert "1 broadcast went live." in page

    page = run_action(admin_client_, "go_live", session)
    session.refresh_from_db()
    assert session.state == LiveSession.State.LIVE
    assert "1 session was not in preview" in page


def test_go_live_leaves_interactive_and_ended_sessions_alone(admin_client_, demo) -> None:
    session = services.open_or_create_session(room=demo.rooms["single"])
    services.end_session(session=session, reason=LiveSession.EndReason.ENDED_BY_HOST)
    page = run_action(admin_client_, "go_live", session)
    session.refresh_from_db()
    assert session.state == LiveSession.State.ENDED
    assert "not in preview" in page
