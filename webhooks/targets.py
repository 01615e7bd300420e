"""Where webhooks may be sent: http(s) URLs of hosts outside this server's own network (SSRF).

A URL is checked when it is registered (a clear message for the person typing it) and the host's
addresses again before every try (a name may point elsewhere by then); the connection then goes
to the address that was checked (http_client.post), so a DNS answer cannot change between the
check and the connection. Loopback, private, link-local, multicast and reserved addresses are
refused unless WEBHOOK_ALLOW_INTERNAL_TARGETS is set (tests, a receiver on the same machine).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

SCHEMES = ("http", "https")
URL_MAX = 500


class TargetRefused(Exception):
    """The endpoint's host is not one webhooks may be sent to; the message says why."""


def internal_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_INTERNAL_TARGETS", False))


def is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _literal_ip(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def validate_url(value: str) -> str:
    """The URL, cleaned, or ValidationError with a message for the person who typed it."""
    url = (value or "").strip()
    if not url:
        raise ValidationError("Enter the URL that should receive the events.")
    if len(url) > URL_MAX:
        raise ValidationError(f"The URL is too long (at most {URL_MAX} characters).")
    parts: SplitResult = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES:
        raise ValidationError("Only http:// and https:// URLs can receive webhooks.")
    try:
        URLValidator(schemes=list(SCHEMES))(url)
        port = parts.port
    except (ValidationError, ValueError):
        raise ValidationError("This is not a valid URL (for example https://example.com/hooks).") from None
    if parts.username or parts.password:
        raise ValidationError("Put no user name or password in the URL: the signature proves who sends.")
    if parts.fragment:
        raise ValidationError("A URL with a #fragment cannot receive webhooks.")
    host = (parts.hostname or "").lower()
    if port == 0:
        raise ValidationError("This is not a valid URL (for example https://example.com/hooks).")
    if not internal_allowed():
        literal = _literal_ip(host)
        if (
            host == "localhost"
            or host.endswith((".localhost", ".local", ".internal"))
            or (literal is not None and is_internal(literal))
        ):
            raise ValidationError("Webhooks cannot be sent to this server's own or a private network address.")
    return url


def resolve(url: str) -> tuple[str, int, str]:
    """(host, port, address to connect to) for a try, or TargetRefused."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TargetRefused(f"cannot resolve {host}: {exc}") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise TargetRefused(f"{host} has no address")
    if not internal_allowed():
        internal = [address for address in addresses if is_internal(address)]
        if internal:  # any internal answer refuses the whole name: a rebinding host mixes them
            raise TargetRefused(f"{host} resolves to an internal address ({internal[0]}); refused")
    return host, port, addresses[0]
