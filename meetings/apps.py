from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = "Meetings"

    def ready(self) -> None:
        # Tell open room sockets when who may be in a room changed (owners, moderators, invitees,
        # collaborators, channel roles, people deactivated).
        from meetings import role_changes  # noqa: F401
