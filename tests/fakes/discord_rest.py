"""The fake's REST core: routing, auth, scripted failures, rate-limit headers, bodies.

Handlers live in ``discord_rest_guilds``, ``discord_rest_messages`` and ``discord_rest_apps``;
each is ``async (RestCore, Call) -> Reply`` and may raise :class:`ApiError`.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.discord_gateway import FakeGateway
from tests.fakes.discord_records import (
    InteractionCallback,
    RequestRecord,
    ScriptedFailure,
    SentInteraction,
    StoredMessage,
)
from tests.fakes.discord_validation import ApiError, Refusal
from tests.fakes.discord_world import JSON, Channel, DiscordState, Guild

API_PREFIX = "/api/v10"
_NO_AUTH = ("/interactions/", "/webhooks/")


@dataclass
class Call:
    """One routed REST request."""

    method: str
    path: str
    args: dict[str, str]
    query: dict[str, str]
    body: Any
    files: list[JSON] = field(default_factory=list)

    def snowflake(self, name: str) -> int:
        """A path argument as an int (404 if it is not a snowflake)."""
        value = self.args[name]
        if not value.isdigit():
            raise ApiError(404, 0, "404: Not Found")
        return int(value)

    def json_body(self) -> JSON:
        """The body as a JSON object (400 50109 otherwise)."""
        if not isinstance(self.body, dict):
            raise ApiError(400, 50109, "The request body contains invalid JSON.")
        return self.body


@dataclass
class Reply:
    """A handler's answer; ``body=None`` means 204 No Content."""

    status: int = 200
    body: Any = None


Handler = Callable[["RestCore", Call], Awaitable[Reply]]


