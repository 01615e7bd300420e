"""The LTI 1.3 tool's endpoints (docs/integrations.md "LTI 1.3", decision 0021).

jwks: the tool's public keys. login: the platform's third-party login initiation. launch: the
id_token POSTed back by the platform: a course room, its Media Gallery, one recording, or the
Deep Linking picker. deep_link: the picker's choice, returned to the platform signed.
"""

from __future__ import annotations

import logging

from django.contrib.auth import login as sign_in
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from lti_tool.models import Key, LtiContext, LtiLaunch
from lti_tool.utils import sync_data_from_launch

from lti import deep_linking, launching, services
from lti.launching import LaunchRefused
from lti.models import CourseRoom
from lti.roles import session_role
from media_library import permissions as media_permissions
from media_library import selectors as media_selectors
from media_library.models import MediaEntry
from meetings import permissions as room_permissions
from meetings.http import AuthenticatedHttpRequest
from meetings.models import Room, SessionRole, User

log = logging.getLogger(__name__)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
NOT_ACTIVE = "This course's deployment of Meetings is not active yet: ask an administrator."


def refused(request: HttpRequest, reason: str, *, status: int = 400) -> HttpResponse:
    return render(request, "lti/refused.html", {"reason": reason}, status=status)


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    """The tool's public keys (JWKS), for platforms to check what the tool signs."""
    services.ensure_tool_key()
    return JsonResponse(Key.objects.as_jwks())


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    params = {key: str(value) for key, value in (request.POST if request.method == "POST" else request.GET).items()}
    try:
        # Launches come back to our one launch URL, whatever target_link_uri the platform names.
        return launching.oidc_login(request, params, launch_url=request.build_absolute_uri(reverse("lti:launch")))
    except LaunchRefused as exc:
        return refused(request, exc.reason, status=exc.status)


@csrf_exempt
@xframe_options_exempt
@require_POST
def launch(request: HttpRequest) -> HttpResponse:
    try:
        lti_launch = launching.validated_launch(request)
    except LaunchRefused as exc:
        log.info("LTI launch refused: %s", exc)
        return refused(request, exc.reason, status=exc.status)
    if not lti_launch.deployment.is_active:
        return refused(
            request, "This course's deployment of Meetings is not active yet: ask an administrator.", status=403
        )
    sync_data_from_launch(lti_launch)
    person = services.person_for_launch(
        issuer=str(lti_launch.get_claim("iss")),
        subject=str(lti_launch.get_claim("sub")),
        name=str(lti_launch.get_claim("name") or ""),
        given_name=str(lti_launch.get_claim("given_name") or ""),
        family_name=str(lti_launch.get_claim("family_name") or ""),
        email=str(lti_launch.get_claim("email") or ""),
    )
    sign_in(request, person, backend=MODEL_BACKEND)
    role = session_role(lti_launch.roles_claim)
    context: LtiContext = lti_launch.context
    if lti_launch.is_deep_link_launch:
        return _deep_linking_picker(request, lti_launch, person, role, context)
    if not lti_launch.is_resource_launch:
        return refused(request, "Meetings does not handle this kind of launch.")
    room = services.course_room(context=context, person=person, role=role)
    entry_id = lti_launch.get_custom_claim("entry")
    if entry_id:
        return _open_entry(request, person, room, str(entry_id))
    if lti_launch.get_custom_claim("view") == "gallery":
        return _gallery(request, person, room, context)
    if room is None:
        return refused(request, "Your course's room opens once an instructor has launched it.", status=409)
    return HttpResponseRedirect(reverse("room", args=[room.pk]))


def _open_entry(request: HttpRequest, person: User, room: Room | None, entry_id: str) -> HttpResponse:
    """A recording placed in the course by Deep Linking: its page, for those SPEC lets see it."""
    entry = MediaEntry.objects.filter(pk=int(entry_id), room=room).first() if entry_id.isdigit() and room else None
    if entry is None or not media_permissions.can(person, media_permissions.Action.VIEW, entry):
        return refused(request, "You do not have access to this recording.", status=403)
    return HttpResponseRedirect(reverse("media_library:entry", args=[entry.pk]))


