from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from meetings.models import Channel, ChannelMembership, LiveSession, Presence, Room, RoomCollaborator, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = DjangoUserAdmin.fieldsets + (("Profile", {"fields": ("display_name",)}),)
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
    list_filter = ("kind", "origin", "mode")
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


@admin.register(LiveSession)
class LiveSessionAdmin(admin.ModelAdmin):
    list_display = ("room", "state", "started_at", "ended_at", "end_reason", "room_closed", "host_left_deadline")
    list_filter = ("state", "end_reason", "room_closed")
    search_fields = ("room__title",)
    date_hierarchy = "started_at"
    autocomplete_fields = ("room",)
    readonly_fields = ("host_left_deadline",)
    inlines = [PresenceInline]


@admin.register(Presence)
class PresenceAdmin(admin.ModelAdmin):
    list_display = ("user", "session", "role", "connected_at", "last_seen")
    list_filter = ("role",)
    search_fields = ("user__username", "session__room__title")
    readonly_fields = ("connected_at",)
