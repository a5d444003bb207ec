"""The HTTP rules every response follows: security headers, plain error pages, time limits,
conditional requests, and a per-client limit for costly requests."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from aiohttp.typedefs import Middleware

from bot.web.pages import Pages

log = logging.getLogger(__name__)
HANDLER_TIMEOUT_S = 10.0
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a page's secret address never leaves in a Referer
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
    "Cross-Origin-Opener-Policy": "same-origin",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_TOKEN_IN_PATH = re.compile(r"/c/[^/]+")


def loggable(path: str) -> str:
    """A request path without its page token: logs never hold a page's key."""
    return _TOKEN_IN_PATH.sub("/c/…", path)


def html_response(text: str, status: int = 200) -> web.Response:
    """An HTML page (UTF-8) that caches must revalidate (a page taken down goes at once)."""
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-cache"})


def error_middleware(pages: Pages, max_body: int) -> Middleware:
    """Every error as a plain page of its own (404, 405 with Allow, 413...), a body larger
    than `max_body` (or of unknown length) refused unread, a handler that runs too long as
    503, and anything unexpected logged with its traceback and shown as a plain 500: never a
    traceback to the client."""

    @web.middleware
    async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            length = request.content_length
            if request.body_exists and (length is None or length > max_body):
                raise web.HTTPRequestEntityTooLarge(max_size=max_body, actual_size=length or 0)
            async with asyncio.timeout(HANDLER_TIMEOUT_S):
                return await handler(request)
        except web.HTTPException as error:
            if error.status < 400:
                raise
            response = html_response(pages.error(error.status, error.reason), error.status)
            for name in ("Allow", "Retry-After"):
                if name in error.headers:
                    response.headers[name] = error.headers[name]
            return response
        except TimeoutError:
            log.warning("web: %s %s took over %.0f s", request.method,
                        loggable(request.path), HANDLER_TIMEOUT_S)
            return html_response(pages.error(503, "Service Unavailable"), 503)
        except Exception:
            log.exception("web: %s %s failed", request.method, loggable(request.path))
            return html_response(pages.error(500, "Internal Server Error"), 500)

    return errors


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)


def add_security_headers(app: web.Application) -> None:
    """The security headers on every response, errors and static files included."""
    app.on_response_prepare.append(_security_headers)


def conditional(request: web.Request, response: web.Response,
                modified: datetime | None = None) -> web.Response:
    """Give the response a strong ETag (its body's hash) and Last-Modified; answer 304 when
    the client's If-None-Match (or, without it, If-Modified-Since) says it has it."""
    body = response.body
    assert isinstance(body, bytes)
    etag = hashlib.sha256(body).hexdigest()[:32]
    response.etag = etag
    if modified is not None:
        response.last_modified = modified
    if request.if_none_match is not None:
        fresh = any(e.value == etag or e.value == "*" for e in request.if_none_match)
    else:
        since = request.if_modified_since
        fresh = modified is not None and since is not None and \
            int(modified.timestamp()) <= int(since.timestamp())
    if not fresh:
        return response
    headers = {name: response.headers[name] for name in
               ("ETag", "Last-Modified", "Cache-Control") if name in response.headers}
    return web.Response(status=304, headers=headers)
