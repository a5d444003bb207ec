"""Steady-state poll: N feeds on a loopback server, 90% unchanged, 10% with new items.

Baseline in the same run: the naive poller (unconditional GET, stock feedparser on every body).
Usage: uv run python benchmarks/poll.py [--corpus DIR] [--feeds 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: tests.fakes

from bot.__main__ import limit_math_threads

limit_math_threads()  # as the CLI does, before numpy loads

from benchmarks.common import (
    LoopLag,
    LoopSteps,
    ServedFeeds,
    add_corpus_argument,
    cpu_seconds,
    load_corpus,
    peak_rss_mb,
    percentile,
    table,
    worker_peak_rss_mb,
)
from bot.enrich.stories import Stories
from bot.feeds.fetch import Fetcher, FetchLimits
from bot.feeds.guard import allow_any_address
from bot.feeds.poll import FeedOutcome, Poller, PollSettings
from bot.feeds.worker import ParseWorker
from bot.model import FeedSpec
from bot.store.store import open_store

NEW_ITEMS = 3


def with_new_items(body: bytes, round_no: int, feed_no: int) -> bytes:
    """The same feed with a few new items on top (RSS items or Atom entries)."""
    items = "".join(
        f"<item><title>Fresh story {round_no}-{feed_no}-{i} about harbour cranes</title>"
        f"<link>https://fresh.example/{round_no}/{feed_no}/{i}</link>"
        f"<description>Cranes number {i} moved in round {round_no}.</description></item>"
        for i in range(NEW_ITEMS)).encode()
    if b"<item" in body:
        index = body.index(b"<item")
        return body[:index] + items + body[index:]
    entries = items.replace(b"<item>", b"<entry>").replace(b"</item>", b"</entry>")
    entries = entries.replace(b"<description>", b"<summary>").replace(
        b"</description>", b"</summary>")
    index = body.find(b"<entry")
    return body if index < 0 else body[:index] + entries + body[index:]


def serve(server: ServedFeeds, files: list[tuple[str, bytes]], count: int,
          ) -> dict[str, bytes]:
    """Serve `count` feeds cycling through the corpus, half of them without validators;
    returns their bodies by name."""
    bodies = {f"f{i}.xml": files[i % len(files)][1] for i in range(count)}
    server.update(bodies, {f"f{i}.xml" for i in range(1, count, 2)})
    return bodies


async def naive_round(urls: list[str]) -> tuple[float, float, float]:
    """(wall s, CPU s, worst loop lag ms): GET every URL, stock feedparser on every body."""
    cpu, wall = cpu_seconds(), time.perf_counter()
    async with aiohttp.ClientSession() as session, LoopLag() as lag:
        gate = asyncio.Semaphore(16)

        async def one(url: str) -> None:
            async with gate, session.get(url) as resp:
                body = await resp.read()
            feedparser.parse(body)

        await asyncio.gather(*(one(u) for u in urls))
    return time.perf_counter() - wall, cpu_seconds() - cpu, lag.worst_ms


async def run(corpus: Path, count: int) -> None:
    files = [(n, b) for n, b in load_corpus(corpus) if not n.endswith(".json")]
    with ServedFeeds(corpus) as server, tempfile.TemporaryDirectory() as folder:
        bodies = serve(server, files, count)
        names = list(bodies)
        urls = [server.url(n) for n in names]
        async with open_store(Path(folder) / "bench.db") as store, \
                Fetcher(FetchLimits(timeout_s=30), allow_any_address) as fetcher, \
                ParseWorker(processes=os.cpu_count() or 1, deadline_s=120) as worker:
            now = datetime.now(UTC)
            poller = Poller(store, fetcher, worker, Stories(store.articles, lambda: now),
                            lambda: now, PollSettings())
            await store.feeds.sync_config_feeds([FeedSpec(url=u) for u in urls])
            feeds = await store.feeds.active_feeds()
            gc.freeze()  # as open_pipeline does once the parts are built
            cpu, wall = cpu_seconds(), time.perf_counter()
            with LoopSteps() as steps:
                async with LoopLag() as lag:
                    first = await poller.poll_feeds(feeds)
            first_wall, first_cpu = time.perf_counter() - wall, cpu_seconds() - cpu
            stored = sum(o.new for o in first)
            changed = {names[i] for i in range(0, count, 10)}
            server.update({name: with_new_items(bodies[name], 1, i)
                           for i, name in enumerate(names) if name in changed})
            feeds = await store.feeds.active_feeds()
            unchanged_feeds = [f for f in feeds if f.url.rsplit("/", 1)[1] not in changed]
            changed_feeds = [f for f in feeds if f.url.rsplit("/", 1)[1] in changed]
            cpu, wall = cpu_seconds(), time.perf_counter()
            quiet = await poller.poll_feeds(unchanged_feeds)
            quiet_wall, quiet_cpu = time.perf_counter() - wall, cpu_seconds() - cpu
            cpu, wall = cpu_seconds(), time.perf_counter()
            busy = await poller.poll_feeds(changed_feeds)
            busy_wall, busy_cpu = time.perf_counter() - wall, cpu_seconds() - cpu
            worker_mb = worker_peak_rss_mb()
        naive_wall, naive_cpu, naive_lag = await naive_round(urls)
    report(count, stored, first_wall, first_cpu, lag, steps, quiet, quiet_wall, quiet_cpu, busy,
           busy_wall, busy_cpu, naive_wall, naive_cpu, naive_lag, worker_mb)


def report(count: int, stored: int, first_wall: float, first_cpu: float, lag: LoopLag,
           steps: LoopSteps,
           quiet: list[FeedOutcome], quiet_wall: float, quiet_cpu: float,
           busy: list[FeedOutcome], busy_wall: float, busy_cpu: float, naive_wall: float,
           naive_cpu: float, naive_lag: float, worker_mb: float) -> None:
    new = sum(o.new for o in busy)
    naive_per_feed = naive_cpu / count * 1000
    unchanged_ms = quiet_cpu / len(quiet) * 1000
    steady_wall = quiet_wall + busy_wall
    print(f"{count} feeds; first poll stored {stored} stories in {first_wall:.1f} s "
          f"({first_cpu:.1f} CPU s, {stored / first_wall:.0f} stories/s wall); "
          f"worst event-loop lag meanwhile {lag.worst_ms:.1f} ms")
    print(f"  loop lag (a 5 ms timer, {len(lag.samples)} samples): 99th percentile "
          f"{percentile(lag.samples, 0.99):.1f} ms, 99.9th {percentile(lag.samples, 0.999):.1f}"
          f" ms, {sum(1 for s in lag.samples if s > 25)} over 25 ms; the longest loop step's "
          f"own CPU {steps.longest_ms:.1f} ms, the longest garbage collection "
          f"{steps.longest_gc_ms:.1f} ms")
    table("Steady-state round (90% unchanged, 10% with new items)",
          ("figure", "newsbot", "naive baseline", "ratio"), [
              ("wall time, whole round (s)", steady_wall, naive_wall, steady_wall / naive_wall),
              ("worst loop lag, first poll vs naive round (ms)", lag.worst_ms, naive_lag,
               lag.worst_ms / naive_lag if naive_lag else 0.0),
              ("CPU ms per unchanged feed", unchanged_ms, naive_per_feed,
               unchanged_ms / naive_per_feed),
              ("unchanged feeds parsed", sum(1 for o in quiet if not (o.not_modified or o.error)),
               count, 0.0),
              ("CPU ms per new article", busy_cpu / max(new, 1) * 1000, naive_per_feed,
               busy_cpu / max(new, 1) * 1000 / naive_per_feed),
              ("new articles stored", new, len(busy) * NEW_ITEMS, 1.0),
              ("peak memory, main process (MB)", peak_rss_mb(), 0.0, 0.0),
              ("peak memory, parse worker (MB)", worker_mb, 0.0, 0.0),
          ])


def main() -> None:
    """Parse arguments and run."""
    args = argparse.ArgumentParser(description=__doc__)
    add_corpus_argument(args)
    args.add_argument("--feeds", type=int, default=1000)
    options = args.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the corpus's broken feeds would log each poll
    asyncio.run(run(options.corpus, options.feeds))


if __name__ == "__main__":
    main()
