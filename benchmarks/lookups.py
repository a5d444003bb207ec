"""Lookups at scale: `search` and `related` on a database of N articles (default 1,000,000).

Articles are generated from corpus text with dates spread over a year. Baseline in the same
run: the bare FTS5 AND query of the same words. Also the database size per million articles
and the peak memory of `newsbot run` on that database.
Usage: uv run python benchmarks/lookups.py [--corpus DIR] [--articles 1000000] [--db PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script

from benchmarks.common import add_corpus_argument, load_corpus, percentile, table
from bot.enrich.stories import Stories
from bot.feeds.parse import ParseError, parse_feed
from bot.store.articles import match_all_words
from bot.store.sqlite.engine import fts5_query
from bot.store.store import open_store

NOW = datetime(2026, 11, 25, tzinfo=UTC)
QUERIES = 300
FEEDS = 500


def corpus_stories(corpus: Path) -> list[tuple[str, str]]:
    """(title, text) of every corpus entry with a title."""
    found = []
    for name, body in load_corpus(corpus):
        try:
            feed = parse_feed(body, f"https://bench.example/{name}", now=NOW)
        except ParseError:
            continue
        found += [(e.title, e.content_html[:400]) for e in feed.entries if e.title]
    return found


def generate(path: Path, stories: list[tuple[str, str]], count: int) -> None:
    """Fill the (already migrated) database with `count` articles made of corpus text."""
    rng = random.Random(7)
    words = [w for title, _ in stories for w in title.split() if w.isalpha()]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executemany("INSERT INTO feeds (url, name) VALUES (?, ?)",
                     [(f"https://bench.example/{i}", f"Feed {i}") for i in range(FEEDS)])
    start = NOW - timedelta(days=365)
    batch = []
    for i in range(count):
        title, text = stories[i % len(stories)]
        extra = " ".join(rng.choice(words) for _ in range(3))
        seen = start + timedelta(seconds=i * 365 * 86400 / count)
        batch.append((1 + i % FEEDS, f"k{i}", f"https://bench.example/a/{i}", f"{title} {extra}",
                      text[:300], "World Politics" if i % 3 else "Technology",
                      seen.timestamp(), seen.timestamp()))
        if len(batch) == 20_000:
            _insert(conn, batch)
            batch = []
            print(f"\r{i + 1} articles", end="", file=sys.stderr, flush=True)
    _insert(conn, batch)
    conn.close()
    print(file=sys.stderr)


def _insert(conn: sqlite3.Connection, rows: Sequence[tuple[object, ...]]) -> None:
    conn.executemany(
        "INSERT INTO articles (feed_id, dedup_key, url, title, summary, tags, published, "
        "first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.commit()


def query_words(stories: list[tuple[str, str]], rng: random.Random) -> list[str]:
    """3-5 words from real titles, as people search."""
    queries: list[str] = []
    while len(queries) < QUERIES:
        title = rng.choice(stories)[0]
        words = [w for w in title.split() if w.isalpha() and len(w) > 3]
        if len(words) >= 3:
            queries.append(" ".join(words[:rng.randint(3, min(5, len(words)))]))
    return queries


async def measure(path: Path, queries: list[str], count: int) -> dict[str, list[float]]:
    """Milliseconds per query for the baseline, search and related."""
    timings: dict[str, list[float]] = {"baseline": [], "search": [], "related": []}
    rng = random.Random(11)
    async with open_store(path) as store:
        stories = Stories(store.articles, lambda: NOW)
        for words in queries:
            query = match_all_words(words)
            start = time.perf_counter()
            await store.db.fetchall(
                "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? "
                "ORDER BY rank LIMIT 10", (fts5_query(query),))
            timings["baseline"].append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            await store.articles.search(words, limit=10)
            timings["search"].append((time.perf_counter() - start) * 1000)
        for _ in range(QUERIES):
            [article] = await store.articles.by_ids([rng.randint(count // 2, count)])
            start = time.perf_counter()
            await stories.related_to(article)
            timings["related"].append((time.perf_counter() - start) * 1000)
    return timings


def run_memory(path: Path) -> float:
    """Peak resident memory (MB) of `newsbot run` on this database over a few seconds."""
    config = path.parent / "bench.toml"
    config.write_text(f'[bot]\ndatabase = "{path.name}"\n[[channels]]\nid = "console"\n')
    proc = subprocess.Popen([sys.executable, "-m", "bot", "-c", str(config), "run"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    time.sleep(8)
    peak = 0.0
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    return peak


def main() -> None:
    """Build (or reuse) the database, then time the lookups."""
    args = argparse.ArgumentParser(description=__doc__)
    add_corpus_argument(args)
    args.add_argument("--articles", type=int, default=1_000_000)
    args.add_argument("--db", type=Path, help="reuse or keep the generated database here")
    options = args.parse_args()
    stories = corpus_stories(options.corpus)
    with tempfile.TemporaryDirectory() as folder:
        path = options.db or Path(folder) / "lookups.db"
        if not path.exists():
            asyncio.run(_create(path))
            started = time.perf_counter()
            generate(path, stories, options.articles)
            print(f"generated {options.articles} articles in "
                  f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
        timings = asyncio.run(measure(path, query_words(stories, random.Random(3)),
                                      options.articles))
        size_mb = sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20
        memory = run_memory(path)
    base = percentile(timings["baseline"], 0.95)
    rows: list[tuple[object, ...]] = []
    for name in ("baseline", "search", "related"):
        p50, p95, p99 = (percentile(timings[name], q) for q in (0.5, 0.95, 0.99))
        rows.append((name, p50, p95, p99, p95 / base))
    table(f"{options.articles} articles, {QUERIES} queries each (ms)",
          ("lookup", "p50", "p95", "p99", "p95 / baseline p95"), rows)
    print(f"\ndatabase: {size_mb:.0f} MB ({size_mb * 1_000_000 / options.articles:.0f} MB per "
          f"million articles); peak memory of `newsbot run` on it: {memory:.0f} MB")


async def _create(path: Path) -> None:
    async with open_store(path):
        pass


if __name__ == "__main__":
    main()
