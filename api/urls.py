from __future__ import annotations

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from api import pages, problems, views

app_name = "api"

v1 = [
    path("rooms/", views.RoomList.as_view(), name="rooms"),
    path("rooms/<int:room_id>/", views.RoomDetail.as_view(), name="room"),
    path("rooms/<int:room_id>/recordings/", views.RoomRecordings.as_view(), name="room_recordings"),
    path("rooms/<int:room_id>/recordings/start/", views.StartRecording.as_view(), name="start_recording"),
    path("rooms/<int:room_id>/recordings/stop/", views.StopRecording.as_view(), name="stop_recording"),
    path("entries/", views.EntryList.as_view(), name="entries"),
    path("entries/<int:entry_id>/", views.EntryDetail.as_view(), name="entry"),
    path("entries/<int:entry_id>/download-url/", views.EntryDownloadUrl.as_view(), name="entry_download_url"),
    path("entries/<int:entry_id>/collaborators/", views.EntryCollaborators.as_view(), name="collaborators"),
    path("entries/<int:entry_id>/collaborators/<int:user_id>/", views.EntryCollaborator.as_view(), name="collaborator"),
    path("entries/<int:entry_id>/share-links/", views.EntryShareLinks.as_view(), name="share_links"),
    path("entries/<int:entry_id>/share-links/<int:link_id>/", views.EntryShareLink.as_view(), name="share_link"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="swagger"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html"), name="redoc"),
]

urlpatterns = [
    path("api/v1/", include(v1)),
    # Whatever else is asked under /api/ is a problem (404), not the site's HTML page.
    re_path(r"^api/", problems.not_found),
    path("settings/api-tokens/", pages.tokens, name="tokens"),
    path("settings/api-tokens/<int:token_id>/revoke/", pages.revoke, name="revoke_token"),
]
