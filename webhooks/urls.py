from __future__ import annotations

from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("rooms/<int:room_id>/webhooks/", views.room_webhooks, name="room_webhooks"),
    path("rooms/<int:room_id>/webhooks/<int:endpoint_id>/rotate/", views.rotate, name="rotate"),
    path("rooms/<int:room_id>/webhooks/<int:endpoint_id>/test/", views.send_test, name="send_test"),
    path("rooms/<int:room_id>/webhooks/<int:endpoint_id>/active/", views.set_active, name="set_active"),
    path("rooms/<int:room_id>/webhooks/<int:endpoint_id>/delete/", views.delete, name="delete"),
]
