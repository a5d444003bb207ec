"""The fake's gateway: a JSON websocket speaking Discord's gateway protocol (v10).

Supports HELLO, IDENTIFY (token, intents, privileged intents, shards), heartbeats,
READY + GUILD_CREATE, RESUME with replay of missed dispatches, INVALID_SESSION,
RECONNECT, guild member chunk requests and server-side drops.

Sharding as Discord does it: a session that IDENTIFYs with ``shard: [id, count]`` gets READY
and GUILD_CREATE for the guilds with ``(guild_id >> 22) % count == id`` only, and every
dispatch carrying a ``guild_id`` (INTERACTION_CREATE, MESSAGE_CREATE, CHANNEL_UPDATE, ...)
goes to the sessions of that guild's shard alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_world import JSON, DiscordState, Guild

HELLO, HEARTBEAT, IDENTIFY, PRESENCE, RESUME, RECONNECT = 10, 1, 2, 3, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HEARTBEAT_ACK, DISPATCH = 8, 9, 11, 0
INTENT_GUILDS, INTENT_MEMBERS, INTENT_GUILD_MESSAGES = 1 << 0, 1 << 1, 1 << 9
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)
#: Close codes after which Discord (and discord.py) treat the session as finished.
_CLIENT_FINAL_CLOSES = frozenset({1000, 1001})


def holds_guild(session: GatewaySession, guild_id: int) -> bool:
    """Whether Discord routes this guild's events to the session's shard."""
    shard_id, count = session.shard
    return (guild_id >> 22) % count == shard_id


class GatewayClose(Exception):
    """Raised inside the frame handler to close the socket with a gateway close code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


@dataclass
class GatewaySession:
    """One gateway session (survives reconnects until invalidated)."""

    id: str
    intents: int
    shard: tuple[int, int] = (0, 1)
    seq: int = 0
    log: list[JSON] = field(default_factory=list)
    ws: web.WebSocketResponse | None = None
    alive: bool = True


@dataclass
class _Connection:
    """Per-socket state: which session it carries, if any."""

    ws: web.WebSocketResponse
    session: GatewaySession | None = None


