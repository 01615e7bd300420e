from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from meetings import permissions, selectors
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
    return render(request, "meetings/room.html", {"room": room, "role": role,
                                                  "is_leader": permissions.is_leader(role)})
