"""Pages and file endpoints of the media library. Thin: parse, ask permissions, call a service, answer.

Every view has a defined answer to garbage: unknown or forbidden things are 404 (they look
the same), a visible entry acted on without the right is 403, bad input is 400 with a
message, an oversized upload is 413, a bad Range is 416.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from pathlib import Path
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.timezone import localtime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from media_library import (
    conf,
    notices,
    origins,
    permissions,
    presenting,
    ranges,
    selectors,
    services,
    signed_links,
    storage,
)
from media_library.models import Folder, MediaEntry, RecordingNotice, RetentionNotice, ShareLink
from media_library.permissions import Action, AnyUser
from meetings import permissions as room_permissions
from meetings.http import AuthenticatedHttpRequest
from meetings.models import Channel, CollaboratorRole, Room, User
from meetings.permissions import RoomAction

logger = logging.getLogger(__name__)


class BadInput(Exception):
    """A request whose input cannot be used; the message is shown to the person (400)."""


class TooLarge(Exception):
    """An upload over MEDIA_UPLOAD_MAX_BYTES (413)."""


class NotFoundHere(Exception):
    """A room action names an entry that is not (visibly) in this room (404)."""


class NotAllowed(Exception):
    """A room action on a visible entry the person may not change (403)."""


def _parse_id(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value.isdigit() or len(value) > 18:
        return None
    return int(value)


def _error(request: HttpRequest, status: int, message: str, *, panel: bool = False) -> HttpResponse:
    template = "media_library/_error_fragment.html" if panel else "media_library/error.html"
    return render(request, template, {"message": message, "status": status}, status=status)


# Longer than any page of ours; a longer `next` is garbage, not a place to go back to.
NEXT_MAX_LENGTH = 2000


def _next_url(request: HttpRequest, default: str) -> str:
    """Where to go after a change: the `next` parameter if it is a safe local path, else `default`.

    Only a path on this site ("/..."): not a view name or a relative word ("my_media", "x",
    "-1"), which `redirect()` would try to reverse (a 500 after the change was saved), and not
    another host or scheme ("//evil.example", "https://...", "/\\evil.example"), which
    Django's `url_has_allowed_host_and_scheme` refuses; https is required when the request is.
    """
    candidate = (request.POST.get("next") or request.GET.get("next") or "").strip()
    if (
        candidate.startswith("/")
        and len(candidate) <= NEXT_MAX_LENGTH
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return default


def _go_next(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Redirect to `_next_url`: always a URL, never a name for `redirect()` to reverse."""
    return HttpResponseRedirect(_next_url(request, default))


# --- Lists --------------------------------------------------------------------------------------------