class Router:
    """Maps ``METHOD /path/{arg}`` templates to handlers."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        """Register ``handler`` for ``method`` and a path template."""
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        self._routes.append((method, re.compile(f"^{regex}$"), handler))

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        """The handler and path arguments for a request, if any route matches."""
        for route_method, regex, handler in self._routes:
            found = regex.match(path)
            if found and route_method == method:
                return handler, found.groupdict()
        return None


@dataclass
class RestCore:
    """State and records shared by all REST handlers."""

    state: DiscordState
    gateway: FakeGateway
    #: Notified after every REST request, so tests can wait for side effects.
    changed: asyncio.Condition
    router: Router = field(default_factory=Router)
    messages: list[StoredMessage] = field(default_factory=list)
    callbacks: list[InteractionCallback] = field(default_factory=list)
    interactions: dict[int, SentInteraction] = field(default_factory=dict)
    requests: list[RequestRecord] = field(default_factory=list)
    unknown_routes: list[str] = field(default_factory=list)
    failures: list[ScriptedFailure] = field(default_factory=list)
    #: Messages refused for good (see ``FakeDiscord.refuse_messages_containing``).
    refusals: list[Refusal] = field(default_factory=list)
    #: Synced application commands; key None = global, else a guild id.
    commands: dict[int | None, list[JSON]] = field(default_factory=dict)
    sync_count: int = 0
    interaction_ack_timeout: float = 3.0

    def channel(self, channel_id: int) -> tuple[Guild, Channel]:
        """Guild and channel, or 404 Unknown Channel."""
        found = self.state.find_channel(channel_id)
        if found is None:
            raise ApiError(404, 10003, "Unknown Channel")
        return found

    def guild(self, guild_id: int) -> Guild:
        """A guild, or 404 Unknown Guild."""
        guild = self.state.guilds.get(guild_id)
        if guild is None:
            raise ApiError(404, 10004, "Unknown Guild")
        return guild

    def message(self, message_id: int, channel_id: int | None = None) -> StoredMessage:
        """A live stored message, or 404 Unknown Message."""
        for msg in self.messages:
            same_channel = channel_id is None or msg.channel_id == channel_id
            if msg.id == message_id and not msg.deleted and same_channel:
                return msg
        raise ApiError(404, 10008, "Unknown Message")

    async def handle(self, request: web.Request) -> web.Response:
        """aiohttp entry point for everything under ``/api/v10``."""
        path = request.path[len(API_PREFIX) :] or "/"
        query = dict(request.query)
        try:
            body, files = await read_body(request)
        except ApiError as err:
            return self._record(request.method, path, query, None, error_response(err))
        response = await self._respond(
            request, path, Call(request.method, path, {}, query, body, files)
        )
        self._record(request.method, path, query, body, response)
        async with self.changed:
            self.changed.notify_all()
        return response

    def _record(
        self, method: str, path: str, query: dict[str, str], body: Any, resp: web.Response
    ) -> web.Response:
        """Remember the request and pass the response through."""
        self.requests.append(RequestRecord(method, path, query, body, resp.status))
        return resp

    async def _respond(self, request: web.Request, path: str, call: Call) -> web.Response:
        """Scripted failure, auth, then the routed handler."""
        scripted = self._take_failure(call.method, path)
        if scripted is not None:
            return failure_response(scripted, path)
        if (
            not path.startswith(_NO_AUTH)
            and request.headers.get("Authorization") != f"Bot {self.state.token}"
        ):
            return json_response(401, {"message": "401: Unauthorized", "code": 0})
        matched = self.router.match(call.method, path)
        if matched is None:
            self.unknown_routes.append(f"{call.method} {path}")
            return json_response(404, {"message": "404: Not Found", "code": 0})
        handler, call.args = matched
        try:
            reply = await handler(self, call)
        except ApiError as err:
            return error_response(err)
        return json_response(reply.status, reply.body, bucket=path.split("/")[1])

    def _take_failure(self, method: str, path: str) -> ScriptedFailure | None:
        """Consume one use of the first matching scripted failure."""
        for failure in self.failures:
            if failure.times > 0 and failure.matches(method, path):
                failure.times -= 1
                return failure
        return None


async def read_body(request: web.Request) -> tuple[Any, list[JSON]]:
    """JSON or multipart (``payload_json`` + files) body; anything else is 50109."""
    if request.content_type == "multipart/form-data":
        return await _read_multipart(request)
    raw = await request.read()
    if not raw:
        return None, []
    if request.content_type != "application/json":
        raise ApiError(400, 50109, "The request body contains invalid JSON.")
    try:
        return json.loads(raw), []
    except ValueError:
        raise ApiError(400, 50109, "The request body contains invalid JSON.") from None


async def _read_multipart(request: web.Request) -> tuple[Any, list[JSON]]:
    """``payload_json`` plus a description of each uploaded file."""
    form = await request.post()
    body: Any = None
    files: list[JSON] = []
    for key, value in form.items():
        if key == "payload_json" and isinstance(value, str):
            body = json.loads(value)
        elif isinstance(value, web.FileField):
            data = value.file.read()
            files.append(
                {"field": key, "filename": value.filename, "size": len(data), "data": data}
            )
    return body, files


def json_response(status: int, body: Any, *, bucket: str = "global") -> web.Response:
    """A response with Content-Type exactly ``application/json`` and rate-limit headers."""
    headers = {
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": "49",
        "X-RateLimit-Reset-After": "1.000",
        "X-RateLimit-Bucket": f"fake-{bucket}",
    }
    if body is None:
        return web.Response(status=204, headers=headers)
    headers["Content-Type"] = "application/json"
    return web.Response(status=status, body=json.dumps(body).encode(), headers=headers)


def error_response(err: ApiError) -> web.Response:
    """JSON error body for an :class:`ApiError`."""
    return json_response(err.status, err.body())


def failure_response(failure: ScriptedFailure, path: str) -> web.Response:
    """A scripted 429 (with Discord's headers, ``Via`` included) or 5xx."""
    body = json.dumps(failure.body()).encode()
    headers = {"Content-Type": "application/json", "Via": "1.1 google"}
    if failure.status == 429:
        headers |= {
            "Retry-After": str(max(1, round(failure.retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": f"{failure.retry_after:.3f}",
            "X-RateLimit-Bucket": f"fake-{path.split('/')[1]}",
            "X-RateLimit-Scope": "global" if failure.is_global else "user",
        }
        if failure.is_global:
            headers["X-RateLimit-Global"] = "true"
    return web.Response(status=failure.status, body=body, headers=headers)
