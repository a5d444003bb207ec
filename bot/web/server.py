"""The web server: a published channel's pages and feeds on the bot's own event loop."""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from types import TracebackType

from aiohttp import web

from bot.ports import Clock
from bot.ratelimit import RateLimiter
from bot.web.http import (
    add_security_headers,
    conditional,
    error_middleware,
    html_response,
)
from bot.web.links import ICON, STYLE, Links
from bot.web.pages import Pages
from bot.web.reader import PageDigest, Published, Reader
from bot.web.syndication import atom_feed, json_feed, updated

log = logging.getLogger(__name__)
MAX_REQUEST_BYTES = 8 * 1024  # only GET is served: no request needs a body
EARLIER = 30  # earlier digests listed on a channel's page
FEED_DIGESTS = 20  # digests in each feed
SEARCH_RESULTS = 20
MAX_QUERY = 200
SEARCHES_PER_MINUTE = 20  # per client address
MAX_RENDERED = 256  # feeds kept rendered
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")
_ID = r"{%s:[0-9]{1,15}}"


FeedRenderer = Callable[[Published, Sequence[PageDigest], Links], bytes]


@dataclass(frozen=True, slots=True)
class _Rendered:
    """A feed as last rendered, and the digests it was rendered from."""

    digest_ids: tuple[int, ...]
    body: bytes
    modified: datetime


