"""The REST API's endpoints. Thin: ask the policy (api/access.py), read with selectors, write
with the apps' services, answer with a serializer. The same services and policies as the pages
and the room's socket, so a recording started here is announced to the room like any other."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import access, selectors
from api.serializers import (
    CollaboratorInputSerializer,
    CollaboratorSerializer,
    DownloadUrlSerializer,
    EntryDetailSerializer,
    EntrySerializer,
    RecordingSerializer,
    RenameSerializer,
    RoomSerializer,
    ShareLinkInputSerializer,
    ShareLinkSerializer,
    StartedSerializer,
    StoppedSerializer,
)
from media_library import permissions as entry_permissions
from media_library import selectors as library_selectors
from media_library import services as library_services
from media_library import signed_links
from media_library.models import MediaEntry
from media_library.permissions import Action
from meetings import selectors as meeting_selectors
from meetings.models import User
from meetings.permissions import RoomAction
from recordings import services as recording_services
from recordings.models import Recording


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "That cannot be done in the room's current state."
    default_code = "conflict"


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # IsAuthenticated (the default permission) let only a person through
    return user


def _invalid(exc: library_services.LibraryError, field: str) -> ValidationError:
    """A service's refusal (a name taken, a user unknown...) as a 400 on the field it is about."""
    return ValidationError({field: [str(exc)]})


# --- Rooms ---------------------------------------------------------------------------------------


