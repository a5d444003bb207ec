"""A loopback HTTP server for feeds: files with ETag/304, scripted failures, request log."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from aiohttp import web


@dataclass
class Script:
    """What the server answers for one path instead of the file."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


class FeedServer:
    """Serves files from a folder on 127.0.0.1 in a thread of its own.

    Runs in its own thread and loop so that tests may call blocking code (subprocesses)
    while it serves. Honours If-None-Match / If-Modified-Since like a good server.
    """

    LAST_MODIFIED = "Tue, 24 Nov 2026 10:00:00 GMT"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.requests: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.scripts: dict[str, Script] = {}
        self.bodies: dict[str, bytes] = {}
        self.without_validators: set[str] = set()  # paths served with no ETag/Last-Modified
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def url(self, name: str) -> str:
        """The URL of a served path."""
        return f"http://127.0.0.1:{self.port}/{name}"

    def script(self, name: str, script: Script) -> None:
        """Answer `name` with this script until it is removed."""
        self.scripts[name] = script

    def __enter__(self) -> FeedServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/{name:.+}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.requests[name] += 1
        script = self.scripts.get(name)
        if script is not None:
            await asyncio.sleep(script.delay_s)
            return web.Response(status=script.status, body=script.body, headers=script.headers)
        body = self.bodies.get(name)
        if body is None:
            path = self.folder / name
            if not path.is_file():
                return web.Response(status=404, text="not found")
            body = path.read_bytes()
        kind = "application/feed+json" if name.endswith(".json") else "application/xml"
        if name in self.without_validators:
            return web.Response(body=body, headers={"Content-Type": kind})
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            self.not_modified[name] += 1
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, headers={
            "ETag": etag, "Last-Modified": self.LAST_MODIFIED, "Content-Type": kind})
