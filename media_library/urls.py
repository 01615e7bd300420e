from __future__ import annotations

from django.urls import path, register_converter

from media_library import views


class IdConverter:
    """A database id: digits that fit a bigint. Longer garbage is a plain 404, never a database error."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


class TokenConverter:
    regex = "[A-Za-z0-9_-]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class SignedConverter:
    """A signed link's value (django.core.signing: URL-safe base64 and ':' separators), bounded in length."""

    regex = "[A-Za-z0-9_:.-]{1,300}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(IdConverter, "id")
register_converter(TokenConverter, "token")
register_converter(SignedConverter, "signed")

app_name = "media_library"

urlpatterns = [
    path("my-media/", views.my_media, name="my_media"),
    path("my-media/recycle-bin/", views.recycle_bin, name="recycle_bin"),
    path("channels/<slug:slug>/media/", views.channel_media, name="channel_media"),
    path("media/<id:entry_id>/", views.entry_page, name="entry"),
    path("media/<id:entry_id>/stream/", views.entry_stream, name="entry_stream"),
    path("media/<id:entry_id>/download/", views.entry_download, name="entry_download"),
    path("media/<id:entry_id>/poster/", views.entry_poster, name="entry_poster"),
    path("media/<id:entry_id>/delete/", views.entry_delete, name="entry_delete"),
    path("media/<id:entry_id>/keep/", views.entry_keep, name="entry_keep"),
    path("media/download/<signed:value>/", views.signed_download, name="signed_download"),
    path("s/<token:token>/", views.share_page, name="share"),
    path("s/<token:token>/stream/", views.share_stream, name="share_stream"),
    path("s/<token:token>/poster/", views.share_poster, name="share_poster"),
    path("rooms/<id:room_id>/media/", views.room_media, name="room_media"),
    path("rooms/<id:room_id>/media/panel/", views.room_media_panel, name="room_media_panel"),
    path("rooms/<id:room_id>/presented/<id:presentation_id>/file/", views.presented_file, name="presented_file"),
    path(
        "rooms/<id:room_id>/presented/<id:presentation_id>/pages/<id:page>/",
        views.presented_page,
        name="presented_page",
    ),
    path("notices/<id:notice_id>/seen/", views.notice_seen, name="notice_seen"),
    path("notices/retention/<id:notice_id>/seen/", views.retention_notice_seen, name="retention_notice_seen"),
]
