"""The room owner's webhooks page: list, add, rotate the secret, send a test event, disable, delete.

Thin: the room policy decides who may (RoomAction.MANAGE_WEBHOOKS, the room's owner); a room
one may not manage and an endpoint not of this room answer 404, like one that does not exist.
Every write is a webhooks service. A secret is shown once, in the answer to the POST that made it
(registration or rotation), never after a redirect and never cached.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from meetings import permissions as room_permissions
from meetings.http import AuthenticatedHttpRequest
from meetings.models import Room
from meetings.permissions import RoomAction
from webhooks import selectors, services
from webhooks.forms import EVENT_HELP, RoomEndpointForm
from webhooks.models import SUBSCRIBABLE, Endpoint


def _room_or_404(request: AuthenticatedHttpRequest, room_id: int) -> Room:
    room = Room.objects.select_related("channel").filter(pk=room_id).first()
    if room is None or not room_permissions.can(request.user, RoomAction.MANAGE_WEBHOOKS, room):
        raise Http404("No such room.")  # hosts who do not own it, participants, outsiders: as if absent
    return room


def _endpoint_or_404(room: Room, endpoint_id: int) -> Endpoint:
    endpoint = selectors.room_endpoint(room_id=room.pk, endpoint_id=endpoint_id)
    if endpoint is None:
        raise Http404("No such endpoint.")
    return endpoint


def _page(
    request: AuthenticatedHttpRequest,
    room: Room,
    form: RoomEndpointForm,
    *,
    secret_of: Endpoint | None = None,
    status: int = 200,
) -> HttpResponse:
    chosen = set(form["events"].value() or [])
    response = render(
        request,
        "webhooks/room_webhooks.html",
        {
            "room": room,
            "form": form,
            "event_rows": [(value, EVENT_HELP.get(value, ""), value in chosen) for value, _ in SUBSCRIBABLE],
            "endpoints": selectors.room_endpoints(room_id=room.pk),
            "secret_of": secret_of,
            "endpoints_max": services.ROOM_ENDPOINTS_MAX,
        },
        status=status,
    )
    if secret_of is not None:
        response["Cache-Control"] = "no-store"  # the secret is in this page: never kept by a cache
    return response


def _back(room: Room) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("webhooks:room_webhooks", args=[room.pk]))


@login_required
@require_http_methods(["GET", "POST"])
def room_webhooks(request: AuthenticatedHttpRequest, room_id: int) -> HttpResponse:
    room = _room_or_404(request, room_id)
    if request.method == "GET":
        return _page(request, room, RoomEndpointForm())
    form = RoomEndpointForm(request.POST)
    if not form.is_valid():
        return _page(request, room, form, status=400)
    try:
        endpoint = services.create_room_endpoint(
            room=room,
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            description=form.cleaned_data["description"],
            by=request.user,
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return _page(request, room, form, status=400)
    # Answered here, not after a redirect: the secret is shown this once.
    return _page(request, room, RoomEndpointForm(), secret_of=endpoint, status=201)


@login_required
@require_POST
def rotate(request: AuthenticatedHttpRequest, room_id: int, endpoint_id: int) -> HttpResponse:
    room = _room_or_404(request, room_id)
    endpoint = services.rotate_secret(endpoint=_endpoint_or_404(room, endpoint_id))
    return _page(request, room, RoomEndpointForm(), secret_of=endpoint)


@login_required
@require_POST
def send_test(request: AuthenticatedHttpRequest, room_id: int, endpoint_id: int) -> HttpResponse:
    room = _room_or_404(request, room_id)
    endpoint = _endpoint_or_404(room, endpoint_id)
    if not endpoint.is_active:
        messages.error(request, f"{endpoint.url} is disabled: enable it to send it a test event.")
        return _back(room)
    services.send_test_event(endpoint=endpoint, by=request.user)
    messages.success(request, f"A test event is on its way to {endpoint.url}; its delivery shows below.")
    return _back(room)


@login_required
@require_POST
def set_active(request: AuthenticatedHttpRequest, room_id: int, endpoint_id: int) -> HttpResponse:
    room = _room_or_404(request, room_id)
    active = request.POST.get("active") == "1"
    endpoint = services.set_active(endpoint=_endpoint_or_404(room, endpoint_id), active=active)
    messages.success(request, f"{endpoint.url} is {'enabled' if active else 'disabled: it is sent nothing'}.")
    return _back(room)


@login_required
@require_POST
def delete(request: AuthenticatedHttpRequest, room_id: int, endpoint_id: int) -> HttpResponse:
    room = _room_or_404(request, room_id)
    endpoint = _endpoint_or_404(room, endpoint_id)
    url = endpoint.url
    services.delete_endpoint(endpoint=endpoint)
    messages.success(request, f"Deleted the endpoint {url}.")
    return _back(room)
