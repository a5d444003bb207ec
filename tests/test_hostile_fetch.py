"""Hostile servers and URLs: a canary proves no forbidden request; bombs, drips, huge heads."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Sequence

import brotli
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.feeds.fetch import Fetcher, FetchLimits
from bot.feeds.guard import (
    DEFAULT_PORTS,
    BlockedAddress,
    GuardedResolver,
    IPAddress,
    address_check,
    check_url,
    is_metadata_address,
    is_public_address,
)
from tests.fakes.feed_server import FeedServer, Script
from tests.fakes.raw_http import RawServer, Step, response

INTERNET = ipaddress.ip_address("127.0.0.1")
CANARY_HOST = "127.0.0.2"
LIMITS = FetchLimits(timeout_s=3.0, max_bytes=64 * 1024)
FEED = b'<rss version="2.0"><channel><title>ok</title></channel></rss>'


def internet_or_public(address: IPAddress) -> bool:
    """The real guard, except that 127.0.0.1 stands in for the internet."""
    return address == INTERNET or is_public_address(address)


class NamesResolver(AbstractResolver):
    """A DNS of our own: each test host name resolves to the addresses listed for it."""

    def __init__(self, names: dict[str, list[str]]) -> None:
        self.names = names

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        """The listed addresses of a name; unknown names fail like NXDOMAIN."""
        if host not in self.names:
            raise OSError(f"no such host {host}")
        return [ResolveResult(hostname=host, host=address, port=port, family=socket.AF_INET,
                              proto=0, flags=socket.AI_NUMERICHOST)
                for address in self.names[host]]

    async def close(self) -> None:
        """Nothing to close."""


NAMES = {"public.test": ["127.0.0.1"], "canary.test": [CANARY_HOST],
         "mixed.test": [CANARY_HOST, "127.0.0.1"]}


@pytest.fixture
async def canary() -> AsyncIterator[RawServer]:
    """A server on a private address; any connection to it is a failed defence."""
    async with RawServer([(0, response(b"secret"))], host=CANARY_HOST) as server:
        yield server


async def _fetch(url: str) -> str:
    async with Fetcher(LIMITS, internet_or_public, NamesResolver(NAMES)) as fetcher:
        return (await fetcher.fetch(url)).error


async def test_the_internet_stand_in_is_reachable(feed_server: FeedServer) -> None:
    """The injected guard lets 127.0.0.1 through, by address and by name (the control case)."""
    assert await _fetch(feed_server.url("atom.xml")) == ""
    named = feed_server.url("atom.xml").replace("127.0.0.1", "public.test")
    assert await _fetch(named) == ""


@pytest.mark.parametrize("spelling", [
    CANARY_HOST, "2130706434", "0x7f000002", "0177.0.0.2", "127.2", "[::ffff:127.0.0.2]",
    "[::ffff:7f00:2]", "canary.test"])
async def test_private_target_is_never_contacted(canary: RawServer, spelling: str) -> None:
    """The canary's address in any spelling, or a name resolving to it, is refused unseen."""
    error = await _fetch(canary.url(host=spelling))
    assert error.startswith("refused:")
    assert canary.connections == 0


@pytest.mark.parametrize("target", ["address", "name"])
async def test_redirect_to_a_private_target_is_refused(canary: RawServer,
                                                       feed_server: FeedServer,
                                                       target: str) -> None:
    """A public feed redirecting to the canary (by address or by name) never reaches it."""
    host = CANARY_HOST if target == "address" else "canary.test"
    feed_server.script("hop", Script(status=302, headers={"Location": canary.url(host=host)}))
    error = await _fetch(feed_server.url("hop"))
    assert error.startswith("refused:")
    assert feed_server.requests["hop"] == 1 and canary.connections == 0


async def test_name_with_a_private_and_a_public_address_uses_only_the_public(
        canary: RawServer) -> None:
    """Of the addresses a name resolves to, the private ones are dropped before connecting."""
    async with RawServer([(0, response(FEED))]) as public:
        error = await _fetch(f"http://mixed.test:{public.port}/feed")
        rebound = await _fetch(f"http://mixed.test:{canary.port}/feed")
    assert error == "" and public.requests == 1
    assert rebound.startswith("cannot connect") or rebound.startswith("refused:")
    assert canary.connections == 0


