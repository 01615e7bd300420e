"""Deep Linking (decision 0021): the picker's choice goes back to the platform as a signed JWT.

The picker usually sits in the platform's iframe, where our session cookie may not be kept; so
the picker form carries what the answer needs (registration, deployment, the platform's deep
linking settings, the person and the course room) signed by us and valid for an hour, instead
of relying on the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from lti_tool.models import LtiRegistration
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource

from lti.services import ensure_tool_key

SALT = "lti.deep-link"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


@dataclass(frozen=True)
class Pending:
    """A deep linking request waiting for the person's choice."""

    registration_id: int
    deployment_id: str
    settings: dict[str, Any]
    user_id: int
    room_id: int | None

    def sign(self) -> str:
        value = {"r": self.registration_id, "d": self.deployment_id, "s": self.settings, "u": self.user_id}
        return signing.dumps({**value, "room": self.room_id}, salt=SALT, compress=True)

    @classmethod
    def load(cls, token: str) -> Pending | None:
        try:
            value = signing.loads(token, salt=SALT, max_age=settings.LTI_DEEP_LINK_MAX_AGE_SECONDS)
        except signing.BadSignature:  # SignatureExpired included
            return None
        return cls(value["r"], value["d"], value["s"], value["u"], value["room"])


@dataclass(frozen=True)
class Item:
    """One content item: an LTI resource link back to our launch URL."""

    title: str
    url: str
    custom: dict[str, str]


def response_jwt(pending: Pending, items: list[Item]) -> str:
    """The LtiDeepLinkingResponse, signed with the tool's key (the platform checks it against our JWKS)."""
    registration = LtiRegistration.objects.get(pk=pending.registration_id)
    ensure_tool_key()
    link = DeepLink(registration.to_registration(), pending.deployment_id, pending.settings)  # type: ignore[arg-type]
    resources = [
        DeepLinkResource().set_url(item.url).set_title(item.title).set_custom_params(item.custom) for item in items
    ]
    return str(link.get_response_jwt(resources))
