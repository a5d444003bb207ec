"""Which addresses a feed fetch may connect to: no loopback, private or metadata targets."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressCheck = Callable[[IPAddress], bool]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_METADATA = {ipaddress.ip_address("fd00:ec2::254")}


class BlockedAddress(Exception):
    """A URL or address the fetcher refuses; the message is shown to users."""


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address hidden inside an IPv6 one (mapped, 6to4, NAT64, Teredo), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or address in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.teredo is not None:
        return address.teredo[1]
    return None


def is_public_address(address: IPAddress) -> bool:
    """True only for globally routable unicast addresses (IPv4 inside IPv6 unwrapped)."""
    inner = embedded_ipv4(address)
    if inner is not None:
        return is_public_address(inner)
    if address in _METADATA or (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT):
        return False
    return bool(address.is_global) and not (address.is_multicast or address.is_reserved
                                            or address.is_unspecified or address.is_link_local)


def allow_any_address(address: IPAddress) -> bool:
    """The check used when the config allows private addresses (own network, tests)."""
    return not address.is_unspecified and not address.is_multicast


def check_url(url: str, is_allowed: AddressCheck) -> None:
    """Refuse non-http(s) URLs, credentials, and literal addresses the check refuses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BlockedAddress(f"only http and https feeds are allowed, not {parts.scheme or '?'}:")
    if not parts.hostname:
        raise BlockedAddress("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise BlockedAddress("URLs with a user name or password are not allowed")
    literal = _literal_address(parts.hostname)
    if literal is not None and not is_allowed(literal):
        raise BlockedAddress(f"{parts.hostname} is a private or reserved address")


def _literal_address(host: str) -> IPAddress | None:
    """The address a host name spells, including odd forms (2130706433, 0x7f.1, 127.1)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:  # inet_aton accepts the BSD forms that browsers and resolvers also accept
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, UnicodeError):
        return None


class GuardedResolver(AbstractResolver):
    """Resolves host names and drops every address the check refuses.

    The fetcher connects only to addresses this resolver returns, so the check holds on
    every redirect hop and against DNS rebinding.
    """

    def __init__(self, is_allowed: AddressCheck, inner: AbstractResolver | None = None) -> None:
        self._is_allowed = is_allowed
        self._inner = inner or DefaultResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        """Resolve, then keep only allowed addresses; none left is a refusal."""
        results = await self._inner.resolve(host, port, family)
        allowed = [r for r in results if self._is_allowed(ipaddress.ip_address(r["host"]))]
        if not allowed:
            raise BlockedAddress(f"{host} resolves only to private or reserved addresses")
        return allowed

    async def close(self) -> None:
        """Close the wrapped resolver."""
        await self._inner.close()