@pytest.mark.parametrize(("address", "public"), [
    ("8.8.8.8", True), ("2606:4700:4700::1111", True), ("2002:808:808::", True),
    ("64:ff9b::808:808", True), ("::ffff:8.8.8.8", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("100.64.0.1", False), ("100.127.255.254", False), ("169.254.169.254", False),
    ("fd00:ec2::254", False), ("::1", False), ("::ffff:127.0.0.1", False),
    ("::ffff:169.254.169.254", False), ("2002:7f00:1::", False), ("2002:a9fe:a9fe::", False),
    ("64:ff9b::7f00:1", False), ("64:ff9b::a9fe:a9fe", False), ("64:ff9b:1::a00:1", False),
    ("224.0.0.1", False), ("239.255.255.250", False), ("ff02::1", False), ("ff0e::1", False),
    ("0.0.0.0", False), ("::", False), ("240.0.0.1", False), ("255.255.255.255", False),
    ("fe80::1", False), ("fc00::1", False), ("198.18.0.1", False), ("192.0.2.1", False),
])
def test_is_public_address(address: str, public: bool) -> None:
    """Only globally routable unicast is public; IPv4 hidden in IPv6 is judged unwrapped."""
    assert is_public_address(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(("address", "metadata"), [
    ("169.254.169.254", True), ("169.254.170.2", True), ("100.100.100.200", True),
    ("fd00:ec2::254", True), ("::ffff:169.254.169.254", True), ("2002:a9fe:a9fe::", True),
    ("64:ff9b::a9fe:a9fe", True), ("127.0.0.1", False), ("10.1.2.3", False),
    ("169.254.1.1", False), ("8.8.8.8", False),
])
def test_metadata_addresses_need_their_own_switch(address: str, metadata: bool) -> None:
    """Allowing private addresses opens loopback and RFC 1918 but never a cloud metadata
    address, however it is spelled; only allow_metadata opens those (and only those)."""
    ip = ipaddress.ip_address(address)
    private = address_check(allow_private=True, allow_metadata=False)
    only_metadata = address_check(allow_private=False, allow_metadata=True)
    assert is_metadata_address(ip) is metadata
    assert private(ip) is not metadata
    assert only_metadata(ip) is (metadata or is_public_address(ip))


@pytest.mark.parametrize(("url", "extra", "refused"), [
    ("http://8.8.8.8/", (), ""),
    ("https://8.8.8.8:443/", (), ""),
    ("http://8.8.8.8:6379/", (), "port 6379 is not allowed (only 80, 443;"),
    ("https://8.8.8.8:8080/", (), "port 8080 is not allowed"),
    ("http://8.8.8.8:8080/", (8080,), ""),
    ("http://127.0.0.1:6379/", (), ""),  # private addresses, once allowed: any port
    ("http://example.org:0/", (), "has no valid port"),
])
def test_ports_on_public_addresses_are_80_443_and_the_allowed_ones(
        url: str, extra: tuple[int, ...], refused: str) -> None:
    """check_url refuses a literal public address on a port outside the allowed set."""
    check = address_check(allow_private=True, allow_metadata=False)
    ports = DEFAULT_PORTS | frozenset(extra)
    if not refused:
        check_url(url, check, ports)
        return
    with pytest.raises(BlockedAddress, match=re.escape(refused)):
        check_url(url, check, ports)


async def test_the_resolver_refuses_odd_ports_and_metadata_names() -> None:
    """A name of a public address on an odd port, and a name of a metadata address even with
    private addresses allowed, resolve to nothing the fetcher may connect to."""
    names = NamesResolver({"feeds.test": ["8.8.8.8"],
                           "metadata.google.internal": ["169.254.169.254", "10.0.0.1"]})
    resolver = GuardedResolver(address_check(allow_private=True, allow_metadata=False), names)
    assert [r["host"] for r in await resolver.resolve("feeds.test", 443)] == ["8.8.8.8"]
    with pytest.raises(BlockedAddress, match="port 6379 is not allowed"):
        await resolver.resolve("feeds.test", 6379)
    [kept] = await resolver.resolve("metadata.google.internal", 80)
    assert kept["host"] == "10.0.0.1"
    names.names["metadata.google.internal"] = ["169.254.169.254"]
    with pytest.raises(BlockedAddress, match=re.escape(
            "metadata.google.internal is a cloud metadata address; only [fetch] "
            "allow_metadata_addresses = true")):
        await resolver.resolve("metadata.google.internal", 80)


async def _serve(script: Sequence[Step], limits: FetchLimits = LIMITS) -> str:
    """The fetch error for a raw server playing ``script``."""
    async with RawServer(script) as server, Fetcher(limits, internet_or_public) as fetcher:
        return (await fetcher.fetch(server.url())).error


@pytest.mark.slow
@pytest.mark.parametrize("encoding", ["br", "deflate", "gzip"])
async def test_compression_bombs_stop_at_the_cap(encoding: str) -> None:
    """64 MiB of zeros compressed to a few KiB: cut off at the cap without inflating it all."""
    zeros = b"\0" * (64 * 1024 * 1024)
    packed = {"br": lambda: brotli.compress(zeros, quality=1),  # type: ignore[no-untyped-call]
              "deflate": lambda: zlib.compress(zeros, 9),
              "gzip": lambda: zlib.compress(zeros, 9, wbits=31)}[encoding]()
    tracemalloc.start()
    try:
        error = await _serve([(0, response(packed, headers=[
            f"Content-Encoding: {encoding}"]))])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert error == "larger than 64 KiB"
    assert peak < 16 * 1024 * 1024


async def test_declared_length_over_the_cap_is_refused_before_reading() -> None:
    """A Content-Length over the cap is refused from the head alone: the server never sends
    a body byte, so waiting for one would end in a timeout, not this error."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n"
    assert await _serve([(0, head)]) == "larger than 64 KiB"


async def test_dripping_server_is_cut_off_by_the_deadline() -> None:
    """One byte every 0.1 s keeps every read alive for 10 s, but the whole fetch has a
    deadline of 0.5 s: it ends with the timeout error (pytest-timeout would catch a fetch
    that followed the drip to its end)."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    error = await _serve([(0, head)] + [(0.1, b"x")] * 100, FetchLimits(timeout_s=0.5))
    assert error == "timed out after 0.5 s"


async def test_dripping_headers_are_cut_off_by_the_deadline() -> None:
    """A status line followed by one header every 0.1 s never finishes: the deadline of
    0.5 s ends it with the timeout error."""
    script = [(0, b"HTTP/1.1 200 OK\r\n")] + [(0.1, b"X-Slow: y\r\n")] * 100
    error = await _serve(script, FetchLimits(timeout_s=0.5))
    assert error == "timed out after 0.5 s"


@pytest.mark.parametrize("headers", [
    [f"X-Big: {'a' * 100_000}"], [f"X-H{i}: v" for i in range(20_000)]])
async def test_huge_headers_are_refused(headers: list[str]) -> None:
    """One enormous header, or thousands of them, is refused with a short reason."""
    error = await _serve([(0, response(FEED, headers=headers))])
    assert error == "the response headers were too large or malformed"


@pytest.mark.slow
async def test_stacked_content_encodings_are_refused_unread() -> None:
    """`Content-Encoding: gzip, gzip` (a bomb inside a gzip): refused, the inner layer never
    inflated."""
    inner = zlib.compress(b"\0" * (64 * 1024 * 1024), 9, wbits=31)
    packed = zlib.compress(inner, 9, wbits=31)
    async with RawServer([(0, response(packed, headers=["Content-Encoding: gzip, gzip"]))]
                         ) as server, Fetcher(LIMITS, internet_or_public) as fetcher:
        error = (await fetcher.fetch(server.url())).error
    assert error == "stacked Content-Encoding (gzip, gzip) is not supported"
    assert server.requests == 1


async def test_endless_body_stops_at_the_size_cap() -> None:
    """A body with no length that never ends is cut off at the byte cap, not the deadline."""
    async with RawServer([(0, b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")],
                         endless=b"x" * 65536) as server, \
            Fetcher(LIMITS, internet_or_public) as fetcher:
        result = await fetcher.fetch(server.url())
    assert result.error == "larger than 64 KiB"


async def test_short_content_length_reads_only_what_it_declares() -> None:
    """A Content-Length shorter than the body: the fetch gets at most the declared bytes, and
    the rest (here a whole smuggled response) never becomes another fetch's answer."""
    smuggled = response(b"<rss><channel><title>smuggled</title></channel></rss>")
    async with RawServer([(0, b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n"
                              + FEED + smuggled)]) as server, \
            Fetcher(LIMITS, internet_or_public) as fetcher:
        results = [await fetcher.fetch(server.url()) for _ in range(3)]
    for result in results:
        assert result.body == FEED[:20] or (result.error and not result.body)
        assert b"smuggled" not in result.body


async def test_connection_reset_mid_body_is_a_clear_error() -> None:
    """A server resetting the connection half-way through the body: one short reason."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n"
    error = await _serve([(0, head + FEED), (0.05, None)])
    assert error == "the response body was cut off or badly encoded"


@pytest.mark.slow
async def test_waiting_for_a_host_slot_is_not_timed() -> None:
    """Two hanging feeds hold both of a host's slots past the deadline; a healthy feed of the
    same host waits for a slot without its clock running, then is fetched fine."""
    limits = FetchLimits(timeout_s=1.0, per_host=2)
    async with RawServer([(0, response(FEED))], routes={"/hang1": [], "/hang2": []}) as server, \
            Fetcher(limits, internet_or_public) as fetcher:
        hanging = [asyncio.create_task(fetcher.fetch(server.url(path)))
                   for path in ("hang1", "hang2")]
        await server.wait_for_requests(2)
        healthy = await fetcher.fetch(server.url("feed"))
        errors = [(await task).error for task in hanging]
    assert healthy.error == "" and healthy.body == FEED
    assert errors == ["timed out after 1 s"] * 2
