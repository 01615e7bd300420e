"""`Authorization: Bearer <personal API token>`; the browser's session works too (settings.REST_FRAMEWORK)."""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from api import services
from api.models import ApiToken
from meetings.models import User


class BearerTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None  # no token: the session may still authenticate
        if len(parts) != 2:
            raise AuthenticationFailed("The Authorization header must be `Bearer <token>`.")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("The token is unknown, revoked or expired.") from None
        token = services.authenticate(secret=secret)
        if token is None:
            # One answer for every reason: a guesser learns nothing about which tokens exist.
            raise AuthenticationFailed("The token is unknown, revoked or expired.")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Named first in the settings, so a missing or bad token is a 401 with this challenge.
        return 'Bearer realm="api"'
