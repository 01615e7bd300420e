"""Writes for the meetings app: every state change of rooms and sessions happens here."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from meetings.models import Channel, ChannelMembership, ChannelRole, CollaboratorRole, Room, RoomCollaborator, User


@dataclass
class DemoData:
    users: dict[str, User] = field(default_factory=dict)
    rooms: dict[str, Room] = field(default_factory=dict)
    channel: Channel | None = None
    logins: list[tuple[str, str]] = field(default_factory=list)


DEMO_USERS: list[tuple[str, str, str, bool]] = [
    # username, display name, what they are, staff
    ("host", "Hana Host", "host: owns 'Weekly planning' and the 'Product team' channel", False),
    ("moderator", "Milo Moderator", "moderator in both rooms", False),
    ("participant", "Pia Participant", "participant: invited to 'Weekly planning', channel member", False),
    ("coeditor", "Cora Co-editor", "co-editor of 'Weekly planning' (a host there)", False),
    ("outsider", "Otto Outsider", "no access to anything", False),
    ("admin", "Ada Admin", "staff admin (Django admin at /admin/)", True),
]


@transaction.atomic
def seed_demo(*, password: str) -> DemoData:
    """Create or refresh the demo; running it again changes nothing but passwords."""
    demo = DemoData()
    for username, display_name, what, staff in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username, defaults={"display_name": display_name})
        user.display_name = display_name
        user.email = f"{username}@example.com"
        user.is_staff = staff
        user.is_superuser = staff
        user.set_password(password)
        user.save()
        demo.users[username] = user
        demo.logins.append((username, what))
    u = demo.users

    weekly, _ = Room.objects.update_or_create(
        title="Weekly planning", kind=Room.Kind.SINGLE, owner=u["host"],
        defaults={"creator": u["host"], "origin": Room.Origin.NATIVE},
    )
    weekly.moderators.set([u["moderator"]])
    weekly.invitees.set([u["participant"]])
    RoomCollaborator.objects.update_or_create(room=weekly, user=u["coeditor"],
                                              defaults={"role": CollaboratorRole.CO_EDITOR})
    demo.rooms["single"] = weekly

    lecture, _ = Room.objects.update_or_create(
        title="Course lecture (from LMS)", kind=Room.Kind.SINGLE, owner=u["host"],
        defaults={"creator": u["host"], "origin": Room.Origin.INTEGRATION},
    )
    lecture.moderators.set([u["moderator"]])
    lecture.invitees.set([u["participant"]])
    demo.rooms["integration"] = lecture

    channel, _ = Channel.objects.update_or_create(
        slug="product-team", defaults={"name": "Product team", "owner": u["host"],
                                       "description": "Product team channel"},
    )
    for username, role in (("moderator", ChannelRole.MODERATOR), ("participant", ChannelRole.MEMBER)):
        ChannelMembership.objects.update_or_create(channel=channel, user=u[username], defaults={"role": role})
    channel_room, _ = Room.objects.update_or_create(
        channel=channel, defaults={"title": "Product team live", "kind": Room.Kind.CHANNEL, "owner": u["host"],
                                   "creator": u["host"]},
    )
    demo.channel = channel
    demo.rooms["channel"] = channel_room
    return demo