class FakeGateway:
    """Gateway half of the fake; :meth:`handle` is the aiohttp websocket handler."""

    def __init__(
        self, state: DiscordState, changed: asyncio.Condition, heartbeat_interval_ms: int = 41_250
    ) -> None:
        self.state = state
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.url = ""  # set by the server once it knows its port
        self.sessions: dict[str, GatewaySession] = {}
        self.identifies = 0
        self.resumes = 0
        self.connections = 0
        self.heartbeats = 0
        self.received: list[JSON] = []
        #: Codes the fake closed sockets with, and codes clients closed with.
        self.close_codes: list[int] = []
        self.client_close_codes: list[int] = []
        self._server_closed: set[web.WebSocketResponse] = set()
        self._changed = changed
        self._open: set[web.WebSocketResponse] = set()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """Serve one websocket connection until it closes."""
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self.connections += 1
        conn = _Connection(ws)
        self._open.add(ws)
        try:
            if request.query.get("encoding", "json") != "json":
                raise GatewayClose(4002, "Decode error: only encoding=json is supported")
            await self._send(
                ws, {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}
            )
            await self._serve(conn)
        except GatewayClose as close:
            await self._close(ws, close.code, close.reason)
        finally:
            self._open.discard(ws)
            self._detach(conn)
        return ws

    async def _serve(self, conn: _Connection) -> None:
        """Read frames until the socket closes; missing heartbeats time the session out."""
        timeout = self.heartbeat_interval_ms / 1000 * 1.5 + 1.0
        while True:
            try:
                msg = await conn.ws.receive(timeout=timeout)
            except TimeoutError:
                raise GatewayClose(4009, "Session timed out") from None
            if msg.type is not WSMsgType.TEXT:
                return
            try:
                frame = json.loads(msg.data)
            except ValueError:
                raise GatewayClose(4002, "Decode error") from None
            self.received.append(frame)
            await self._on_frame(conn, frame)

    def _detach(self, conn: _Connection) -> None:
        """Forget the socket; a clean client close (1000/1001) ends the session."""
        session = conn.session
        if session is None or session.ws is not conn.ws:
            return
        session.ws = None
        if conn.ws in self._server_closed:
            return
        code = conn.ws.close_code
        if code is not None:
            self.client_close_codes.append(code)
        if code in _CLIENT_FINAL_CLOSES:
            session.alive = False

    async def _on_frame(self, conn: _Connection, frame: JSON) -> None:
        """Dispatch one client frame by opcode."""
        op, data = frame.get("op"), frame.get("d")
        if op == HEARTBEAT:
            self.heartbeats += 1
            await self._send(conn.ws, {"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(conn, data or {})
        elif op == RESUME:
            await self._resume(conn, data or {})
        elif conn.session is None:
            raise GatewayClose(4003, "Not authenticated")
        elif op == REQUEST_MEMBERS:
            await self._member_chunks(conn.session, data or {})
        elif op not in (PRESENCE, 4):
            raise GatewayClose(4001, f"Unknown opcode {op}")

    async def _identify(self, conn: _Connection, data: JSON) -> None:
        """Check IDENTIFY and start a new session with READY and GUILD_CREATEs."""
        if conn.session is not None:
            raise GatewayClose(4005, "Already authenticated")
        if data.get("token") != self.state.token:
            raise GatewayClose(4004, "Authentication failed")
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0:
            raise GatewayClose(4013, "Invalid intent(s)")
        if intents & PRIVILEGED_INTENTS & ~self.state.privileged_intents:
            raise GatewayClose(4014, "Disallowed intent(s)")
        shard = tuple(data.get("shard") or (0, 1))
        if len(shard) != 2 or not 0 <= shard[0] < shard[1]:
            raise GatewayClose(4010, "Invalid shard")
        self.identifies += 1
        session = GatewaySession(secrets.token_hex(16), intents, (int(shard[0]), int(shard[1])))
        self.sessions[session.id] = session
        conn.session = session
        session.ws = conn.ws
        guilds = self._shard_guilds(session)
        await self._dispatch_to(session, "READY", self._ready_payload(session, guilds))
        for guild in guilds:
            await self._dispatch_to(session, "GUILD_CREATE", self._guild_payload(session, guild))
        await self._notify()

    def _shard_guilds(self, session: GatewaySession) -> list[Guild]:
        """Guilds this session's shard receives ((guild_id >> 22) % shard_count)."""
        return [g for g in self.state.guilds.values() if holds_guild(session, g.id)]

    def _ready_payload(self, session: GatewaySession, guilds: list[Guild]) -> JSON:
        """READY as Discord sends it (guilds unavailable until their GUILD_CREATE)."""
        return {
            "v": 10,
            "user": self.state.bot.payload(),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.url,
            "shard": list(session.shard),
            "application": {
                "id": str(self.state.application_id),
                "flags": self.state.application_flags,
            },
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "_trace": ["fake-discord"],
        }

    def _guild_payload(self, session: GatewaySession, guild: Guild) -> JSON:
        """GUILD_CREATE; without GUILD_MEMBERS only the bot's own member is included."""
        payload = guild.create_payload()
        if not session.intents & INTENT_MEMBERS:
            bot_id = str(self.state.bot.id)
            payload["members"] = [m for m in payload["members"] if m["user"]["id"] == bot_id]
        return payload

    async def _resume(self, conn: _Connection, data: JSON) -> None:
        """Replay missed dispatches then RESUMED, or INVALID_SESSION if not resumable."""
        if data.get("token") != self.state.token:
            raise GatewayClose(4004, "Authentication failed")
        session = self.sessions.get(str(data.get("session_id")))
        seq = data.get("seq")
        if session is None or not session.alive or not isinstance(seq, int) or seq > session.seq:
            await self._send(conn.ws, {"op": INVALID_SESSION, "d": False})
            return
        self.resumes += 1
        if session.ws is not None and session.ws is not conn.ws:
            await self._close(session.ws, 4000, "session resumed elsewhere")
        conn.session = session
        session.ws = conn.ws
        for frame in session.log:
            if frame["s"] > seq:
                await self._send(conn.ws, frame)
        await self._dispatch_to(session, "RESUMED", {"_trace": ["fake-discord"]})
        await self._notify()

    async def _member_chunks(self, session: GatewaySession, data: JSON) -> None:
        """Answer REQUEST_GUILD_MEMBERS with one chunk of every (matching) member."""
        guild = self.state.guilds.get(int(data.get("guild_id") or 0))
        if guild is None:
            return
        wanted = {int(u) for u in data.get("user_ids") or []}
        members = [m.payload() for m in guild.members.values() if not wanted or m.user.id in wanted]
        chunk = {"guild_id": str(guild.id), "members": members, "chunk_index": 0, "chunk_count": 1}
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await self._dispatch_to(session, "GUILD_MEMBERS_CHUNK", chunk)

    async def _notify(self) -> None:
        """Wake :meth:`wait_for` callers after an IDENTIFY or RESUME."""
        async with self._changed:
            self._changed.notify_all()

    async def _dispatch_to(self, session: GatewaySession, event: str, data: Any) -> None:
        """Sequence, log and (if connected) send one DISPATCH to a session."""
        session.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.log.append(frame)
        if session.ws is not None and not session.ws.closed:
            await self._send(session.ws, frame)

    async def dispatch(self, event: str, data: Any, *, intent: int = 0) -> int:
        """Send an event to every live session whose intents include ``intent`` (and, for an
        event of one guild, whose shard holds that guild).

        Sessions that are momentarily disconnected get it on RESUME. Returns how many
        sessions received it.
        """
        guild = data.get("guild_id") if isinstance(data, dict) else None
        targets = [
            s
            for s in self.sessions.values()
            if s.alive
            and s.intents & intent == intent
            and (guild is None or holds_guild(s, int(guild)))
        ]
        for session in targets:
            await self._dispatch_to(session, event, data)
        return len(targets)

    async def drop(self, code: int = 4000) -> None:
        """Close every open socket with ``code`` (4000 = unknown error, resumable)."""
        for ws in list(self._open):
            await self._close(ws, code, "fake-discord drop")

    async def _close(self, ws: web.WebSocketResponse, code: int, reason: str) -> None:
        """Close a socket from the server side and remember that we did."""
        self.close_codes.append(code)
        self._server_closed.add(ws)
        await ws.close(code=code, message=reason.encode())

    async def send_op(self, op: int, data: Any = None) -> None:
        """Send a raw non-dispatch opcode (e.g. RECONNECT, INVALID_SESSION) to every socket."""
        for ws in list(self._open):
            await self._send(ws, {"op": op, "d": data})

    async def close_all(self) -> None:
        """Shut every socket down (server stop)."""
        for ws in list(self._open):
            await self._close(ws, 1001, "server stopping")

    @staticmethod
    async def _send(ws: web.WebSocketResponse, frame: JSON) -> None:
        """Send one JSON text frame, ignoring sockets that closed meanwhile."""
        frame.setdefault("s", None)
        frame.setdefault("t", None)
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_str(json.dumps(frame))