class Site:
    """The request handlers; each finds the channel by its token or answers 404."""

    def __init__(self, reader: Reader, links: Links, clock: Clock,
                 searches_per_minute: int = SEARCHES_PER_MINUTE) -> None:
        self._reader = reader
        self._links = links
        self._pages = Pages(links)
        self._searches = RateLimiter(searches_per_minute, timedelta(minutes=1), clock)
        self._rendered: dict[tuple[str, str], _Rendered] = {}  # (type, token) -> feed
        self._style = (resources.files("bot.web") / "static" / "style.css").read_bytes()
        self._icon = (resources.files("bot.web") / "static" / "icon.svg").read_bytes()

    def application(self) -> web.Application:
        """The aiohttp application: routes under the public URL's path, GET (and HEAD) only."""
        app = web.Application(client_max_size=MAX_REQUEST_BYTES,
                              middlewares=[error_middleware(self._pages, MAX_REQUEST_BYTES)])
        add_security_headers(app)
        base = f"{self._links.prefix}/c/{{token}}/"
        app.router.add_get(f"{self._links.prefix}{STYLE}", self.style)
        app.router.add_get(f"{self._links.prefix}{ICON}", self.icon)
        app.router.add_get(base, self.channel)
        app.router.add_get(base + "d/" + _ID % "digest", self.digest)
        app.router.add_get(base + "s/" + _ID % "story", self.story)
        app.router.add_get(base + "search", self.search)
        app.router.add_get(base + "feed.atom", self.atom)
        app.router.add_get(base + "feed.json", self.json)
        return app

    async def _published(self, request: web.Request) -> Published:
        token = request.match_info["token"]
        page = await self._reader.published(token) if _TOKEN.fullmatch(token) else None
        if page is None:
            raise web.HTTPNotFound()
        return page

    async def channel(self, request: web.Request) -> web.Response:
        """The latest digest, the earlier ones listed."""
        page = await self._published(request)
        latest = await self._reader.digests(page, limit=1)
        earlier = await self._reader.past_list(
            page, limit=EARLIER, before_id=latest[0].id if latest else None)
        text = self._pages.channel(page, latest[0] if latest else None, earlier)
        return conditional(request, html_response(text),
                           latest[0].created if latest else None)

    async def digest(self, request: web.Request) -> web.Response:
        """One past digest, at its permanent address."""
        page = await self._published(request)
        digest_id = int(request.match_info["digest"])
        digest = await self._reader.digest(page, digest_id)
        if digest is None:
            raise web.HTTPNotFound()
        older, newer = await self._reader.neighbours(page, digest_id)
        return conditional(request, html_response(
            self._pages.digest(page, digest, older, newer)))

    async def story(self, request: web.Request) -> web.Response:
        """One story the channel may show."""
        page = await self._published(request)
        story = await self._reader.story(page, int(request.match_info["story"]))
        if story is None:
            raise web.HTTPNotFound()
        return conditional(request, html_response(self._pages.story(page, story)))

    async def search(self, request: web.Request) -> web.Response:
        """The channel's stories matching every word of `q` (limited per client)."""
        page = await self._published(request)
        query = request.query.get("q", "").strip()
        if not query:
            return html_response(self._pages.search(page, "", [], "Type a few words to "
                                                    "search this channel's stories."))
        if len(query) > MAX_QUERY:
            return html_response(self._pages.search(
                page, query[:MAX_QUERY], [], f"Searches are at most {MAX_QUERY} characters."),
                400)
        wait = self._searches.wait_time(request.remote or "?")
        if wait:
            seconds = max(1, round(wait.total_seconds()))
            response = html_response(self._pages.search(
                page, query, [], f"Too many searches: try again in {seconds} s."), 429)
            response.headers["Retry-After"] = str(seconds)
            return response
        found = await self._reader.search(page, query, limit=SEARCH_RESULTS)
        return html_response(self._pages.search(page, query, found))

    async def atom(self, request: web.Request) -> web.Response:
        """The channel's Atom feed."""
        return await self._feed(request, atom_feed, "application/atom+xml")

    async def json(self, request: web.Request) -> web.Response:
        """The channel's JSON Feed."""
        return await self._feed(request, json_feed, "application/feed+json")

    async def _feed(self, request: web.Request, render: FeedRenderer,
                    content_type: str) -> web.Response:
        """A feed of the channel's newest digests, rendered again only when they change
        (readers poll feeds often; a digest's stories never change, pruning aside, which
        shows at the next digest)."""
        page = await self._published(request)
        newest = tuple(d.id for d in await self._reader.past_list(page, limit=FEED_DIGESTS))
        cached = self._rendered.get((content_type, page.token))
        if cached is None or cached.digest_ids != newest:
            digests = await self._reader.digests(page, limit=FEED_DIGESTS)
            cached = _Rendered(tuple(d.id for d in digests), render(page, digests, self._links),
                               updated(digests))
            if len(self._rendered) >= MAX_RENDERED:
                self._rendered.clear()
            self._rendered[(content_type, page.token)] = cached
        return conditional(request, web.Response(
            body=cached.body, content_type=content_type, charset="utf-8",
            headers={"Cache-Control": "no-cache"}), cached.modified)

    async def style(self, request: web.Request) -> web.Response:
        """The one style sheet."""
        return conditional(request, web.Response(
            body=self._style, content_type="text/css", charset="utf-8",
            headers={"Cache-Control": "public, max-age=3600"}))

    async def icon(self, request: web.Request) -> web.Response:
        """The page icon."""
        return conditional(request, web.Response(
            body=self._icon, content_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=86400"}))


class WebServer:
    """Serves a Site on host:port (or on a socket already bound, as tests and benchmarks
    do) while the bot runs; OSError when it can't listen."""

    def __init__(self, site: Site, host: str = "127.0.0.1", port: int = 0,
                 sock: socket.socket | None = None) -> None:
        self._site = site
        self._host, self._port = host, port
        self._sock = sock
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        """The bound port (useful when asked for port 0)."""
        assert self._runner is not None and self._runner.addresses
        return int(self._runner.addresses[0][1])

    async def __aenter__(self) -> WebServer:
        self._runner = web.AppRunner(self._site.application(), access_log=None,
                                     handler_cancellation=True)
        await self._runner.setup()
        try:
            listener = (web.SockSite(self._runner, self._sock) if self._sock is not None
                        else web.TCPSite(self._runner, self._host, self._port))
            await listener.start()
        except OSError:
            await self._runner.cleanup()
            raise
        log.info("web pages on %s:%d", self._host, self.port)
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
