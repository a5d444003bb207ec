"""Ingest benchmark: corpus bytes -> stored, deduplicated, indexed, enriched articles.

Every figure is compared with stock `feedparser.parse` on the same bytes, in the same run.
Usage: uv run python benchmarks/ingest.py [--corpus DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script

from bot.__main__ import limit_math_threads

limit_math_threads()  # as the CLI does, before numpy loads (a spinning BLAS thread costs CPU)

from benchmarks.common import add_corpus_argument, load_corpus, peak_rss_mb
from bot.enrich.pipeline import enrich_entries
from bot.enrich.stories import Stories
from bot.feeds.parse import ParseError, parse_feed
from bot.model import FeedSpec, ParsedFeed
from bot.store.store import open_store

NOW = datetime.now(UTC)


def timed(work: Callable[[], int]) -> tuple[int, float]:
    """(entries handled, CPU seconds of this process)."""
    start = time.process_time()
    count = work()
    return count, time.process_time() - start


def stock(files: list[tuple[str, bytes]]) -> int:
    """The baseline: stock feedparser on bytes."""
    return sum(len(feedparser.parse(body).entries) for _, body in files)


def parsed(files: list[tuple[str, bytes]]) -> list[ParsedFeed]:
    """newsbot's parse of every file that is a feed."""
    feeds = []
    for name, body in files:
        with contextlib.suppress(ParseError):  # the corpus holds a few broken files on purpose
            feeds.append(parse_feed(body, f"https://bench.example/{name}", now=NOW))
    return feeds


async def store_all(feeds: list[ParsedFeed], folder: Path) -> int:
    """Enrich and store every entry, clustering as the poller does; returns entries stored."""
    stored = 0
    async with open_store(folder / "bench.db") as store:
        stories = Stories(store.articles, lambda: NOW)
        specs = [FeedSpec(url=f"https://bench.example/{i}") for i in range(len(feeds))]
        await store.feeds.sync_config_feeds(specs)
        ids = [f.id for f in await store.feeds.active_feeds()]
        for feed_id, feed in zip(ids, feeds, strict=True):
            articles = enrich_entries(feed.entries, (), {})
            stored += await store.articles.add_articles(feed_id, articles, NOW)
            new = await store.articles.by_keys(feed_id, [a.dedup_key for a in articles])
            await stories.assign(new)
    return stored


def main() -> None:
    """Run each stage on the corpus and print a table with ratios to the baseline."""
    args = argparse.ArgumentParser(description=__doc__)
    add_corpus_argument(args)
    options = args.parse_args()
    files = load_corpus(options.corpus)
    base_n, base_s = timed(lambda: stock(files))
    feeds: list[ParsedFeed] = []

    def parse_stage() -> int:
        feeds.extend(parsed(files))
        return sum(len(f.entries) for f in feeds)

    parse_n, parse_s = timed(parse_stage)
    enrich_n, enrich_s = timed(lambda: sum(len(enrich_entries(f.entries, (), {})) for f in feeds))
    with tempfile.TemporaryDirectory() as folder:
        store_n, store_s = timed(lambda: asyncio.run(store_all(feeds, Path(folder))))
    rows = [("stock feedparser.parse (baseline)", base_n, base_s),
            ("newsbot parse", parse_n, parse_s),
            ("enrich (text, summary, tags)", enrich_n, enrich_s),
            ("enrich + store + cluster", store_n, store_s),
            ("ingest end to end (parse + enrich + store)", store_n, parse_s + store_s)]
    base_rate = base_n / base_s
    print(f"corpus: {len(files)} files, {options.corpus}")
    print(f"{'stage':45} {'entries':>8} {'cpu s':>8} {'entries/s':>10} {'x baseline':>10}")
    for name, count, seconds in rows:
        rate = count / seconds if seconds else float("inf")
        print(f"{name:45} {count:8d} {seconds:8.2f} {rate:10.0f} {rate / base_rate:10.2f}")
    per_article_ms = (enrich_s / enrich_n) * 1000 if enrich_n else 0.0
    print(f"enrichment per article: {per_article_ms:.2f} ms; ingest with enrichment / without: "
          f"{(parse_s + store_s) / (parse_s + store_s - enrich_s):.2f}x the time")
    print(f"peak memory (one process, every stage): {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
