"""Where a feed fetch may connect: public addresses on web ports; private and metadata ones
only when the config allows each."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import SplitResult, urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressCheck = Callable[[IPAddress], bool]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
# Cloud instance metadata services: AWS (also ECS), GCP, Azure, Alibaba, and AWS over IPv6.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254"))
DEFAULT_PORTS = frozenset({80, 443})
PRIVATE_SWITCH = "[fetch] allow_private_addresses = true"
METADATA_SWITCH = "[fetch] allow_metadata_addresses = true"
EXAMPLE_URL = "https://example.org/feed.xml"


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
    if address in METADATA_ADDRESSES or (isinstance(address, ipaddress.IPv4Address)
                                         and address in _CGNAT):
        return False
    return bool(address.is_global) and not (address.is_multicast or address.is_reserved
                                            or address.is_unspecified or address.is_link_local)


def is_metadata_address(address: IPAddress) -> bool:
    """Whether an address is a cloud metadata service (IPv4 inside IPv6 unwrapped)."""
    return (embedded_ipv4(address) or address) in METADATA_ADDRESSES


def allow_any_address(address: IPAddress) -> bool:
    """Private and metadata addresses too: both switches on (own network, tests)."""
    return not address.is_unspecified and not address.is_multicast


def address_check(*, allow_private: bool, allow_metadata: bool) -> AddressCheck:
    """The check the config asks for: public addresses, plus private and metadata addresses
    when each is allowed (allowing private addresses never allows metadata ones)."""
    def is_allowed(address: IPAddress) -> bool:
        if is_metadata_address(address):
            return allow_metadata
        return is_public_address(address) or (allow_private and allow_any_address(address))
    return is_allowed


def is_allowed_port(address: IPAddress, port: int, ports: frozenset[int]) -> bool:
    """Public addresses only on the allowed ports; a private address (reached only when the
    config allows private addresses) on any port."""
    return port in ports or not is_public_address(address)


def check_url(url: str, is_allowed: AddressCheck, ports: frozenset[int] = DEFAULT_PORTS) -> None:
    """Refuse what is not an http(s) link, credentials, bad or disallowed ports, and literal
    addresses the check refuses (names are checked when resolved, by GuardedResolver)."""
    parts = urlsplit(url)
    if "://" not in url:
        raise BlockedAddress(f"not a web address: {url}; give a link like {EXAMPLE_URL}")
    if parts.scheme not in ("http", "https"):
        raise BlockedAddress(f"only http and https links are allowed, not {parts.scheme}:")
    if not parts.hostname:
        raise BlockedAddress(f"{url} has no host; give a link like {EXAMPLE_URL}")
    if parts.username is not None or parts.password is not None:
        raise BlockedAddress("links with a user name or password are refused (credentials in "
                             "links leak into logs and chat)")
    port = _port_of(parts, url)
    literal = _literal_address(parts.hostname)
    if literal is None:
        return
    if not is_allowed(literal):
        raise BlockedAddress(refusal(parts.hostname, literal))
    if not is_allowed_port(literal, port, ports):
        raise BlockedAddress(port_refusal(port, ports))


def refusal(host: str, address: IPAddress) -> str:
    """Why an address is refused, naming the config switch that would allow it."""
    if is_metadata_address(address):
        return (f"{host} is a cloud metadata address; only {METADATA_SWITCH} "
                "in the bot's config allows it")
    return (f"{host} is a private or reserved address; the bot's operator can allow those "
            f"with {PRIVATE_SWITCH}")


def port_refusal(port: int, ports: frozenset[int]) -> str:
    """Why a port is refused, naming the allowed ones and the config key."""
    allowed = ", ".join(str(p) for p in sorted(ports))
    return (f"port {port} is not allowed (only {allowed}; the bot's operator can allow more "
            "with [fetch] allowed_ports)")


def _port_of(parts: SplitResult, url: str) -> int:
    try:
        port = parts.port
    except ValueError:  # out of range or not a number
        port = 0
    if port == 0:
        raise BlockedAddress(f"{url} has no valid port; give a link like {EXAMPLE_URL}")
    return port or (443 if parts.scheme == "https" else 80)


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

    def __init__(self, is_allowed: AddressCheck, inner: AbstractResolver | None = None,
                 ports: frozenset[int] = DEFAULT_PORTS) -> None:
        self._is_allowed = is_allowed
        self._inner = inner or DefaultResolver()
        self._ports = ports

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        """Resolve, then keep only allowed addresses on allowed ports; none left is a refusal."""
        results = await self._inner.resolve(host, port, family)
        addresses = [ipaddress.ip_address(r["host"]) for r in results]
        allowed = [r for r, address in zip(results, addresses, strict=True)
                   if self._is_allowed(address) and is_allowed_port(address, port, self._ports)]
        if allowed:
            return allowed
        refused = [a for a in addresses if not self._is_allowed(a)]
        if not refused:
            raise BlockedAddress(port_refusal(port, self._ports))
        metadata = [a for a in refused if is_metadata_address(a)]
        if metadata:
            raise BlockedAddress(refusal(host, metadata[0]))
        raise BlockedAddress(f"{host} resolves only to private or reserved addresses; the "
                             f"bot's operator can allow those with {PRIVATE_SWITCH}")

    async def close(self) -> None:
        """Close the wrapped resolver."""
        await self._inner.close()
