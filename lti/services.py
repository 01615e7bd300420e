"""Writes of the LTI edge: the platform's person as ours, the course's room and roles (decision 0021)."""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction
from django.utils import timezone
from jwcrypto.jwk import JWK
from lti_tool.models import Key, LtiContext

from lti.models import CourseRoom, PlatformAccount
from meetings import services as meeting_services
from meetings.models import Room, SessionRole, User


def ensure_tool_key() -> Key:
    """The tool's newest active signing key, made on first need (the JWKS is never empty)."""
    key = Key.objects.filter(is_active=True).order_by("-datetime_created").first()
    if key is not None:
        return key
    jwk = JWK.generate(kty="RSA", size=2048)
    return Key.objects.create(
        public_key=jwk.export_to_pem().decode(),
        private_key=jwk.export_to_pem(private_key=True, password=None).decode(),
    )


def _username(issuer: str, subject: str) -> str:
    # Stable and private: the platform's ids (often e-mail-like or numeric) never become a username.
    return "lti-" + hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:20]


def person_for_launch(
    *, issuer: str, subject: str, name: str = "", given_name: str = "", family_name: str = "", email: str = ""
) -> User:
    """Our user for the platform's (issuer, subject): found, or made on the first launch.

    The names and e-mail the platform sends are copied on every launch (they change there), but
    never used to find a person.
    """
    account = PlatformAccount.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
    if account is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(username=_username(issuer, subject))
                account = PlatformAccount.objects.create(issuer=issuer, subject=subject, user=user)
        except IntegrityError:  # the same person's other launch made it a moment ago
            account = PlatformAccount.objects.select_related("user").get(issuer=issuer, subject=subject)
    user = account.user
    fields = {
        "display_name": (name or f"{given_name} {family_name}").strip()[:150],
        "first_name": given_name[:150],
        "last_name": family_name[:150],
        "email": email[:254],
    }
    changed = [field for field, value in fields.items() if value and getattr(user, field) != value]
    for field in changed:
        setattr(user, field, fields[field])
    if changed:
        user.save(update_fields=changed)
    PlatformAccount.objects.filter(pk=account.pk).update(last_launch_at=timezone.now())
    return user


def course_title(context: LtiContext) -> str:
    return context.title or context.label or "Course room"


def course_room(*, context: LtiContext, person: User, role: SessionRole) -> Room | None:
    """The course's room with `person` in it as `role`; made by the first host who launches (its owner).

    None while no instructor has opened it: a learner cannot make a room nobody would own.
    """
    with transaction.atomic():
        # The context's row serialises two first launches: one room per course.
        LtiContext.objects.select_for_update().filter(pk=context.pk).first()
        link = CourseRoom.objects.select_related("room").filter(context=context).first()
        if link is None:
            if role != SessionRole.HOST:
                return None
            room = meeting_services.create_integration_room(title=course_title(context), creator=person)
            link = CourseRoom.objects.create(context=context, room=room)
        meeting_services.set_integration_role(room=link.room, user=person, role=role)
    return link.room