class RoomList(ListAPIView):
    serializer_class = RoomSerializer

    @extend_schema(summary="The rooms you may join", operation_id="list_rooms", tags=["rooms"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rooms = meeting_selectors.rooms_for_user(user=_user(request))
        page = self.paginate_queryset(rooms)  # DRF pages lists as well as querysets
        assert page is not None
        context = {
            **self.get_serializer_context(),
            "roles": {r.room.pk: r.role for r in page},
            "live": {r.room.pk for r in page if r.live},
        }
        data = RoomSerializer([r.room for r in page], many=True, context=context).data
        return self.get_paginated_response(data)


class RoomDetail(APIView):
    @extend_schema(summary="One room", operation_id="get_room", tags=["rooms"], responses=RoomSerializer)
    def get(self, request: Request, room_id: int) -> Response:
        room, role = access.room_for(_user(request), room_id)
        live = meeting_selectors.open_session(room=room) is not None
        context = {"request": request, "roles": {room.pk: role}, "live": {room.pk} if live else set()}
        return Response(RoomSerializer(room, context=context).data)


def _recording_context(user: User, recordings: list[Recording]) -> dict[str, Any]:
    entry_ids = [r.entry.pk for r in recordings if getattr(r, "entry", None) is not None]
    visible = set(
        entry_permissions.visible_entries(user).filter(pk__in=entry_ids).values_list("pk", flat=True)
        if entry_ids
        else []
    )
    return {"visible_entry_ids": visible}


class RoomRecordings(ListAPIView):
    serializer_class = RecordingSerializer

    def get_queryset(self) -> QuerySet[Recording]:  # for the schema; get() reads through the selector
        return Recording.objects.none()

    @extend_schema(
        summary="The room's recordings, newest first, with their state and processing progress",
        operation_id="list_recordings",
        description="For those who may record in the room (its hosts and moderators).",
        tags=["recordings"],
    )
    def get(self, request: Request, *args: Any, room_id: int, **kwargs: Any) -> Response:
        user = _user(request)
        room, _ = access.room_for(user, room_id, RoomAction.RECORD)
        page = self.paginate_queryset(selectors.room_recordings(room=room))
        assert page is not None
        data = RecordingSerializer(page, many=True, context=_recording_context(user, page)).data
        return self.get_paginated_response(data)


class StartRecording(APIView):
    @extend_schema(
        summary="Start recording the room's live session",
        description="As the room's Record button: everyone in the room is told. Starting while a recording "
        "runs changes nothing and answers that recording (`created` false, 200).",
        tags=["recordings"],
        operation_id="start_recording",  # its 409 is documented by api.problems.document_problems
        request=None,
        responses={201: StartedSerializer, 200: StartedSerializer},
    )
    def post(self, request: Request, room_id: int) -> Response:
        user = _user(request)
        room, _ = access.room_for(user, room_id, RoomAction.RECORD)
        try:
            recording, created = recording_services.start_recording(room=room, user=user)
        except recording_services.RecordingError as exc:
            raise Conflict(str(exc)) from exc
        body = {
            "created": created,
            "recording": RecordingSerializer(recording, context=_recording_context(user, [])).data,
        }
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class StopRecording(APIView):
    @extend_schema(
        summary="Stop the room's recording",
        operation_id="stop_recording",
        description="As the room's Stop button: everyone in the room is told. Stopping when nothing is "
        "being recorded changes nothing (`stopped` false).",
        tags=["recordings"],
        request=None,
        responses=StoppedSerializer,
    )
    def post(self, request: Request, room_id: int) -> Response:
        user = _user(request)
        room, _ = access.room_for(user, room_id, RoomAction.STOP_RECORDING)
        stopped = recording_services.stop_active_recording(
            room_id=room.pk, reason=Recording.StopReason.STOPPED_BY_HOST, by=user
        )
        data = RecordingSerializer(stopped, context=_recording_context(user, [])).data if stopped else None
        return Response({"stopped": stopped is not None, "recording": data})


# --- Media entries ----------------------------------------------------------------------------------


class EntryList(ListAPIView):
    serializer_class = EntrySerializer

    def get_queryset(self) -> QuerySet[MediaEntry]:
        return selectors.entries_for(user=_user(self.request), q=self.request.query_params.get("q", ""))

    @extend_schema(
        summary="The media entries you may see, newest first",
        operation_id="list_entries",
        tags=["entries"],
        parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="Search in titles.", required=False)],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class EntryDetail(APIView):
    @extend_schema(
        summary="One media entry, with what you may do to it",
        operation_id="get_entry",
        tags=["entries"],
        responses=EntryDetailSerializer,
    )
    def get(self, request: Request, entry_id: int) -> Response:
        entry, allowed = access.entry_for(_user(request), entry_id, Action.VIEW)
        return Response(EntryDetailSerializer(entry, context={"request": request, "allowed": allowed}).data)

    @extend_schema(
        summary="Change a media entry (its title)",
        operation_id="rename_entry",
        tags=["entries"],
        request=RenameSerializer,
        responses=EntryDetailSerializer,
    )
    def patch(self, request: Request, entry_id: int) -> Response:
        entry, allowed = access.entry_for(_user(request), entry_id, Action.RENAME)
        data = RenameSerializer(data=request.data, partial=True)  # PATCH: what is not sent stays as it is
        data.is_valid(raise_exception=True)
        if "title" in data.validated_data:
            try:
                library_services.rename_entry(entry=entry, title=data.validated_data["title"])
            except library_services.LibraryError as exc:
                raise _invalid(exc, "title") from exc
        return Response(EntryDetailSerializer(entry, context={"request": request, "allowed": allowed}).data)

    @extend_schema(
        summary="Move a media entry to the recycle bin (its owner or an admin may restore it for RECYCLE_BIN_DAYS)",
        operation_id="delete_entry",
        tags=["entries"],
        responses={204: None},
    )
    def delete(self, request: Request, entry_id: int) -> Response:
        entry, _ = access.entry_for(_user(request), entry_id, Action.DELETE)
        library_services.delete_entry(entry=entry, by=_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class EntryDownloadUrl(APIView):
    @extend_schema(
        summary="A signed, expiring URL of the entry's file",
        operation_id="get_download_url",
        description="The URL needs no credentials; it stops working after MEDIA_URL_TTL_SECONDS.",
        tags=["entries"],
        responses=DownloadUrlSerializer,
    )
    def get(self, request: Request, entry_id: int) -> Response:
        user = _user(request)
        entry, _ = access.entry_for(user, entry_id, Action.DOWNLOAD)
        if not entry.file.name:
            raise NotFound("This entry has no file.")
        url, expires_at = signed_links.signed_download_url(entry=entry, user=user, absolute=request.build_absolute_uri)
        return Response(DownloadUrlSerializer({"url": url, "expires_at": expires_at}).data)


class EntryCollaborators(APIView):
    @extend_schema(
        summary="The entry's collaborators",
        operation_id="list_collaborators",
        tags=["collaborators"],
        responses=CollaboratorSerializer(many=True),
    )
    def get(self, request: Request, entry_id: int) -> Response:
        entry, _ = access.entry_for(_user(request), entry_id, Action.MANAGE_COLLABORATORS)
        return Response(CollaboratorSerializer(library_selectors.entry_collaborators(entry=entry), many=True).data)

    @extend_schema(
        summary="Add a collaborator (or change their role)",
        operation_id="add_collaborator",
        tags=["collaborators"],
        request=CollaboratorInputSerializer,
        responses={201: CollaboratorSerializer},
    )
    def post(self, request: Request, entry_id: int) -> Response:
        entry, _ = access.entry_for(_user(request), entry_id, Action.MANAGE_COLLABORATORS)
        data = CollaboratorInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            collaborator = library_services.add_collaborator(
                entry=entry, username=data.validated_data["username"], role=data.validated_data["role"]
            )
        except library_services.LibraryError as exc:
            raise _invalid(exc, "username") from exc
        return Response(CollaboratorSerializer(collaborator).data, status=status.HTTP_201_CREATED)


class EntryCollaborator(APIView):
    @extend_schema(
        summary="Remove a collaborator",
        operation_id="remove_collaborator",
        tags=["collaborators"],
        responses={204: None},
    )
    def delete(self, request: Request, entry_id: int, user_id: int) -> Response:
        entry, _ = access.entry_for(_user(request), entry_id, Action.MANAGE_COLLABORATORS)
        try:
            library_services.remove_collaborator(entry=entry, user_id=min(user_id, access.BIGINT_MAX))
        except library_services.LibraryError as exc:
            raise NotFound(str(exc)) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class EntryShareLinks(APIView):
    @extend_schema(
        summary="The entry's working share links",
        operation_id="list_share_links",
        tags=["share links"],
        responses=ShareLinkSerializer(many=True),
    )
    def get(self, request: Request, entry_id: int) -> Response:
        entry, _ = access.entry_for(_user(request), entry_id, Action.SHARE)
        links = library_selectors.live_share_links(entry=entry)
        return Response(ShareLinkSerializer(links, many=True, context={"request": request}).data)

    @extend_schema(
        summary="Create a share link",
        operation_id="create_share_link",
        tags=["share links"],
        request=ShareLinkInputSerializer,
        responses={201: ShareLinkSerializer},
    )
    def post(self, request: Request, entry_id: int) -> Response:
        user = _user(request)
        entry, _ = access.entry_for(user, entry_id, Action.SHARE)
        data = ShareLinkInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            link = library_services.create_share_link(
                entry=entry, by=user, expires_in_days=data.validated_data["expires_in_days"]
            )
        except library_services.LibraryError as exc:
            raise _invalid(exc, "expires_in_days") from exc
        return Response(ShareLinkSerializer(link, context={"request": request}).data, status=status.HTTP_201_CREATED)


class EntryShareLink(APIView):
    @extend_schema(
        summary="Revoke a share link (it stops working at once)",
        operation_id="revoke_share_link",
        tags=["share links"],
        responses={204: None},
    )
    def delete(self, request: Request, entry_id: int, link_id: int) -> Response:
        entry, _ = access.entry_for(_user(request), entry_id, Action.SHARE)
        try:
            library_services.revoke_share_link(entry=entry, link_id=min(link_id, access.BIGINT_MAX))
        except library_services.LibraryError as exc:
            raise NotFound(str(exc)) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)
