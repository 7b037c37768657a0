"""Which outside URLs a service may call for a user: hosts whose every address is public.

An org's model endpoint (and a webhook) makes a service send requests where a user says, from
inside the deployment: to the database, the broker or a cloud's metadata service if nothing
stopped it (SSRF). So the host is resolved and every address it resolves to must be globally
routable: no private, loopback, link-local, shared (CGNAT), multicast, reserved or unspecified
address, and none hidden in an IPv4-mapped or 6to4 IPv6 address. Integer, hex and octal IPv4
forms (``2130706433``, ``0x7f.1``) are resolved the way the C library reads them, so they are
judged by the address they mean. An operator allows private addresses (a vLLM or Ollama on the
same network, the tests' local servers) with a setting: ``Policy(allow_private=True)``.

:func:`check` runs when the URL is saved and again before each call. :func:`guarded_client`
closes the DNS-rebinding window as well: its connections resolve the host themselves, check
every address, and connect to a checked address (TLS still names the host), so a name that
answers a public address to the check and a private one to the connection gets nowhere.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

Resolver = Callable[..., list[tuple[Any, ...]]]
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedUrl(Exception):
    """The URL may not be called (its scheme, its form or where it points): the user's to fix."""


class Unresolvable(RefusedUrl):
    """The host has no address now (may be transient at call time)."""


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
        raise RefusedUrl(
            "the URL must be https://"
            + ("" if policy.allow_http else " (http:// is not allowed on this server)")
        )
    if not parts.hostname:
        raise RefusedUrl("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise RefusedUrl("the URL may not carry credentials")
    if not policy.allow_private:
        public_addresses(parts.hostname, port or (443 if parts.scheme == "https" else 80), resolve)


def public_addresses(
    host: str, port: int, resolve: Resolver = socket.getaddrinfo
) -> list[IpAddress]:
    """Every address ``host`` resolves to, in the resolver's order; :class:`RefusedUrl` if any
    is not public, :class:`Unresolvable` if there is none."""
    try:
        found = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Unresolvable(f"the host {host!r} does not resolve ({exc})") from None
    addresses = list(
        dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found)
    )
    if not addresses:
        raise Unresolvable(f"the host {host!r} does not resolve")
    private = sorted(str(address) for address in addresses if not is_public(address))
    if private:
        raise RefusedUrl(
            f"the host {host!r} resolves to a non-public address "
            f"({', '.join(private)}); this server does not call private addresses"
        )
    return addresses


class _CheckedBackend(httpcore.NetworkBackend):
    """httpcore's own sockets, opened only to addresses that :func:`public_addresses` passed."""

    def __init__(self, resolve: Resolver) -> None:
        self._inner, self._resolve = httpcore.SyncBackend(), resolve

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        failure: Exception | None = None
        for address in public_addresses(host, port, self._resolve):
            try:
                return self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        raise RefusedUrl("unix sockets are not called")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _CheckedTransport(httpx.HTTPTransport):
    def __init__(self, resolve: Resolver) -> None:
        super().__init__()
        # httpx takes no network backend of its own; its pool (the one attribute replaced) does.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(), network_backend=_CheckedBackend(resolve)
        )


def guarded_client(
    policy: Policy, resolve: Resolver = socket.getaddrinfo, **options: Any
) -> httpx.Client:
    """An ``httpx.Client`` that connects only where ``policy`` allows (see the module); the
    environment's proxies are not used, since a proxy would make the connection instead."""
    if policy.allow_private:
        return httpx.Client(**options)
    return httpx.Client(transport=_CheckedTransport(resolve), trust_env=False, **options)


def refused_in(exc: BaseException | None) -> RefusedUrl | None:
    """The :class:`RefusedUrl` behind ``exc`` (a client library wraps it), if there is one."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, RefusedUrl):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None
