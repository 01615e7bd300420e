"""The room's pages: the home page (your rooms) and the room itself.

An edge (DESIGN.md "One direction"): it composes meetings (rooms, roles, sessions), recordings
(held broadcast recordings) and the media library (its panel's URL). Every request is
authorised by the room policy, `meetings.permissions.can`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from meetings import permissions, selectors, services, signalling
from meetings.http import AuthenticatedHttpRequest
from meetings.models import Room, SessionRole
from meetings.permissions import RoomAction
from recordings import selectors as recording_selectors
from rooms.notices import ALL


@dataclass(frozen=True)
class RoomCard:
    """A room on the home page, with what its leaders must not miss."""

    room: Room
    role: SessionRole
    live: bool
    held: int  # broadcast recordings waiting for the room to be closed (for leaders only)
    webhooks: bool  # the owner may register the room's webhooks (a link on the card)


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    rooms = selectors.rooms_for_user(user=request.user)
    held = recording_selectors.held_counts(room_ids=[item.room.pk for item in rooms])
    cards = [
        RoomCard(
            room=item.room,
            role=item.role,
            live=item.live,
            held=held.get(item.room.pk, 0)
            if permissions.role_can(item.role, RoomAction.SEE_HELD_RECORDINGS, item.room)
            else 0,
            # owns() first: it needs no query, and can() (one query) is asked only of the owner's rooms.
            webhooks=permissions.owns(request.user, item.room)
            and permissions.can(request.user, RoomAction.MANAGE_WEBHOOKS, item.room),
        )  # fmt: skip
        for item in rooms
    ]
    return render(
        request,
        "meetings/home.html",
        {"rooms": cards, "channels": selectors.channels_for_user(user=request.user)},
    )


# Stand-ins reversed, then named: the URL patterns stay the one definition of the presented files' paths.
_ID, _PAGE = 987654321, 123456789


def _url_template(name: str, room_id: int, *, page: bool = False) -> str:
    url = reverse(name, args=[room_id, _ID, _PAGE] if page else [room_id, _ID])
    return url.replace(f"/{_ID}/", "/{id}/").replace(f"/{_PAGE}/", "/{page}/")


@login_required
def room_page(request: AuthenticatedHttpRequest, room_id: int) -> HttpResponse:
    room = get_object_or_404(Room.objects.select_related("channel", "owner"), pk=room_id)
    role = permissions.session_role(request.user, room)
    if not permissions.role_can(role, RoomAction.JOIN, room):
        raise Http404("No such room.")  # not found and not allowed look the same
    assert role is not None
    leader = permissions.is_leader(role)
    # Everything the room's JavaScript needs, handed over with json_script (static/js/room/).
    room_config = {
        "roomId": room.pk,
        "role": str(role),
        "isLeader": leader,
        "broadcast": room.mode == Room.Mode.BROADCAST,
        "wsPath": f"/ws/rooms/{room.pk}/",
        "mediaPanelUrl": reverse("media_library:room_media_panel", args=[room.pk]),
        "homeUrl": reverse("home"),
        # The live mesh's ICE servers (STUN; TURN with short-lived credentials): none by default.
        "iceServers": signalling.ice_servers(user_id=request.user.pk),
        "userName": request.user.label,  # the participant list's own line (names are shown live only)
        "texts": ALL,
        # What is presented (issue 11), loaded through the room: "{id}" and "{page}" filled in by the page.
        "presentedFileUrl": _url_template("media_library:presented_file", room.pk),
        "presentedPageUrl": _url_template("media_library:presented_page", room.pk, page=True),
    }
    see_held = permissions.role_can(role, RoomAction.SEE_HELD_RECORDINGS, room)
    return render(
        request,
        "meetings/room.html",
        {
            "room": room,
            "role": role,
            "is_leader": leader,
            "held": recording_selectors.held_recordings(room=room) if see_held else [],
            "room_config": room_config,
        },
    )


@login_required
@require_POST
def close_room(request: AuthenticatedHttpRequest, room_id: int) -> HttpResponse:
    """A host closes a broadcast room completely, so its held recordings are published."""
    room = get_object_or_404(Room, pk=room_id)
    role = permissions.session_role(request.user, room)
    if not permissions.is_leader(role):
        raise Http404("No such room.")
    if not permissions.role_can(role, RoomAction.CLOSE_ROOM, room):
        messages.error(request, "Only a broadcast room is closed this way.")
        return redirect("room", room_id=room.pk)
    held_before = recording_selectors.held_count(room=room)
    services.close_room(room=room, by=request.user)
    released = held_before - recording_selectors.held_count(room=room)
    messages.success(
        request,
        f"The room is closed. {released} held recording(s) are being published; "
        "you will be told when each file is available."
        if released
        else "The room is closed. No recording was held.",
    )
    return redirect("home")
