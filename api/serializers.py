"""What the API reads and writes. Output serializers read model rows (or the dataclasses views
build); input serializers only shape and bound the input: the services decide the rest."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from media_library.models import MediaEntry, ShareLink
from media_library.permissions import Action
from media_library.services import SHARE_EXPIRY_DAYS, TITLE_MAX
from meetings.models import CollaboratorRole, Room, SessionRole
from recordings.models import Recording


class RecordingSerializer(serializers.Serializer):
    uid = serializers.UUIDField(read_only=True)
    state = serializers.ChoiceField(choices=Recording.State.choices, read_only=True)
    progress = serializers.IntegerField(read_only=True, help_text="Processing progress, percent (0-100).")
    created_at = serializers.DateTimeField(read_only=True, help_text="When a host started it.")
    started_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="First media received.")
    stopped_at = serializers.DateTimeField(read_only=True, allow_null=True)
    available_at = serializers.DateTimeField(read_only=True, allow_null=True)
    duration = serializers.FloatField(read_only=True, allow_null=True, help_text="Seconds.")
    stop_reason = serializers.CharField(read_only=True, help_text="Empty while it runs.")
    error = serializers.CharField(read_only=True, help_text="Why it failed (or why publishing is retried).")
    started_by = serializers.CharField(source="started_by.username", read_only=True)
    entry_id = serializers.SerializerMethodField(help_text="Its media entry, once published, if you may see it.")

    def get_entry_id(self, recording: Recording) -> int | None:
        visible: set[int] = self.context.get("visible_entry_ids", set())
        entry = getattr(recording, "entry", None)
        return entry.pk if entry is not None and entry.pk in visible else None


class RoomSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=Room.Kind.choices, read_only=True)
    mode = serializers.ChoiceField(choices=Room.Mode.choices, read_only=True)
    origin = serializers.ChoiceField(choices=Room.Origin.choices, read_only=True)
    role = serializers.SerializerMethodField(help_text="Your role in the room's sessions.")
    live = serializers.SerializerMethodField(help_text="A session is open now.")
    url = serializers.SerializerMethodField(help_text="The room's page.")

    def get_role(self, room: Room) -> str:
        roles: dict[int, SessionRole] = self.context["roles"]
        return str(roles[room.pk])

    def get_live(self, room: Room) -> bool:
        return room.pk in self.context["live"]

    def get_url(self, room: Room) -> str:
        return self.context["request"].build_absolute_uri(reverse("room", args=[room.pk]))


class StartedSerializer(serializers.Serializer):
    created = serializers.BooleanField(help_text="False: a recording was already running; this is it.")
    recording = RecordingSerializer()


class StoppedSerializer(serializers.Serializer):
    stopped = serializers.BooleanField(help_text="False: no recording was capturing.")
    recording = RecordingSerializer(allow_null=True)


class EntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=MediaEntry.Kind.choices, read_only=True)
    status = serializers.ChoiceField(choices=MediaEntry.Status.choices, read_only=True)
    content_type = serializers.CharField(read_only=True)
    duration = serializers.FloatField(read_only=True, allow_null=True, help_text="Seconds.")
    size = serializers.IntegerField(read_only=True, allow_null=True, help_text="Bytes.")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True)
    room_id = serializers.IntegerField(read_only=True, allow_null=True)
    recording_uid = serializers.UUIDField(source="source_recording.uid", read_only=True, allow_null=True, default=None)
    url = serializers.SerializerMethodField(help_text="The entry's page.")

    def get_url(self, entry: MediaEntry) -> str:
        return self.context["request"].build_absolute_uri(reverse("media_library:entry", args=[entry.pk]))


class EntryDetailSerializer(EntrySerializer):
    actions = serializers.SerializerMethodField(help_text="What you may do to this entry.")

    def get_actions(self, entry: MediaEntry) -> list[str]:
        allowed: frozenset[Action] = self.context["allowed"]
        return sorted(action.value for action in allowed)


class RenameSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=TITLE_MAX, trim_whitespace=True)


class DownloadUrlSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Fetch the file from here, without credentials, until it expires.")
    expires_at = serializers.DateTimeField()


class CollaboratorSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.CharField(source="user.label", read_only=True)
    role = serializers.ChoiceField(choices=CollaboratorRole.choices, read_only=True)


class CollaboratorInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=CollaboratorRole.choices)


class ShareLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField(help_text="Anyone holding it may watch, until it expires or is revoked.")
    created_at = serializers.DateTimeField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="Null: until revoked.")
    created_by = serializers.CharField(source="created_by.username", read_only=True)

    def get_url(self, link: ShareLink) -> str:
        return self.context["request"].build_absolute_uri(reverse("media_library:share", args=[link.token]))


class ShareLinkInputSerializer(serializers.Serializer):
    expires_in_days = serializers.ChoiceField(
        choices=SHARE_EXPIRY_DAYS, default=0, help_text="How long the link works; 0: until revoked."
    )
