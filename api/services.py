"""Every write of the API app: issuing, revoking and using personal API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from api.models import ApiToken
from meetings.models import User

# Tokens say what they are (in a leaked log or a secret scanner) and where the secret starts.
SECRET_PREFIX = "mtk_"
VISIBLE_CHARS = 12  # "mtk_" and 8 characters of the secret: enough to tell tokens apart
EXPIRY_DAYS = (30, 90, 365)
NAME_MAX = 100
MAX_LIVE_TOKENS = 50  # a person needs a few; a runaway script must not make thousands


class TokenError(Exception):
    """A request about tokens that cannot be carried out; the message is safe to show."""


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once, never stored


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(*, user: User, name: str, expires_in_days: int) -> IssuedToken:
    clean = " ".join("".join(ch for ch in name if ch.isprintable()).split())
    if not clean:
        raise TokenError("Please give the token a name (what it is for).")
    if len(clean) > NAME_MAX:
        raise TokenError(f"The name is too long (at most {NAME_MAX} characters).")
    if expires_in_days not in EXPIRY_DAYS:
        raise TokenError("Choose how long the token should work.")
    with transaction.atomic():
        # The person's row, locked: two concurrent requests cannot both pass the count.
        User.objects.select_for_update().filter(pk=user.pk).first()
        if ApiToken.objects.live().filter(user=user).count() >= MAX_LIVE_TOKENS:
            raise TokenError(f"You have {MAX_LIVE_TOKENS} active tokens already. Revoke one you no longer use.")
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)  # 256 bits
        token = ApiToken.objects.create(
            user=user,
            name=clean,
            prefix=secret[:VISIBLE_CHARS],
            digest=digest_of(secret),
            expires_at=timezone.now() + timedelta(days=expires_in_days),
        )
    return IssuedToken(token=token, secret=secret)


def revoke_token(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of `user`'s tokens (at once: the next request with it is refused). Idempotent."""
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise TokenError("There is no such token.")
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return token


def authenticate(*, secret: str) -> ApiToken | None:
    """The live token behind `secret`, its use noted; None for anything else (unknown, revoked, expired)."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 100:
        return None
    token = ApiToken.objects.live().select_related("user").filter(digest=digest_of(secret)).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    # One write per token per interval, not one per request (a busy script would write on every call).
    resolution = timedelta(seconds=settings.API_TOKEN_LAST_USED_RESOLUTION_SECONDS)
    if token.last_used_at is None or now - token.last_used_at >= resolution:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
