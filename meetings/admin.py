from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import pluralize

from core.admin import ReadOnlyInline
from meetings import services
from meetings.http import AuthenticatedHttpRequest
from meetings.models import (
    Channel,
    ChannelMembership,
    LiveSession,
    Presence,
    Presentation,
    PresentationEvent,
    Room,
    RoomCollaborator,
    Speaker,
    User,
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (*(DjangoUserAdmin.fieldsets or ()), ("Profile", {"fields": ("display_name",)}))
    list_display = ("username", "display_name", "email", "is_staff", "is_active", "last_login")


class ChannelMembershipInline(admin.TabularInline):
    model = ChannelMembership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "owner", "member_count", "created_at")
    search_fields = ("name", "slug", "owner__username")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("owner",)
    inlines = [ChannelMembershipInline]

    @admin.display(description="Members")
    def member_count(self, obj: Channel) -> int:
        return obj.memberships.count()


@admin.register(ChannelMembership)
class ChannelMembershipAdmin(admin.ModelAdmin):
    list_display = ("channel", "user", "role", "joined_at")
    list_filter = ("role", "channel")
    search_fields = ("channel__name", "user__username")
    autocomplete_fields = ("channel", "user")


class RoomCollaboratorInline(admin.TabularInline):
    model = RoomCollaborator
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "channel", "owner", "creator", "origin", "mode", "max_session_hours")
    list_filter = ("kind", "origin", "mode", "ask_recording_consent", "record_automatically")
    search_fields = ("title", "owner__username", "creator__username", "channel__name")
    autocomplete_fields = ("owner", "creator", "channel", "moderators", "invitees")
    inlines = [RoomCollaboratorInline]


@admin.register(RoomCollaborator)
class RoomCollaboratorAdmin(admin.ModelAdmin):
    list_display = ("room", "user", "role")
    list_filter = ("role",)
    search_fields = ("room__title", "user__username")
    autocomplete_fields = ("room", "user")


class PresenceInline(admin.TabularInline):
    model = Presence
    extra = 0
    can_delete = False
    readonly_fields = ("user", "role", "channel_name", "connected_at", "last_seen")


class SpeakerInline(ReadOnlyInline):
    """A broadcast's invited speakers: invited and taken back in the room only (meetings.services tells
    the person's sockets; an edit here would not)."""

    model = Speaker
    fields = ("user", "invited_by", "invited_at")


@admin.register(LiveSession)
class LiveSessionAdmin(admin.ModelAdmin):
    """Sessions are opened by people joining and change state only in meetings.services.

    Every field is read-only here; ending a session or taking a broadcast live are actions
    that call the services, so the admin never writes `state` itself.
    """

    list_display = ("room", "state", "started_at", "ended_at", "end_reason", "room_closed", "host_left_deadline")
    list_filter = ("state", "end_reason", "room_closed")
    search_fields = ("room__title",)
    date_hierarchy = "started_at"
    readonly_fields = (
        "room",
        "state",
        "started_at",
        "ended_at",
        "end_reason",
        "room_closed",
        "host_left_deadline",
        "max_end_at",
    )
    inlines = [PresenceInline, SpeakerInline]
    actions = ["end_for_everyone", "go_live"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[LiveSession],
        act: Callable[[LiveSession], bool],
        *,
        done: Callable[[int], str],
        left: Callable[[int], str],
    ) -> None:
        """Run a service on every selected session and say how many it changed and how many it left."""
        outcomes = [act(session) for session in queryset.select_related("room")]
        changed, unchanged = outcomes.count(True), outcomes.count(False)
        if changed:
            self.message_user(request, done(changed), messages.SUCCESS)
        if unchanged:
            self.message_user(request, left(unchanged), messages.WARNING)

    @admin.action(description="End the session for everyone", permissions=["change"])
    def end_for_everyone(self, request: AuthenticatedHttpRequest, queryset: QuerySet[LiveSession]) -> None:
        self._each(
            request,
            queryset,
            lambda session: services.end_session(
                session=session, reason=LiveSession.EndReason.ENDED_BY_HOST, by=request.user
            ),
            done=lambda n: f"Ended {n} session{pluralize(n)} for everyone.",
            left=lambda n: f"{n} session{pluralize(n)} {pluralize(n, 'was,were')} already ended.",
        )

    @admin.action(description="Go live (broadcast in preview)", permissions=["change"])
    def go_live(self, request: HttpRequest, queryset: QuerySet[LiveSession]) -> None:
        self._each(
            request,
            queryset,
            lambda session: services.go_live(session=session),
            done=lambda n: f"{n} broadcast{pluralize(n)} went live.",
            left=lambda n: (
                f"{n} session{pluralize(n)} {pluralize(n, 'was,were')} not in preview "
                "(already live, ended, or not a broadcast)."
            ),
        )


@admin.register(Presence)
class PresenceAdmin(admin.ModelAdmin):
    list_display = ("user", "session", "role", "connected_at", "last_seen")
    list_filter = ("role",)
    search_fields = ("user__username", "session__room__title")
    readonly_fields = ("connected_at",)


class ReadOnlyHistory(admin.ModelAdmin):
    """Written only by the room (meetings.services), read here: what was presented and when (the
    recording's compositor draws from it) and who was invited to speak (their sockets were told), so
    staff may look but never add or change it."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class PresentationEventInline(ReadOnlyInline):
    model = PresentationEvent
    fields = ("at", "page", "position", "playing")


@admin.register(Presentation)
class PresentationAdmin(ReadOnlyHistory):
    list_display = ("title", "kind", "session", "presenter", "started_at", "ended_at")
    list_filter = ("kind",)
    search_fields = ("title", "presenter__username")
    list_select_related = ("session__room", "presenter")
    inlines = [PresentationEventInline]


@admin.register(PresentationEvent)
class PresentationEventAdmin(ReadOnlyHistory):
    list_display = ("presentation", "at", "page", "position", "playing")
    list_select_related = ("presentation",)


@admin.register(Speaker)
class SpeakerAdmin(ReadOnlyHistory):
    list_display = ("user", "session", "invited_by", "invited_at")
    search_fields = ("user__username", "session__room__title")
    list_select_related = ("session__room", "user", "invited_by")
