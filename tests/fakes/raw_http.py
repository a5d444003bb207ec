"""A scripted raw HTTP server on loopback: lying headers, dripping bytes, connection counts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import TracebackType

Step = tuple[float, bytes]  # wait this many seconds, then write these bytes


class _Connection(asyncio.Protocol):
    """Answers the first request on a connection with the server's script."""

    def __init__(self, server: RawServer) -> None:
        self._server = server
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

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
            self._server.requests += 1
            loop = asyncio.get_running_loop()
            transport, at = self._transport, 0.0
            for delay, chunk in self._server.script:
                at += delay
                loop.call_later(at, _write, transport, chunk)


def _write(transport: asyncio.Transport, chunk: bytes) -> None:
    if not transport.is_closing():
        transport.write(chunk)


class RawServer:
    """Listens on host:0 in the running loop and plays `script` to every request."""

    def __init__(self, script: Sequence[Step] = (), host: str = "127.0.0.1") -> None:
        self.script = list(script)
        self.host = host
        self.port = 0
        self.connections = 0
        self.requests = 0
        self.transports: list[asyncio.Transport] = []
        self._server: asyncio.Server | None = None

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
