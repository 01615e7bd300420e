from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from media_library import services
from media_library.models import (
    ChannelPublication,
    EntryCollaborator,
    Folder,
    MediaEntry,
    RecordingNotice,
    RetentionNotice,
    RetentionPolicy,
    ShareLink,
)
from meetings.models import User
from recordings import services as recording_services
from recordings.templatetags import units


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
    fields = ("short_token", "created_by", "created_at", "expires_at", "revoked_at")
    readonly_fields = ("short_token", "created_at")
    autocomplete_fields = ("created_by",)

    @admin.display(description="Token")
    def short_token(self, obj: ShareLink) -> str:
        """The start of the token (the whole one on hover): 43 unbroken characters pushed the form off the page."""
        if not obj.token:
            return "–"
        return format_html('<span title="{}">{}…</span>', obj.token, obj.token[:10])


class ReassignOwnerForm(forms.Form):
    new_owner = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        label="New owner",
        help_text="The entry's collaborators stay; the new owner stops being a collaborator.",
    )


@admin.action(description="Reassign owner of selected entries…", permissions=["change"])
def reassign_owner(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[MediaEntry]
) -> HttpResponse | None:
    """An intermediate page: pick the new owner, confirm, then every selected entry changes hands."""
    form = ReassignOwnerForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        new_owner = form.cleaned_data["new_owner"]
        entries = list(queryset)
        for entry in entries:
            services.reassign_owner(entry=entry, new_owner=new_owner)
        modeladmin.message_user(
            request, f"Reassigned {len(entries)} media entries to {new_owner.username}.", messages.SUCCESS
        )
        return None
    return TemplateResponse(
        request,
        "media_library/admin/reassign_owner.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": "Reassign owner",
            "form": form,
            "entries": queryset.select_related("owner"),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": modeladmin.model._meta,
        },
    )


@admin.action(description="Republish from the source recording", permissions=["change"])
def republish_entries(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[MediaEntry]) -> None:
    selected = list(queryset.values_list("source_recording_id", flat=True))
    recording_ids = [pk for pk in selected if pk is not None]
    if len(recording_ids) < len(selected):
        modeladmin.message_user(request, "Entries that are not recordings were left alone.", messages.WARNING)
    queued = [pk for pk in recording_ids if recording_services.retry_publishing(recording_id=pk) is not None]
    if queued:
        modeladmin.message_user(request, f"Republishing queued for {len(queued)} recording(s).", messages.SUCCESS)
    if len(queued) < len(recording_ids):
        modeladmin.message_user(
            request, "Some recordings were skipped: their composed MP4 is gone; retry them from the segments.",
            messages.WARNING,
        )  # fmt: skip


class RecycleBinFilter(admin.SimpleListFilter):
    """Entries in use (the default), in the recycle bin, or both."""

    title = "recycle bin"
    parameter_name = "bin"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("in", "In the recycle bin"), ("all", "All")]

    def choices(self, changelist: Any) -> Any:
        # "In use" is the unfiltered default: a binned entry shows only when asked for.
        for choice in super().choices(changelist):
            if choice.get("display") == "All" and choice.get("query_string") == changelist.get_query_string(
                remove=[self.parameter_name]
            ):
                choice["display"] = "In use"
            yield choice

    def queryset(self, request: HttpRequest, queryset: QuerySet[MediaEntry]) -> QuerySet[MediaEntry]:
        if self.value() == "in":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "all":
            return queryset
        return queryset.filter(deleted_at__isnull=True)


@admin.action(description="Restore selected entries from the recycle bin", permissions=["change"])
def restore_entries(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[MediaEntry]) -> None:
    binned = list(queryset.filter(deleted_at__isnull=False))
    for entry in binned:
        services.restore_entry(entry=entry)
    modeladmin.message_user(request, f"Restored {len(binned)} entries from the recycle bin.", messages.SUCCESS)


@admin.register(MediaEntry)
class MediaEntryAdmin(admin.ModelAdmin):
    # Duration and size early: with the admin's side bars at 1280 px, the last columns scroll out of view.
    list_display = (
        "title", "kind", "status", "duration_display", "size_display", "owner", "creator", "room", "created_at",
        "deleted_display",
    )  # fmt: skip
    list_filter = (RecycleBinFilter, "kind", "status", "room__kind")
    search_fields = ("title", "owner__username", "creator__username", "room__title")
    date_hierarchy = "created_at"
    autocomplete_fields = ("owner", "creator", "room", "folder", "source_recording")
    list_select_related = ("owner", "creator", "room")
    inlines = [EntryCollaboratorInline, ChannelPublicationInline, ShareLinkInline]
    actions = [reassign_owner, republish_entries, restore_entries]
    # Duration and size are facts read off the stored file (probe, storage): shown readable, never typed in.
    exclude = ("duration", "size")
    readonly_fields = ("duration_display", "size_display", "deleted_at", "deleted_by", "purge_after", "last_viewed_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[MediaEntry]:
        # The admin sees the recycle bin too (RecycleBinFilter); the site's default manager hides it.
        return MediaEntry.all_objects.get_queryset()

    @admin.display(description="Deleted", ordering="deleted_at")
    def deleted_display(self, obj: MediaEntry) -> str:
        return f"In the bin until {obj.purge_after:%Y-%m-%d}" if obj.deleted_at and obj.purge_after else "–"

    @admin.display(description="Duration", ordering="duration")
    def duration_display(self, obj: MediaEntry) -> str:
        return units.duration(obj.duration) or "–"

    @admin.display(description="Size", ordering="size")
    def size_display(self, obj: MediaEntry) -> str:
        return units.size(obj.size) or "–"

    def view_on_site(self, obj: MediaEntry) -> str:
        return reverse("media_library:entry", args=[obj.pk])

    # Deleting in the admin moves an entry to the recycle bin, like deleting on the site; deleting one
    # already in the bin deletes it for good, with its stored file and poster.
    def delete_model(self, request: HttpRequest, obj: MediaEntry) -> None:
        if obj.deleted_at is not None:
            services.purge_entry(entry_id=obj.pk)
        else:
            services.delete_entry(entry=obj, by=request.user if isinstance(request.user, User) else None)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[MediaEntry]) -> None:
        for entry in queryset:
            self.delete_model(request, entry)


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


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(admin.ModelAdmin):
    """A room's or a channel's own retention (the room's wins over its channel's, which wins over the site's)."""

    list_display = ("__str__", "room", "channel", "days", "basis", "updated_at")
    list_filter = ("basis",)
    search_fields = ("room__title", "channel__name")
    autocomplete_fields = ("room", "channel")


@admin.register(RetentionNotice)
class RetentionNoticeAdmin(admin.ModelAdmin):
    list_display = ("user", "entry", "deletion_due_at", "created_at", "seen_at")
    list_filter = ("seen_at",)
    search_fields = ("user__username", "entry__title")
    autocomplete_fields = ("user", "entry")
