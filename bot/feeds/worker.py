"""CPU-heavy parsing and enrichment in worker processes, with a memory cap and a deadline."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import resource
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any, TypeVar

from bot.feeds.errors import ParseError
from bot.model import Entry, NewArticle, ParsedFeed

T = TypeVar("T")
NICENESS = 10  # below the event loop's priority: a busy worker never delays it
PRELOAD = "bot.feeds.worker_preload"  # what the forkserver imports before forking workers


class WorkerFailure(ParseError):
    """The worker, not the feed, failed (no process, past the deadline, died): the same
    bytes may well parse next time."""


def _serve(conn: Connection, memory_mb: int) -> None:
    """A worker's life: run tasks from the pipe until it closes; report every failure."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the bot; it stops us
    os.nice(NICENESS)  # the loop answers at once when it wakes; we take the CPU it leaves
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    while True:
        try:
            task, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, Any] = ("ok", task(*args))
        except ParseError as error:
            reply = ("parse", str(error))
        except MemoryError:
            reply = ("parse", "parsing needed more memory than allowed")
        except Exception as error:  # anything a parser raises is that feed's failure
            reply = ("parse", f"parser error: {type(error).__name__}: {error}")
        conn.send(reply)


@dataclass
class _Slot:
    """One worker process and our end of its pipe."""

    process: BaseProcess
    conn: Connection


class ParseWorker:
    """Worker processes for parsing and enrichment; the event loop never runs them itself.

    Processes start on first use (or on `start`), all at once and beside the loop, forked
    from a forkserver that has already loaded the enrichment models. A task past its
    deadline, or a worker that dies (memory cap, crash), costs that feed one parse failure:
    the worker is replaced and the bot goes on.
    """

    def __init__(self, processes: int = 1, memory_mb: int = 1024,
                 deadline_s: float = 60.0) -> None:
        self._count = processes
        self._memory_mb = memory_mb
        self._deadline_s = deadline_s
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload([PRELOAD])
        self._free: asyncio.Queue[_Slot | None] = asyncio.Queue()  # None: a start failed
        self._slots: list[_Slot] = []
        self._starting: set[asyncio.Task[None]] = set()
        self._stopping: set[asyncio.Task[None]] = set()
        self._start_error = ""

    async def __aenter__(self) -> ParseWorker:
        return self  # processes start on first use: commands that never parse pay nothing

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await asyncio.gather(*self._starting, *self._stopping, return_exceptions=True)
        slots, self._slots = self._slots, []
        await asyncio.to_thread(_stop_all, slots)

    def start(self) -> None:
        """Start the missing worker processes in the background; returns at once."""
        while len(self._slots) + len(self._starting) < self._count:
            task = asyncio.create_task(self._add_process())
            self._starting.add(task)
            task.add_done_callback(self._starting.discard)

    async def _add_process(self) -> None:
        """Start one process beside the loop (the forkserver's first start takes seconds)."""
        try:
            slot = await asyncio.to_thread(self._spawn)
        except Exception as error:  # a task waiting for a worker gets it as a ParseError
            first_line = next((line for line in str(error).splitlines() if line.strip()), "")
            self._start_error = f"{type(error).__name__}: {first_line.strip()}"
            self._free.put_nowait(None)
            return
        self._slots.append(slot)
        self._free.put_nowait(slot)

    def _spawn(self) -> _Slot:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(theirs, self._memory_mb),
                                        daemon=True, name="newsbot-parser")
        process.start()
        theirs.close()
        return _Slot(process, ours)

    async def parse(self, body: bytes, url: str, *, now: datetime, content_type: str = "",
                    max_entries: int = 200) -> ParsedFeed:
        """Parse feed bytes in a worker; any failure is a ParseError with a reason."""
        return await self.run(_parse_task, (body, url, now, content_type, max_entries))

    async def enrich(self, entries: Sequence[Entry], feed_tags: Sequence[str],
                     aliases: Mapping[str, str]) -> list[NewArticle]:
        """Clean text, summarize and tag new entries in a worker."""
        return await self.run(_enrich_task, (list(entries), tuple(feed_tags), dict(aliases)))

    async def run(self, task: Callable[..., T], args: tuple[Any, ...]) -> T:
        """Run a picklable module-level function in a worker, under the deadline."""
        self.start()
        slot = await self._free.get()
        if slot is None:
            raise WorkerFailure(f"no parser process could start: {self._start_error}")
        try:
            kind, value = await asyncio.wait_for(_exchange(slot.conn, (task, args)),
                                                 self._deadline_s)
        except TimeoutError:
            self._retire(slot)
            raise WorkerFailure(f"parsing took longer than {self._deadline_s:g} s") from None
        except (EOFError, OSError):
            self._retire(slot)
            raise WorkerFailure("the parser process died (too much memory?)") from None
        except asyncio.CancelledError:
            self._retire(slot)  # its pipe may hold half a task or an unread reply
            raise
        self._free.put_nowait(slot)
        if kind != "ok":
            raise ParseError(str(value))
        result: T = value
        return result

    def _retire(self, slot: _Slot) -> None:
        """Kill a worker that overran or died, reap it beside the loop, start another."""
        slot.process.kill()
        self._slots.remove(slot)
        task = asyncio.create_task(asyncio.to_thread(_stop, slot))
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)
        self.start()


async def _exchange(conn: Connection, message: tuple[Callable[..., Any], tuple[Any, ...]]
                    ) -> tuple[str, Any]:
    """Send a task and wait for its reply, never blocking the loop.

    A task of megabytes fills the pipe, and a worker still starting reads nothing for
    seconds: the send happens beside the loop, not on it.
    """
    await asyncio.to_thread(conn.send, message)
    return await _receive(conn)


async def _receive(conn: Connection) -> tuple[str, Any]:
    """Wait without blocking the loop until the worker has answered, then read it."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()
    loop.add_reader(conn.fileno(), lambda: None if ready.done() else ready.set_result(None))
    try:
        await ready
    finally:
        loop.remove_reader(conn.fileno())
    # Unpickling a large feed takes tens of milliseconds: do it beside the loop, not on it.
    reply: tuple[str, Any] = await asyncio.to_thread(conn.recv)
    return reply


def _stop_all(slots: list[_Slot]) -> None:
    for slot in slots:
        _stop(slot)


def _stop(slot: _Slot) -> None:
    with contextlib.suppress(OSError):
        slot.conn.close()
    slot.process.join(2)
    if slot.process.is_alive():
        slot.process.kill()
        slot.process.join(2)


def _parse_task(body: bytes, url: str, now: datetime, content_type: str,
                max_entries: int) -> ParsedFeed:
    from bot.feeds.parse import parse_feed  # the worker's preload has it

    return parse_feed(body, url, now=now, content_type=content_type, max_entries=max_entries)


def _enrich_task(entries: list[Entry], feed_tags: tuple[str, ...],
                 aliases: dict[str, str]) -> list[NewArticle]:
    from bot.enrich.pipeline import enrich_entries  # the worker's preload has it

    return enrich_entries(entries, feed_tags, aliases)
