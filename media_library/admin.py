from __future__ import annotations

from django.contrib import admin

from media_library.models import ChannelPublication, EntryCollaborator, Folder, MediaEntry, RecordingNotice, ShareLink


class EntryCollaboratorInline(admin.TabularInline):
    model = EntryCollaborator
    extra = 0
    autocomplete_fields = ("user",)


class ChannelPublicationInline(admin.TabularInline):
    model = ChannelPublication
    extra = 0
    autocomplete_fields = ("channel", "published_by")


class ShareLinkInline(admin.TabularInline):
    model = ShareLink
    extra = 0
    fields = ("token", "created_by", "created_at", "expires_at", "revoked_at")
    readonly_fields = ("token", "created_at")
    autocomplete_fields = ("created_by",)


@admin.register(MediaEntry)
class MediaEntryAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "creator", "kind", "status", "duration", "size", "room", "created_at")
    list_filter = ("kind", "status", "room__kind")
    search_fields = ("title", "owner__username", "creator__username", "room__title")
    date_hierarchy = "created_at"
    autocomplete_fields = ("owner", "creator", "room", "folder", "source_recording")
    list_select_related = ("owner", "creator", "room")
    inlines = [EntryCollaboratorInline, ChannelPublicationInline, ShareLinkInline]


@admin.register(EntryCollaborator)
class EntryCollaboratorAdmin(admin.ModelAdmin):
    list_display = ("entry", "user", "role", "added_at")
    list_filter = ("role",)
    search_fields = ("entry__title", "user__username")
    autocomplete_fields = ("entry", "user")


@admin.register(Folder)
class FolderAdmin(admin.ModelAdmin):
    list_display = ("name", "room", "kind", "parent", "created_at")
    list_filter = ("kind",)
    search_fields = ("name", "room__title")
    autocomplete_fields = ("room", "parent")


@admin.register(ChannelPublication)
class ChannelPublicationAdmin(admin.ModelAdmin):
    list_display = ("entry", "channel", "published_by", "published_at")
    list_filter = ("channel",)
    search_fields = ("entry__title", "channel__name")
    autocomplete_fields = ("entry", "channel", "published_by")


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ("entry", "created_by", "created_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("entry__title", "created_by__username")
    readonly_fields = ("token", "created_at")
    autocomplete_fields = ("entry", "created_by")


@admin.register(RecordingNotice)
class RecordingNoticeAdmin(admin.ModelAdmin):
    list_display = ("user", "recording", "entry", "created_at", "seen_at")
    list_filter = ("seen_at",)
    search_fields = ("user__username", "entry__title")
    autocomplete_fields = ("user", "recording", "entry")
