"""LMS course roles → session roles (decision 0021). Only the context (course) roles count:
an institution role says nothing of this course."""

from __future__ import annotations

from collections.abc import Iterable

from meetings.models import SessionRole

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"
TEACHING_ASSISTANT = f"{MEMBERSHIP}/Instructor#TeachingAssistant"
INSTRUCTOR = f"{MEMBERSHIP}#Instructor"
ADMINISTRATOR = f"{MEMBERSHIP}#Administrator"
LEARNER = f"{MEMBERSHIP}#Learner"


def normalize(role: str) -> str:
    """A short name ("Instructor", "TeachingAssistant") as its full URI; LTI 1.3 allows both."""
    if role == "TeachingAssistant":
        return TEACHING_ASSISTANT
    if role.isidentifier():
        return f"{MEMBERSHIP}#{role}"
    return role


def session_role(roles: Iterable[str] | None) -> SessionRole:
    """Instructor (or the course's administrator): host; teaching assistant: moderator; anyone else: participant.

    A teaching assistant wins over Instructor: platforms send both for a TA (the sub-role
    names its parent too).
    """
    given = {normalize(role) for role in roles or () if isinstance(role, str)}
    if TEACHING_ASSISTANT in given:
        return SessionRole.MODERATOR
    if INSTRUCTOR in given or ADMINISTRATOR in given:
        return SessionRole.HOST
    return SessionRole.PARTICIPANT
