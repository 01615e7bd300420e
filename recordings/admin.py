from __future__ import annotations

from django.contrib import admin

from recordings.models import Fragment, Recording, RecordingTransition, Segment, Track

# State is moved only by services (a state machine); the admin shows it and never edits it.
RECORDING_MACHINE_FIELDS = (
    "uid", "state", "stop_reason", "stopped_by", "created_at", "started_at", "stopped_at", "processed_at",
    "available_at", "duration", "progress", "error", "output_path",
)


class TrackInline(admin.TabularInline):
    model = Track
    extra = 0
    fields = ("user", "kind", "client_id", "created_at")
    readonly_fields = fields
    show_change_link = True


class FragmentInline(admin.TabularInline):
    model = Fragment
    extra = 0
    fields = ("index", "start", "end", "state", "composed_at")
    readonly_fields = fields


class TransitionInline(admin.TabularInline):
    model = RecordingTransition
    extra = 0
    fields = ("at", "from_state", "to_state", "note")
    readonly_fields = fields
    can_delete = False


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = ("pk", "room", "started_by", "state", "progress", "stop_reason", "created_at", "duration", "short_error")
    list_filter = ("state", "stop_reason", "room__kind")
    search_fields = ("room__title", "started_by__username", "uid", "error")
    date_hierarchy = "created_at"
    autocomplete_fields = ("room", "session", "started_by")
    readonly_fields = RECORDING_MACHINE_FIELDS
    inlines = [TrackInline, FragmentInline, TransitionInline]

    @admin.display(description="Error")
    def short_error(self, obj: Recording) -> str:
        return (obj.error[:80] + "...") if len(obj.error) > 80 else obj.error


@admin.register(RecordingTransition)
class RecordingTransitionAdmin(admin.ModelAdmin):
    list_display = ("recording", "from_state", "to_state", "at", "note")
    list_filter = ("to_state",)
    search_fields = ("recording__room__title", "note")
    readonly_fields = ("at",)


class SegmentInline(admin.TabularInline):
    model = Segment
    extra = 0
    fields = ("seq", "start", "duration", "size", "path", "received_at")
    readonly_fields = fields


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = ("pk", "recording", "user", "kind", "client_id", "created_at")
    list_filter = ("kind",)
    search_fields = ("recording__room__title", "user__username", "client_id")
    autocomplete_fields = ("recording", "user")
    inlines = [SegmentInline]


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("pk", "track", "seq", "start", "duration", "size", "received_at")
    search_fields = ("track__recording__room__title", "path", "sha256")
    readonly_fields = ("received_at",)
    autocomplete_fields = ("track",)


@admin.register(Fragment)
class FragmentAdmin(admin.ModelAdmin):
    list_display = ("pk", "recording", "index", "start", "end", "state", "composed_at")
    list_filter = ("state",)
    search_fields = ("recording__room__title",)
    autocomplete_fields = ("recording",)