def _gallery(
    request: HttpRequest, person: User, room: Room | None, context: LtiContext, *, q: str = "", page: str | None = None
) -> HttpResponse:
    entries = media_selectors.room_recordings_page(user=person, room=room, q=q, page=page) if room is not None else None
    return render(
        request,
        "lti/gallery.html",
        {"course_title": services.course_title(context), "room": room, "page": entries, "q": q},
    )


@login_required
@require_GET
@xframe_options_exempt
def gallery(request: AuthenticatedHttpRequest, room_id: int) -> HttpResponse:
    """The course's Media Gallery again (search, further pages), for the course's members."""
    link = CourseRoom.objects.select_related("room", "context").filter(room_id=room_id).first()
    if link is None or not (
        request.user.is_staff or room_permissions.session_role(request.user, link.room) is not None
    ):
        raise Http404
    q = media_selectors.clean_query(request.GET.get("q"))
    return _gallery(request, request.user, link.room, link.context, q=q, page=request.GET.get("page"))


def _deep_linking_picker(
    request: HttpRequest, lti_launch: LtiLaunch, person: User, role: SessionRole, context: LtiContext
) -> HttpResponse:
    if not room_permissions.is_leader(role):
        return refused(request, "Only the course's instructors can add Meetings content to it.", status=403)
    room = services.course_room(context=context, person=person, role=role)
    settings_claim = lti_launch.get_claim(deep_linking.DEEP_LINKING_SETTINGS) or {}
    pending = deep_linking.Pending(
        registration_id=launching.registration_for(lti_launch).pk,
        deployment_id=lti_launch.deployment.deployment_id,
        settings=dict(settings_claim),
        user_id=person.pk,
        room_id=room.pk if room is not None else None,
    )
    entries = media_selectors.room_recordings_page(user=person, room=room) if room is not None else None
    return render(
        request,
        "lti/picker.html",
        {"course_title": services.course_title(context), "room": room, "page": entries, "pending": pending.sign()},
    )


@csrf_exempt  # the signed `pending` value, only ever given to the picker's page, is the proof
@xframe_options_exempt
@require_POST
def deep_link(request: HttpRequest) -> HttpResponse:
    pending = deep_linking.Pending.load(request.POST.get("pending", ""))
    if pending is None:
        return refused(request, "This choice came too late or was changed. Start again from your course.", status=403)
    person = User.objects.filter(pk=pending.user_id, is_active=True).first()
    room = Room.objects.filter(pk=pending.room_id).first() if pending.room_id else None
    return_url = str(pending.settings.get("deep_link_return_url", ""))
    if person is None or room is None or not return_url.startswith(("https://", "http://")):
        return refused(request, "This choice cannot be added to your course. Start again from your course.")
    launch_url = request.build_absolute_uri(reverse("lti:launch"))
    choice = request.POST.get("choice", "")
    if choice == "room":
        item = deep_linking.Item(title=room.title, url=launch_url, custom={})
    elif choice == "gallery":
        item = deep_linking.Item(title=f"{room.title} · Media Gallery", url=launch_url, custom={"view": "gallery"})
    else:
        entry_id = choice.removeprefix("entry:")
        entry = (
            MediaEntry.objects.filter(pk=int(entry_id), room=room, source_recording__isnull=False).first()
            if entry_id.isdigit()
            else None
        )
        if entry is None or not media_permissions.can(person, media_permissions.Action.LIST, entry):
            return refused(request, "Choose the room or one of the course's recordings.")
        item = deep_linking.Item(title=entry.title, url=launch_url, custom={"entry": str(entry.pk)})
    jwt = deep_linking.response_jwt(pending, [item])
    return render(request, "lti/deep_link_return.html", {"return_url": return_url, "jwt": jwt, "item": item})
