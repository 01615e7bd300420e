"""Request types for views (typing only: no behaviour)."""

from __future__ import annotations

from django.http import HttpRequest

from meetings.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind @login_required (or the admin site): `user` is a signed-in User.

    Used as an annotation only; Django still hands the view an ordinary HttpRequest, whose
    `user` the authentication middleware set and login_required checked. The pattern the
    django-stubs documentation gives for typing `request.user`.
    """

    user: User
