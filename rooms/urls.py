from django.urls import path

from rooms import views

urlpatterns = [
    path("", views.home, name="home"),
    path("rooms/<int:room_id>/", views.room_page, name="room"),
    path("rooms/<int:room_id>/close/", views.close_room, name="close_room"),
]
