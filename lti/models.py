"""What the LTI edge remembers of its own (decision 0021).

The platforms, deployments, the tool's keys and what a launch says (users, courses, memberships)
are django-lti's models (lti_tool); these two tie them to the product: a platform's person to
one of ours, and a course to its room.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PlatformAccount(models.Model):
    """A person of a learning platform, known by (issuer, subject), signed in as one of our users.

    Matched on the issuer and the `sub` claim only, never on an e-mail address the platform sends
    (a platform may let anyone type one): whoever launches with this pair is this user.
    """

    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="platform_accounts")
    created_at = models.DateTimeField(auto_now_add=True)
    last_launch_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="platform_account_unique")]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


class CourseRoom(models.Model):
    """The room of one course (an LTI context of one deployment), made on the first instructor's launch."""

    context = models.OneToOneField("lti_tool.LtiContext", on_delete=models.CASCADE, related_name="course_room")
    room = models.OneToOneField("meetings.Room", on_delete=models.CASCADE, related_name="lti_course")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.context} → {self.room}"
