"""CPU-heavy parsing and enrichment in worker processes, with a memory cap and a deadline."""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from multiprocessing.pool import Pool
from types import TracebackType
from typing import Any, TypeVar

from bot.enrich.pipeline import enrich_entries
from bot.feeds.parse import ParseError, parse_feed
from bot.model import Entry, NewArticle, ParsedFeed

T = TypeVar("T")


def _limit_memory(megabytes: int) -> None:
    """Runs in each worker: a feed that explodes in memory kills only its worker."""
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


class ParseWorker:
    """A pool of worker processes; the event loop never runs feedparser itself.

    A task past its deadline, or a worker that dies, costs that feed one parse failure:
    the pool is replaced and the bot goes on.
    """

    def __init__(self, processes: int = 1, memory_mb: int = 1024,
                 deadline_s: float = 60.0) -> None:
        self._processes = processes
        self._memory_mb = memory_mb
        self._deadline_s = deadline_s
        self._pool: Pool | None = None

    async def __aenter__(self) -> ParseWorker:
        self._pool = self._new_pool()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()

    def _new_pool(self) -> Pool:
        context = multiprocessing.get_context("forkserver")
        return context.Pool(self._processes, initializer=_limit_memory,
                            initargs=(self._memory_mb,), maxtasksperchild=500)

    async def parse(self, body: bytes, url: str, *, now: datetime, content_type: str = "",
                    max_entries: int = 200) -> ParsedFeed:
        """Parse feed bytes in a worker; any failure is a ParseError with a reason."""
        return await self._run(_parse_task, (body, url, now, content_type, max_entries))

    async def enrich(self, entries: Sequence[Entry], feed_tags: Sequence[str],
                     aliases: Mapping[str, str]) -> list[NewArticle]:
        """Clean text, summarize and tag new entries in a worker."""
        return await self._run(enrich_entries, (list(entries), tuple(feed_tags), dict(aliases)))

    async def _run(self, task: Callable[..., T], args: tuple[Any, ...]) -> T:
        assert self._pool is not None, "use the ParseWorker as an async context manager"
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def settle(outcome: Callable[[], None]) -> None:
            loop.call_soon_threadsafe(lambda: None if future.done() else outcome())

        self._pool.apply_async(
            task, args,
            callback=lambda value: settle(lambda: future.set_result(value)),
            error_callback=lambda error: settle(lambda: future.set_exception(error)))
        try:
            return await asyncio.wait_for(future, self._deadline_s)
        except TimeoutError:
            self._replace_pool()
            raise ParseError(f"parsing took longer than {self._deadline_s:g} s") from None
        except MemoryError:
            raise ParseError("parsing needed more memory than allowed") from None
        except ParseError:
            raise
        except Exception as error:  # anything a parser raises is that feed's failure
            raise ParseError(f"parser error: {type(error).__name__}: {error}") from None

    def _replace_pool(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
        self._pool = self._new_pool()


def _parse_task(body: bytes, url: str, now: datetime, content_type: str,
                max_entries: int) -> ParsedFeed:
    return parse_feed(body, url, now=now, content_type=content_type, max_entries=max_entries)
