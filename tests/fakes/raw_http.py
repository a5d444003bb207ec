"""A scripted raw HTTP server on loopback: lying headers, dripping bytes, connection counts."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Mapping, Sequence
from types import TracebackType

Step = tuple[float, bytes | None]  # wait this many seconds, then write these bytes (None: RST)


class _Connection(asyncio.Protocol):
    """Answers the first request on a connection with the server's script."""

    def __init__(self, server: RawServer) -> None:
        self._server = server
        self._buffer = b""
        self._transport: asyncio.Transport | None = None
        self._paused = False  # the client's receive buffer is full

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._server.connections += 1
        self._server.transports.append(transport)

    def data_received(self, data: bytes) -> None:
        if self._transport is None or b"\r\n\r\n" in self._buffer:
            return
        self._buffer += data
        if b"\r\n\r\n" in self._buffer:
            self._server.arrived(self._buffer)
            loop = asyncio.get_running_loop()
            transport, at = self._transport, 0.0
            for delay, chunk in self._server.script_for(self._buffer):
                at += delay
                loop.call_later(at, _write, transport, chunk)
            if self._server.endless:
                loop.call_later(at, self._pump)

    def pause_writing(self) -> None:
        """The client reads slower than we write: stop the endless body for now."""
        self._paused = True

    def resume_writing(self) -> None:
        """The client caught up: go on writing."""
        self._paused = False
        self._pump()

    def _pump(self) -> None:
        """Write the endless chunk until the client stops reading or hangs up."""
        transport = self._transport
        while transport is not None and not transport.is_closing() and not self._paused:
            transport.write(self._server.endless)


def _write(transport: asyncio.Transport, chunk: bytes | None) -> None:
    if transport.is_closing():
        return
    if chunk is None:  # reset the connection: RST, not an orderly close
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.write(chunk)


class RawServer:
    """Listens on host:0 in the running loop and plays `script` to every request.

    `routes` gives some paths ("/slow") a script of their own; `endless` is written
    forever after the script, as fast as the client reads it.
    """

    def __init__(self, script: Sequence[Step] = (), host: str = "127.0.0.1",
                 routes: Mapping[str, Sequence[Step]] | None = None,
                 endless: bytes = b"") -> None:
        self.script = list(script)
        self.routes = dict(routes or {})
        self.endless = endless
        self.host = host
        self.port = 0
        self.connections = 0
        self.requests = 0
        self.paths: list[str] = []
        self.transports: list[asyncio.Transport] = []
        self._server: asyncio.Server | None = None
        self._arrival = asyncio.Event()

    def arrived(self, head: bytes) -> None:
        """Count a request (its head is complete) and wake whoever waits for requests."""
        self.requests += 1
        self.paths.append(_path_of(head))
        self._arrival.set()

    def script_for(self, head: bytes) -> Sequence[Step]:
        """The script played to the request with this head."""
        return self.routes.get(_path_of(head), self.script)

    async def wait_for_requests(self, count: int) -> None:
        """Return once `count` requests have arrived in all."""
        while self.requests < count:
            self._arrival.clear()
            await self._arrival.wait()

    def url(self, path: str = "feed", host: str = "") -> str:
        """The URL of a path on this server, optionally under another host name."""
        return f"http://{host or self.host}:{self.port}/{path}"

    async def __aenter__(self) -> RawServer:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), self.host, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        for transport in self.transports:
            transport.abort()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


def response(body: bytes, status: str = "200 OK", headers: Sequence[str] = ()) -> bytes:
    """A complete HTTP/1.1 response with a correct Content-Length."""
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _path_of(head: bytes) -> str:
    """The path of a request head's request line ("GET /feed HTTP/1.1" -> "/feed")."""
    parts = head.split(b"\r\n", 1)[0].split(b" ")
    return parts[1].decode("latin-1") if len(parts) > 1 else ""
