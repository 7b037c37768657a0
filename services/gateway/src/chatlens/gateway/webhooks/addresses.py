"""Which webhook URLs the gateway may call: https to a host whose every address is public.

A webhook makes the gateway send requests where a user says, from inside the deployment: to the
database, the broker or a cloud's metadata service if nothing stopped it (SSRF). So the host is
resolved and every address it resolves to must be globally routable: no private, loopback,
link-local, shared (CGNAT), multicast, reserved or unspecified address, and none hidden in an
IPv4-mapped or 6to4 IPv6 address. Integer, hex and octal IPv4 forms (``2130706433``,
``0x7f.1``, ``0177.0.0.1``) are resolved the way the C library reads them, so they are judged
by the address they mean. The check runs when a webhook is saved and again before each attempt
(redirects are never followed, so a public URL cannot bounce the request inward). An operator
allows private addresses with WEBHOOK_ALLOW_PRIVATE, and http:// with WEBHOOK_ALLOW_HTTP.

A host that re-resolves between the check and the connection (DNS rebinding) is not covered:
the window is the few milliseconds of one request.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

Resolver = Callable[..., list[tuple[Any, ...]]]
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedUrl(Exception):
    """The URL may not be called (its scheme, its form or where it points): the user's to fix."""


class Unresolvable(RefusedUrl):
    """The host has no address now (may be transient at delivery time)."""


@dataclass(frozen=True)
class Policy:
    allow_private: bool = False
    allow_http: bool = False


def is_public(address: IpAddress) -> bool:
    """True for a globally routable unicast address, looking inside IPv6 forms of IPv4 ones."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if inner is not None and not is_public(inner):
            return False
    return address.is_global and not address.is_multicast


def check(url: str, policy: Policy, resolve: Resolver = socket.getaddrinfo) -> None:
    """Raise :class:`RefusedUrl` unless ``url`` may be called under ``policy``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedUrl(f"not a valid URL: {exc}") from None
    allowed = ("https", "http") if policy.allow_http else ("https",)
    if parts.scheme not in allowed:
        raise RefusedUrl("the URL must be https://" + (
            "" if policy.allow_http else " (http:// is not allowed on this server)"))
    if not parts.hostname:
        raise RefusedUrl("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise RefusedUrl("the URL may not carry credentials; use the signature to authenticate")
    if policy.allow_private:
        return
    try:
        found = resolve(parts.hostname, port or (443 if parts.scheme == "https" else 80),
                        type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Unresolvable(f"the host {parts.hostname!r} does not resolve ({exc})") from None
    addresses = {ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found}
    if not addresses:
        raise Unresolvable(f"the host {parts.hostname!r} does not resolve")
    private = sorted(str(address) for address in addresses if not is_public(address))
    if private:
        raise RefusedUrl(f"the host {parts.hostname!r} resolves to a non-public address "
                         f"({', '.join(private)}); this server does not call private addresses")
