from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from meetings import permissions, selectors, services
from meetings.models import Room


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "meetings/home.html",
        {
            "rooms": selectors.rooms_for_user(user=request.user),
            "channels": selectors.channels_for_user(user=request.user),
        },
    )


@login_required
def room_page(request: HttpRequest, room_id: int) -> HttpResponse:
    room = get_object_or_404(Room.objects.select_related("channel", "owner"), pk=room_id)
    role = permissions.session_role(request.user, room)
    if role is None:
        raise Http404("No such room.")  # not found and not allowed look the same
    leader = permissions.is_leader(role)
    return render(
        request,
        "meetings/room.html",
        {
            "room": room,
            "role": role,
            "is_leader": leader,
            "held": selectors.held_recordings(room=room) if leader else [],
        },
    )


@login_required
@require_POST
def close_room(request: HttpRequest, room_id: int) -> HttpResponse:
    """A host closes a broadcast room completely, so its held recordings are published."""
    room = get_object_or_404(Room, pk=room_id)
    if not permissions.is_leader(permissions.session_role(request.user, room)):
        raise Http404("No such room.")
    if room.mode != Room.Mode.BROADCAST:
        messages.error(request, "Only a broadcast room is closed this way.")
        return redirect("room", room_id=room.pk)
    released = services.close_room(room=room, by=request.user)
    messages.success(
        request,
        f"The room is closed. {released} held recording(s) are being published; "
        "you will be told when each file is available."
        if released
        else "The room is closed. No recording was held.",
    )
    return redirect("home")