@login_required
@require_GET
def my_media(request: AuthenticatedHttpRequest) -> HttpResponse:
    q = selectors.clean_query(request.GET.get("q"))
    page = selectors.my_media_page(user=request.user, q=q, page=request.GET.get("page"))
    in_progress = selectors.recordings_in_progress(user=request.user) if page.number == 1 and not q else []
    return render(
        request,
        "media_library/my_media.html",
        {
            "page": page,
            "q": q,
            "in_progress": in_progress,
            "in_progress_failed": any(rec.state == "failed" for rec in in_progress),
            "channels": selectors.member_channels(user=request.user),
            "bin_count": permissions.bin_entries(request.user).count(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def recycle_bin(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The person's deleted entries, restorable until they are deleted for good (staff: the admin)."""
    if request.method == "POST":
        entry_id = _parse_id(request.POST.get("entry_id"))
        entry = selectors.binned_entry(entry_id=entry_id) if entry_id is not None else None
        if entry is None or not permissions.can_restore(request.user, entry):
            raise Http404("No such entry in your recycle bin.")
        services.restore_entry(entry=entry)
        messages.success(request, f"{notices.fill('restored_from_bin')}: “{entry.title}”.")
        return _go_next(request, reverse("media_library:recycle_bin"))
    page = selectors.bin_page(user=request.user, page=request.GET.get("page"))
    return render(request, "media_library/recycle_bin.html", {"page": page, "bin_days": conf.recycle_bin_days()})


@login_required
@require_GET
def channel_media(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    channel = Channel.objects.filter(slug=slug).first()
    if channel is None or not permissions.can_view_channel_media(request.user, channel):
        raise Http404("No such channel.")
    q = selectors.clean_query(request.GET.get("q"))
    page = selectors.channel_media_page(user=request.user, channel=channel, q=q, page=request.GET.get("page"))
    return render(
        request,
        "media_library/channel_media.html",
        {"channel": channel, "page": page, "q": q, "channel_origin": origins.channel_origin(channel).key},
    )


# --- One entry ----------------------------------------------------------------------------------------


class Refused(Exception):
    """A visible entry, but not this action: 403 with a message (its existence is no secret to them)."""


def answers_refusals(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except Refused as exc:
            return _error(request, 403, str(exc))

    return wrapper


def _entry_or_404(user: User, entry_id: int, action: Action) -> MediaEntry:
    """The entry, if `user` may do `action` to it.

    404 when they may not even view it (not found and not allowed look alike); 403 when they
    can see it but not do this.
    """
    entry = selectors.entry_for_page(entry_id=entry_id)
    if entry is None:
        raise Http404("No such media entry.")
    allowed = permissions.allowed_actions(user, entry)
    if action in allowed:
        return entry
    if Action.VIEW in allowed:
        raise Refused("You may not do that to this entry.")
    raise Http404("No such media entry.")


@dataclass(frozen=True)
class EntryAction:
    needs: Action
    run: Callable[[AuthenticatedHttpRequest, MediaEntry], str]


def _rename(request: HttpRequest, entry: MediaEntry) -> str:
    services.rename_entry(entry=entry, title=request.POST.get("title", ""))
    return "Renamed."


def _add_collaborator(request: HttpRequest, entry: MediaEntry) -> str:
    collaborator = services.add_collaborator(
        entry=entry, username=request.POST.get("username", ""), role=request.POST.get("role", "")
    )
    return f"{collaborator.user.label} is now {collaborator.get_role_display().lower()}."


def _remove_collaborator(request: HttpRequest, entry: MediaEntry) -> str:
    user_id = _parse_id(request.POST.get("user_id"))
    if user_id is None:
        raise BadInput("Which collaborator should be removed?")
    services.remove_collaborator(entry=entry, user_id=user_id)
    return "Collaborator removed."


def _create_share(request: AuthenticatedHttpRequest, entry: MediaEntry) -> str:
    days = _parse_id(request.POST.get("expires_in_days", "0"))
    if days is None:
        raise BadInput("Choose how long the link should work.")
    services.create_share_link(entry=entry, by=request.user, expires_in_days=days)
    return "Share link created. Anyone with the link can watch until you revoke it."


def _revoke_share(request: HttpRequest, entry: MediaEntry) -> str:
    link_id = _parse_id(request.POST.get("link_id"))
    if link_id is None:
        raise BadInput("Which link should be revoked?")
    services.revoke_share_link(entry=entry, link_id=link_id)
    return "Share link revoked. It no longer works."


ENTRY_ACTIONS: dict[str, EntryAction] = {
    "rename": EntryAction(Action.RENAME, _rename),
    "add_collaborator": EntryAction(Action.MANAGE_COLLABORATORS, _add_collaborator),
    "remove_collaborator": EntryAction(Action.MANAGE_COLLABORATORS, _remove_collaborator),
    "create_share": EntryAction(Action.SHARE, _create_share),
    "revoke_share": EntryAction(Action.SHARE, _revoke_share),
}


@login_required
@require_http_methods(["GET", "POST"])
def entry_page(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    entry = _entry_or_404(request.user, entry_id, Action.VIEW)
    origin = origins.entry_origin(request.user, entry, request.GET.get("from"))
    if request.method == "POST":
        return _entry_post(request, entry, origin)
    services.note_view(entry=entry)
    allowed = permissions.allowed_actions(request.user, entry)
    return render(
        request,
        "media_library/entry.html",
        {
            "entry": entry,
            "origin": origin,
            "origin_param": _kept_origin(request, origin),  # carried by the Delete link
            "allowed": {action.value for action in allowed},
            "collaborators": selectors.entry_collaborators(entry=entry)
            if Action.MANAGE_COLLABORATORS in allowed
            else [],
            "share_links": selectors.live_share_links(entry=entry) if Action.SHARE in allowed else [],
            "roles": CollaboratorRole.choices,
            "expiry_choices": [(0, "Until revoked"), (1, "1 day"), (7, "7 days"), (30, "30 days"), (90, "90 days")],
            "stream_url": reverse("media_library:entry_stream", args=[entry.pk]),
            "download_url": reverse("media_library:entry_download", args=[entry.pk])
            if Action.DOWNLOAD in allowed
            else "",
            "poster_url": reverse("media_library:entry_poster", args=[entry.pk]) if entry.poster else "",
        },
    )


def _kept_origin(request: HttpRequest, origin: origins.Origin) -> str:
    """The `from` to carry on: the one asked for when it was honoured; none when the default was used."""
    asked = request.GET.get("from") or request.POST.get("from") or ""
    return origin.key if asked.strip() == origin.key else ""


def _entry_page_url(entry: MediaEntry, kept: str) -> str:
    """The entry's page, still saying where it was opened from (if it was said)."""
    url = reverse("media_library:entry", args=[entry.pk])
    return f"{url}?{urlencode({'from': kept}, safe=':')}" if kept else url


def _entry_post(request: AuthenticatedHttpRequest, entry: MediaEntry, origin: origins.Origin) -> HttpResponse:
    handler = ENTRY_ACTIONS.get(request.POST.get("action", ""))
    if handler is None:
        return _error(request, 400, "Unknown action.")
    if not permissions.can(request.user, handler.needs, entry):
        return _error(request, 403, "You may not do that to this entry.")
    try:
        done = handler.run(request, entry)
    except (services.LibraryError, BadInput) as exc:
        return _error(request, 400, str(exc))
    messages.success(request, done)
    return _go_next(request, _entry_page_url(entry, _kept_origin(request, origin)))


@login_required
@answers_refusals
@require_http_methods(["GET", "POST"])
def entry_delete(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    entry = _entry_or_404(request.user, entry_id, Action.DELETE)
    # Back to the list it was opened from (its breadcrumb's origin); `next` (a room's panel) wins.
    origin = origins.entry_origin(request.user, entry, request.GET.get("from") or request.POST.get("from"))
    default_next = origin.url
    if request.method == "GET":
        return render(
            request,
            "media_library/entry_delete.html",
            {
                "entry": entry,
                "next": _next_url(request, default_next),
                "cancel_url": _next_url(request, _entry_page_url(entry, _kept_origin(request, origin))),
            },
        )
    if request.POST.get("confirm") != "yes":
        return _error(request, 400, "Please confirm the deletion.")
    title = entry.title
    services.delete_entry(entry=entry, by=request.user)
    messages.success(request, f"“{title}”: {notices.fill('moved_to_bin', days=conf.recycle_bin_days())}.")
    return _go_next(request, default_next)


@login_required
@answers_refusals
@require_POST
def entry_keep(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    """The owner keeps an entry the retention policy was about to delete (My Media's card, the entry page)."""
    entry = _entry_or_404(request.user, entry_id, Action.KEEP)
    due = entry.deletion_due_at
    services.keep_entry(entry=entry)
    if due is not None:
        messages.success(request, f"“{entry.title}”: {notices.fill('retention_kept', date=_day(due))}.")
    return _go_next(request, reverse("media_library:my_media"))


def _day(moment: datetime) -> str:
    return date_format(localtime(moment), "M j, Y")


# --- Files: stream, download, poster ----------------------------------------------------------------


def _serve_file(request: HttpRequest, entry: MediaEntry, *, as_attachment: bool) -> HttpResponseBase:
    name = entry.file.name
    if not name:  # a FieldFile is false exactly when it has no name
        raise Http404("This entry has no file.")
    backend = entry.file.storage
    filename = services.entry_disposition_name(entry)
    content_type = entry.content_type or "application/octet-stream"
    path = storage.local_path(backend, name)
    if path is None:
        # S3: a signed, expiring URL; S3 itself answers the browser's Range requests.
        inline = not as_attachment and ranges.is_inline_safe(content_type)
        disposition = content_disposition_header(not inline, filename)
        assert disposition is not None  # None only inline without a filename; there is always one
        return HttpResponseRedirect(
            storage.signed_url(
                backend,
                name,
                content_type=content_type if inline else "application/octet-stream",
                disposition=disposition,
            )
        )
    try:
        return ranges.file_response(
            request, path=path, content_type=content_type, filename=filename, as_attachment=as_attachment
        )
    except FileNotFoundError:
        logger.error("entry %s: stored file %s is missing", entry.pk, name)
        raise Http404("The file of this entry is missing.") from None


def _serve_poster(entry: MediaEntry) -> HttpResponse:
    name = entry.poster.name
    if not name:  # a FieldFile is false exactly when it has no name
        raise Http404("No poster.")
    backend = entry.poster.storage
    path = storage.local_path(backend, name)
    if path is None:
        return HttpResponseRedirect(storage.signed_url(backend, name, content_type="image/jpeg", disposition="inline"))
    try:
        with open(path, "rb") as fh:  # posters are small (tens of KB): read whole
            data = fh.read()
    except FileNotFoundError:
        raise Http404("No poster.") from None
    content_type = "image/png" if name.endswith(".png") else "image/jpeg"
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@answers_refusals
@require_http_methods(["GET", "HEAD"])
def entry_stream(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponseBase:
    entry = _entry_or_404(request.user, entry_id, Action.STREAM)
    services.note_view(entry=entry)
    return _serve_file(request, entry, as_attachment=False)


@login_required
@answers_refusals
@require_http_methods(["GET", "HEAD"])
def entry_download(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponseBase:
    entry = _entry_or_404(request.user, entry_id, Action.DOWNLOAD)
    services.note_view(entry=entry)
    return _serve_file(request, entry, as_attachment=True)


@login_required
@require_GET
def entry_poster(request: AuthenticatedHttpRequest, entry_id: int) -> HttpResponse:
    return _serve_poster(_entry_or_404(request.user, entry_id, Action.VIEW))


# --- Share links: anyone holding the token, signed in or not -------------------------------------------


def _shared_entry(token: str, action: Action, user: AnyUser) -> tuple[ShareLink, MediaEntry]:
    link = permissions.live_share_link(None, token)
    if link is None or not permissions.can(user, action, link.entry, share_token=token):
        raise Http404("This link does not work (it may have been revoked or have expired).")
    return link, link.entry


@require_GET
def share_page(request: HttpRequest, token: str) -> HttpResponse:
    link, entry = _shared_entry(token, Action.VIEW, request.user)
    return render(
        request,
        "media_library/share.html",
        {
            "entry": entry,
            "link": link,
            "stream_url": reverse("media_library:share_stream", args=[token]),
            "poster_url": reverse("media_library:share_poster", args=[token]) if entry.poster else "",
        },
    )


@require_http_methods(["GET", "HEAD"])
def share_stream(request: HttpRequest, token: str) -> HttpResponseBase:
    _, entry = _shared_entry(token, Action.STREAM, request.user)
    services.note_view(entry=entry)
    return _serve_file(request, entry, as_attachment=False)


@require_GET
def share_poster(request: HttpRequest, token: str) -> HttpResponse:
    _, entry = _shared_entry(token, Action.VIEW, request.user)
    return _serve_poster(entry)


# --- Signed download links: anyone holding one, until it expires (media_library.signed_links) ------------


@csrf_exempt  # read-only, and its credential is the link itself: a POST gets 405, not a CSRF page
@require_http_methods(["GET", "HEAD"])
def signed_download(request: HttpRequest, value: str) -> HttpResponseBase:
    try:
        return signed_links.serve(request, value)
    except signed_links.LinkGone as exc:
        return _error(request, 404, str(exc))


# --- A room's Media and Files ----------------------------------------------------------------------------


def _room_or_404(user: User, room_id: int) -> Room:
    room = Room.objects.select_related("channel").filter(pk=room_id).first()
    if room is None or not room_permissions.can(user, RoomAction.OPEN_MEDIA_AND_FILES, room):
        raise Http404("No such room.")  # participants and outsiders cannot tell it exists
    return room


def _folder_param(room: Room, raw: str | None) -> Folder | None:
    """The folder named by a request parameter; missing means the top level, garbage is BadInput."""
    if raw in (None, ""):
        return None
    folder_id = _parse_id(raw)
    folder = selectors.room_folder(room=room, folder_id=folder_id) if folder_id is not None else None
    if folder is None:
        raise BadInput("That folder does not exist in this room.")
    return folder


def _room_context(request: AuthenticatedHttpRequest, room: Room, folder: Folder | None) -> dict[str, object]:
    library = selectors.room_library(user=request.user, room=room, folder=folder, page=request.GET.get("page"))
    return {
        "room": room,
        "library": library,
        "folder": folder,
        "upload_max_bytes": conf.upload_max_bytes(),
        # For entry links: `{% entry_url entry entry_origin %}` opens the entry with this room as its breadcrumb.
        "entry_origin": f"{origins.ROOM_PREFIX}{room.pk}",
        "self_url": reverse("media_library:room_media", args=[room.pk])
        + (f"?folder={folder.pk}" if folder is not None else ""),
    }


@login_required
@require_http_methods(["GET", "POST"])
def room_media(request: AuthenticatedHttpRequest, room_id: int) -> HttpResponse:
    room = _room_or_404(request.user, room_id)
    if request.method == "POST":
        return _room_post(request, room)
    try:
        folder = _folder_param(room, request.GET.get("folder"))
    except BadInput as exc:
        return _error(request, 404, str(exc))
    return render(request, "media_library/room_media.html", _room_context(request, room, folder))


@login_required
@require_GET
def room_media_panel(request: AuthenticatedHttpRequest, room_id: int) -> HttpResponse:
    """The same listing as an HTML fragment for the room page's panel (no page chrome)."""
    room = _room_or_404(request.user, room_id)
    try:
        folder = _folder_param(room, request.GET.get("folder"))
    except BadInput as exc:
        return _error(request, 404, str(exc), panel=True)
    context = _room_context(request, room, folder)
    context["panel"] = True
    return render(request, "media_library/_room_media_panel.html", context)


def _upload(request: AuthenticatedHttpRequest, room: Room) -> str:
    uploaded = request.FILES.get("file")
    if not isinstance(uploaded, UploadedFile):
        raise BadInput("Choose a file to upload.")
    if uploaded.size is not None and uploaded.size > conf.upload_max_bytes():
        raise TooLarge()
    folder = _folder_param(room, request.POST.get("folder"))
    entry = services.upload_room_file(room=room, user=request.user, uploaded=uploaded, folder=folder)
    return f"Uploaded “{entry.title}”."


def _create_folder(request: HttpRequest, room: Room) -> str:
    parent = _folder_param(room, request.POST.get("folder"))
    folder = services.create_folder(room=room, name=request.POST.get("name", ""), parent=parent)
    return f"Folder “{folder.name}” created."


def _target_folder(request: HttpRequest, room: Room) -> Folder:
    folder = _folder_param(room, request.POST.get("folder_id"))
    if folder is None:
        raise BadInput("Which folder?")
    return folder


def _rename_folder(request: HttpRequest, room: Room) -> str:
    folder = services.rename_folder(folder=_target_folder(request, room), name=request.POST.get("name", ""))
    return f"Folder renamed to “{folder.name}”."


def _delete_folder(request: HttpRequest, room: Room) -> str:
    folder = _target_folder(request, room)
    services.delete_folder(folder=folder)
    return f"Folder “{folder.name}” deleted."


def _rename_room_entry(request: HttpRequest, room: Room) -> str:
    entry_id = _parse_id(request.POST.get("entry_id"))
    entry = selectors.entry_for_page(entry_id=entry_id) if entry_id is not None else None
    if entry is None or entry.room_id != room.pk or not permissions.can(request.user, Action.VIEW, entry):
        raise NotFoundHere()
    if not permissions.can(request.user, Action.RENAME, entry):
        raise NotAllowed()
    services.rename_entry(entry=entry, title=request.POST.get("title", ""))
    return "Renamed."


ROOM_ACTIONS: dict[str, Callable[[AuthenticatedHttpRequest, Room], str]] = {
    "upload": _upload,
    "create_folder": _create_folder,
    "rename_folder": _rename_folder,
    "delete_folder": _delete_folder,
    "rename_entry": _rename_room_entry,
}


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _room_post(request: AuthenticatedHttpRequest, room: Room) -> HttpResponse:
    panel = request.GET.get("panel") == "1"
    # Refuse an oversized upload from its declared length, before Django reads the body.
    if _declared_length(request) > conf.upload_request_max_bytes():
        return _error(request, 413, "The file is larger than the upload limit.", panel=panel)
    handler = ROOM_ACTIONS.get(request.POST.get("action", ""))
    if handler is None:
        return _error(request, 400, "Unknown action.", panel=panel)
    try:
        done = handler(request, room)
    except TooLarge:
        return _error(request, 413, "The file is larger than the upload limit.", panel=panel)
    except NotFoundHere:
        return _error(request, 404, "No such entry in this room.", panel=panel)
    except NotAllowed:
        return _error(request, 403, "You may not do that to this entry.", panel=panel)
    except (services.LibraryError, BadInput) as exc:
        return _error(request, 400, str(exc), panel=panel)
    if panel:
        # The room page swaps the panel with this answer: no navigation away from the live room.
        try:
            folder = _folder_param(room, request.POST.get("folder") or request.GET.get("folder"))
        except BadInput:
            folder = None
        context = _room_context(request, room, folder)
        context.update(panel=True, done=done)
        return render(request, "media_library/_room_media_panel.html", context)
    messages.success(request, done)
    return _go_next(request, reverse("media_library:room_media", args=[room.pk]))


# --- Notices ------------------------------------------------------------------------------------------


# --- What is presented in a room (issue 11): for its members, while it runs --------------------------


def _serve_presented(
    request: AuthenticatedHttpRequest, room_id: int, presentation_id: int, page: int | None
) -> HttpResponseBase:
    found = presenting.presented_file(user=request.user, room_id=room_id, presentation_id=presentation_id, page=page)
    if found is None:  # not presented, not any more, or not for this person: all look alike
        raise Http404("Nothing like that is presented in this room.")
    backend = storage.get_storage()
    path = storage.local_path(backend, found.name)
    if path is None:  # S3: a short-lived signed URL, asked for afresh by each member who passed the check
        return HttpResponseRedirect(
            storage.signed_url(backend, found.name, content_type=found.content_type, disposition="inline")
        )
    try:
        response = ranges.file_response(
            request, path=path, content_type=found.content_type, filename=Path(found.name).name, as_attachment=False
        )
    except FileNotFoundError:
        logger.error("presentation %s: stored file %s is missing", presentation_id, found.name)
        raise Http404("The presented file is missing.") from None
    response["Cache-Control"] = "private, max-age=300"  # a page is turned back to often: no second fetch
    return response


@login_required
@require_http_methods(["GET", "HEAD"])
def presented_file(request: AuthenticatedHttpRequest, room_id: int, presentation_id: int) -> HttpResponseBase:
    """The presented image or video (Range requests served: the video seeks)."""
    return _serve_presented(request, room_id, presentation_id, None)


@login_required
@require_http_methods(["GET", "HEAD"])
def presented_page(
    request: AuthenticatedHttpRequest, room_id: int, presentation_id: int, page: int
) -> HttpResponseBase:
    """One rendered page (PNG) of the presented PDF."""
    return _serve_presented(request, room_id, presentation_id, page)


@login_required
@require_POST
def notice_seen(request: AuthenticatedHttpRequest, notice_id: int) -> HttpResponse:
    """The room page says a live notice was shown; also the notice's close button without JavaScript."""
    notice = get_object_or_404(RecordingNotice, pk=notice_id, user=request.user)
    services.mark_notices_seen(user=request.user, notice_ids=[notice.pk])
    if request.headers.get("Accept", "").startswith("application/json") or request.POST.get("js") == "1":
        return HttpResponse(status=204)
    return _go_next(request, reverse("home"))


@login_required
@require_POST
def retention_notice_seen(request: AuthenticatedHttpRequest, notice_id: int) -> HttpResponse:
    """The close button of a "will be deleted on" notice (shown once already; this also works without JavaScript)."""
    notice = get_object_or_404(RetentionNotice, pk=notice_id, user=request.user)
    services.mark_retention_notices_seen(user=request.user, notice_ids=[notice.pk])
    return _go_next(request, reverse("media_library:my_media"))
