"""Who may be in a room changed: the open sockets concerned are told (wired in MeetingsConfig.ready).

A person's role in a room comes from many rows (`meetings.permissions.room_facts`): the room's
owner, moderators and invitees, its collaborators, the channel's owner and memberships, and
whether the person is active at all. Whatever changes one of them (the admin, a service, a
shell), these receivers announce it with `core.events.announce_access_change`, after commit, to
the people concerned; their room sockets (rooms.consumers) ask `meetings.permissions` again and
close (4403) or move to the new role. Receivers rather than calls in services: most of these rows
are edited in the Django admin, which no service sees.

`QuerySet.update()` sends no signal: code that changes these rows in bulk must announce itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from core.events import announce_access_change
from meetings.models import Channel, ChannelMembership, Room, RoomCollaborator, User

# What an instance looked like before its save, kept on the instance between pre_save and post_save.
BEFORE = "_access_before"


def _channel_rooms(channel_id: int | None) -> list[int]:
    if channel_id is None:
        return []
    return list(Room.objects.filter(channel_id=channel_id).values_list("pk", flat=True))


def _announce(user_ids: Iterable[int | None], room_ids: Iterable[int]) -> None:
    people = {user_id for user_id in user_ids if user_id is not None}
    for room_id in set(room_ids):
        announce_access_change(user_ids=people, room_id=room_id)


def _remember(instance: Any, fields: tuple[str, ...], update_fields: frozenset[str] | None) -> None:
    """Keep the stored values of `fields` on the instance, if this save may change them."""
    names = {*fields, *(f.removesuffix("_id") for f in fields)}  # save(update_fields=) takes either spelling
    if instance.pk is None or (update_fields is not None and not update_fields & names):
        setattr(instance, BEFORE, None)
        return
    setattr(instance, BEFORE, type(instance)._default_manager.filter(pk=instance.pk).values(*fields).first())


# --- Room moderators and invitees, and channel members added through the m2m managers -------------


@receiver(m2m_changed, sender=Room.moderators.through, dispatch_uid="meetings.access.room_moderators")
@receiver(m2m_changed, sender=Room.invitees.through, dispatch_uid="meetings.access.room_invitees")
def room_people_changed(
    sender: Any, instance: Room | User, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    own, other = ("user_id", "room_id") if reverse else ("room_id", "user_id")
    if action == "pre_clear":  # post_clear carries no ids: remember who is about to go
        setattr(instance, BEFORE, set(sender.objects.filter(**{own: instance.pk}).values_list(other, flat=True)))
        return
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    ids = getattr(instance, BEFORE, set()) if action == "post_clear" else set(pk_set or ())
    if reverse:  # user.moderated_rooms.add(room, ...)
        _announce([instance.pk], ids)
    else:
        _announce(ids, [instance.pk])


@receiver(m2m_changed, sender=Channel.members.through, dispatch_uid="meetings.access.channel_members")
def channel_members_changed(
    sender: Any, instance: Channel | User, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    own, other = ("user_id", "channel_id") if reverse else ("channel_id", "user_id")
    if action == "pre_clear":
        setattr(instance, BEFORE, set(sender.objects.filter(**{own: instance.pk}).values_list(other, flat=True)))
        return
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    ids = getattr(instance, BEFORE, set()) if action == "post_clear" else set(pk_set or ())
    if reverse:
        _announce([instance.pk], [room for channel_id in ids for room in _channel_rooms(channel_id)])
    else:
        _announce(ids, _channel_rooms(instance.pk))


# --- Room collaborators and channel memberships as rows ------------------------------------------


@receiver(pre_save, sender=RoomCollaborator, dispatch_uid="meetings.access.collaborator_before")
@receiver(pre_save, sender=ChannelMembership, dispatch_uid="meetings.access.membership_before")
def membership_before(sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kwargs: Any) -> None:
    if raw:
        return
    place = "room_id" if sender is RoomCollaborator else "channel_id"
    _remember(instance, ("user_id", place), frozenset(update_fields) if update_fields is not None else None)


@receiver(post_save, sender=RoomCollaborator, dispatch_uid="meetings.access.collaborator_saved")
@receiver(post_delete, sender=RoomCollaborator, dispatch_uid="meetings.access.collaborator_deleted")
def collaborator_changed(sender: Any, instance: RoomCollaborator, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    before = getattr(instance, BEFORE, None)
    _announce([instance.user_id], [instance.room_id])
    if before and (before["user_id"], before["room_id"]) != (instance.user_id, instance.room_id):
        _announce([before["user_id"]], [before["room_id"]])


@receiver(post_save, sender=ChannelMembership, dispatch_uid="meetings.access.membership_saved")
@receiver(post_delete, sender=ChannelMembership, dispatch_uid="meetings.access.membership_deleted")
def membership_changed(sender: Any, instance: ChannelMembership, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    before = getattr(instance, BEFORE, None)
    _announce([instance.user_id], _channel_rooms(instance.channel_id))
    if before and (before["user_id"], before["channel_id"]) != (instance.user_id, instance.channel_id):
        _announce([before["user_id"]], _channel_rooms(before["channel_id"]))


# --- Owners, the room's kind, people deactivated or deleted ---------------------------------------


@receiver(pre_save, sender=Channel, dispatch_uid="meetings.access.channel_before")
def channel_before(sender: Any, instance: Channel, raw: bool = False, update_fields: Any = None, **kwargs: Any) -> None:
    if not raw:
        _remember(instance, ("owner_id",), frozenset(update_fields) if update_fields is not None else None)


@receiver(post_save, sender=Channel, dispatch_uid="meetings.access.channel_saved")
def channel_saved(sender: Any, instance: Channel, raw: bool = False, **kwargs: Any) -> None:
    before = getattr(instance, BEFORE, None)
    if not raw and before and before["owner_id"] != instance.owner_id:
        _announce([before["owner_id"], instance.owner_id], _channel_rooms(instance.pk))


@receiver(pre_save, sender=Room, dispatch_uid="meetings.access.room_before")
def room_before(sender: Any, instance: Room, raw: bool = False, update_fields: Any = None, **kwargs: Any) -> None:
    if not raw:
        fields = ("owner_id", "kind", "channel_id")
        _remember(instance, fields, frozenset(update_fields) if update_fields is not None else None)


@receiver(post_save, sender=Room, dispatch_uid="meetings.access.room_saved")
def room_saved(sender: Any, instance: Room, raw: bool = False, **kwargs: Any) -> None:
    before = getattr(instance, BEFORE, None)
    if raw or not before:
        return
    if (before["kind"], before["channel_id"]) != (instance.kind, instance.channel_id):
        # Every role in the room comes from other rows now: everyone in it asks again.
        announce_access_change(room_id=instance.pk, whole_room=True)
    elif before["owner_id"] != instance.owner_id:
        _announce([before["owner_id"], instance.owner_id], [instance.pk])


@receiver(post_delete, sender=Room, dispatch_uid="meetings.access.room_deleted")
def room_deleted(sender: Any, instance: Room, **kwargs: Any) -> None:
    announce_access_change(room_id=instance.pk, whole_room=True)


@receiver(pre_save, sender=User, dispatch_uid="meetings.access.user_before")
def user_before(sender: Any, instance: User, raw: bool = False, update_fields: Any = None, **kwargs: Any) -> None:
    # A login saves last_login only (update_fields): no query for it.
    if not raw:
        _remember(instance, ("is_active",), frozenset(update_fields) if update_fields is not None else None)


@receiver(post_save, sender=User, dispatch_uid="meetings.access.user_saved")
def user_saved(sender: Any, instance: User, raw: bool = False, **kwargs: Any) -> None:
    before = getattr(instance, BEFORE, None)
    if not raw and before and before["is_active"] and not instance.is_active:
        announce_access_change(user_ids=[instance.pk], room_id=None)  # every room they are in


@receiver(post_delete, sender=User, dispatch_uid="meetings.access.user_deleted")
def user_deleted(sender: Any, instance: User, **kwargs: Any) -> None:
    announce_access_change(user_ids=[instance.pk], room_id=None)
