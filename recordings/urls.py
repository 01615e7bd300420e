from django.urls import path

from recordings import views

urlpatterns = [
    path("rooms/<int:room_id>/recordings/<uuid:rec_uid>/tracks/<str:client_id>/segments/<int:seq>",
         views.ingest_segment, name="ingest_segment"),
]
