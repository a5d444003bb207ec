"""HTTP for feeds: conditional GET, redirects checked hop by hop, caps on bytes and time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver

from bot.feeds.guard import (
    DEFAULT_PORTS,
    AddressCheck,
    BlockedAddress,
    GuardedResolver,
    check_url,
)

_REDIRECTS = {301, 302, 303, 307, 308}
_CHUNK = 64 * 1024
REFUSED = "refused: "  # the start of an error the guard raised


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """Caps of one fetch."""

    timeout_s: float = 30.0
    connect_timeout_s: float = 10.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    concurrency: int = 16
    per_host: int = 2
    user_agent: str = "newsbot/0.1"
    allowed_ports: frozenset[int] = DEFAULT_PORTS  # on public addresses; private ones: any


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one fetch got: a body, "not modified", or an error with its reason."""

    status: int  # the final HTTP status; 0 when no response came
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""
    content_type: str = ""
    final_url: str = ""
    error: str = ""
    retry_after_s: float | None = None

    @property
    def not_modified(self) -> bool:
        """The server said 304: nothing new, nothing to parse."""
        return self.status == 304 and not self.error

    @property
    def refused(self) -> bool:
        """The guard refused the URL or a redirect hop before connecting."""
        return self.error.startswith(REFUSED)

    @property
    def unanswered(self) -> bool:
        """No usable HTTP answer came (refused connection, reset, timeout, TLS, a service that
        is not HTTP, too large): the reason is for the log only, since it tells an open port
        from a closed one."""
        return bool(self.error) and self.status == 0 and not self.refused

    @property
    def gone(self) -> bool:
        """The server said 410: the feed is gone for good."""
        return self.status == 410


class _TooLarge(Exception):
    pass


class HostSlots:
    """At most `size` fetches per host at once; a host's semaphore lives while it is used."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._gates: dict[str, tuple[asyncio.Semaphore, int]] = {}  # host -> (gate, users)

    @contextlib.asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one of the host's slots, waiting as long as it takes."""
        gate, users = self._gates.get(host) or (asyncio.Semaphore(self._size), 0)
        self._gates[host] = (gate, users + 1)
        try:
            async with gate:
                yield
        finally:
            gate, users = self._gates[host]
            if users == 1:
                del self._gates[host]
            else:
                self._gates[host] = (gate, users - 1)


def _host_of(url: str) -> str:
    """The host and port a URL connects to, as the connection pool tells hosts apart."""
    try:
        parts = urlsplit(url)
        return f"{(parts.hostname or '').lower()}:{parts.port or ''}"
    except ValueError:  # a malformed URL: the fetch itself says what is wrong with it
        return ""


class Fetcher:
    """Fetches feed URLs through one pooled session; never raises for network trouble."""

    def __init__(self, limits: FetchLimits, is_allowed: AddressCheck,
                 resolver: AbstractResolver | None = None) -> None:
        self._limits = limits
        self._is_allowed = is_allowed
        self._resolver = resolver  # the system's by default; tests give names of their own
        self._session: aiohttp.ClientSession | None = None
        self._hosts = HostSlots(limits.per_host)

    async def __aenter__(self) -> Fetcher:
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(self._is_allowed, self._resolver,
                                     self._limits.allowed_ports),
            limit=self._limits.concurrency, limit_per_host=self._limits.per_host, ttl_dns_cache=300)
        timeout = aiohttp.ClientTimeout(total=self._limits.timeout_s,
                                        sock_connect=self._limits.connect_timeout_s)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=timeout,
            headers={"User-Agent": self._limits.user_agent,
                     "Accept": "application/atom+xml, application/rss+xml, application/feed+json,"
                               " application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"})
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        if self._session is not None:
            await self._session.close()

    async def fetch(self, url: str, *, etag: str = "", last_modified: str = "") -> FetchResult:
        """GET a feed, conditionally; errors come back as a FetchResult with a reason.

        Waiting for one of the host's `per_host` slots comes first and is not timed: the
        deadline covers the fetch itself, so slow feeds of a host never time out its others.
        """
        async with self._hosts.slot(_host_of(url)):
            return await self._timed(url, etag, last_modified)

    async def _timed(self, url: str, etag: str, last_modified: str) -> FetchResult:
        try:
            async with asyncio.timeout(self._limits.timeout_s):
                return await self._follow(url, etag, last_modified)
        except BlockedAddress as error:
            return FetchResult(status=0, error=f"{REFUSED}{error}", final_url=url)
        except TimeoutError:
            return FetchResult(status=0, error=f"timed out after {self._limits.timeout_s:g} s",
                               final_url=url)
        except _TooLarge:
            return FetchResult(status=0, final_url=url,
                               error=f"larger than {self._limits.max_bytes // 1024} KiB")
        except aiohttp.ClientError as error:
            return FetchResult(status=0, error=_describe(error), final_url=url)

    async def _follow(self, url: str, etag: str, last_modified: str) -> FetchResult:
        assert self._session is not None, "use the Fetcher as an async context manager"
        headers = {k: v for k, v in (("If-None-Match", etag),
                                     ("If-Modified-Since", last_modified)) if v}
        for _ in range(self._limits.max_redirects + 1):
            check_url(url, self._is_allowed, self._limits.allowed_ports)
            async with self._session.get(url, headers=headers, allow_redirects=False) as resp:
                location = resp.headers.get("Location")
                if resp.status in _REDIRECTS and location:
                    url = urljoin(url, location)
                    continue
                return await self._result(resp, url)
        return FetchResult(status=0, final_url=url,
                           error=f"more than {self._limits.max_redirects} redirects")

    async def _result(self, resp: aiohttp.ClientResponse, url: str) -> FetchResult:
        head = FetchResult(status=resp.status, final_url=url,
                           etag=resp.headers.get("ETag", ""),
                           last_modified=resp.headers.get("Last-Modified", ""),
                           content_type=resp.headers.get("Content-Type", ""))
        if resp.status == 304:
            return head
        if resp.status != 200:
            return replace(head, error=f"HTTP {resp.status} {resp.reason or ''}".strip(),
                           retry_after_s=_retry_after(resp.headers.get("Retry-After")))
        codings = [c.strip() for c in resp.headers.get("Content-Encoding", "").split(",")
                   if c.strip() and c.strip().lower() != "identity"]
        if len(codings) > 1:  # aiohttp undoes one; a second layer could hide a bomb
            return replace(head, error=f"stacked Content-Encoding ({', '.join(codings)})"
                                       " is not supported")
        return replace(head, body=await self._read_capped(resp))

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes:
        cap = self._limits.max_bytes
        if resp.content_length is not None and resp.content_length > cap:
            raise _TooLarge
        chunks, size = [], 0
        async for chunk in resp.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > cap:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)


def _retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds (it may be a number or an HTTP date)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def _describe(error: aiohttp.ClientError) -> str:
    cause = error.__cause__ or error.__context__
    if isinstance(cause, BlockedAddress):
        return f"{REFUSED}{cause}"
    if isinstance(error, aiohttp.ClientConnectorError):
        return f"cannot connect to {error.host}: {error.os_error.strerror or error.os_error}"
    if isinstance(error, aiohttp.ClientPayloadError):
        return "the response body was cut off or badly encoded"
    if isinstance(error, aiohttp.ClientResponseError):  # raised only while reading the head
        return "the response headers were too large or malformed"
    return f"{type(error).__name__}: {error}".rstrip(": ")
