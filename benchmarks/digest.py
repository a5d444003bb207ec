"""Digests for many channels: compose (filter, group, rank, related links) and render.

Baseline in the same run: composing the same candidates with no filter and no related links.
Usage: uv run python benchmarks/digest.py [--corpus DIR] [--channels 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script

from benchmarks.common import add_corpus_argument, load_corpus, table
from benchmarks.ingest import parsed, store_all
from bot.chat.discord.render import render_discord
from bot.chat.telegram.render import render_telegram
from bot.digest.channels import ChannelBook
from bot.digest.compose import compose_digest
from bot.digest.service import DigestService, subscribed_feed_ids
from bot.enrich.stories import Stories
from bot.model import Channel
from bot.store.store import open_store

NOW = datetime.now(UTC)
FILTERS = (
    "", "tag:world", 'not title:"opinion"', "/japan|korea|china/ or tag:asia",
    "(tag:technology or tag:science) and not feed:reddit", "text:election or text:vote",
    "lang:en and not /sponsored|advert/", 'title:"climate change" or tag:climate',
)


async def run(corpus: Path, count: int) -> None:
    feeds = parsed(load_corpus(corpus))
    with tempfile.TemporaryDirectory() as folder:
        await store_all(feeds, Path(folder))
        async with open_store(Path(folder) / "bench.db") as store:
            channels = [Channel(id=f"discord:{i}", filter=FILTERS[i % len(FILTERS)],
                                max_items=10) for i in range(count)]
            service = DigestService(store, Stories(store.articles, lambda: NOW),
                                    ChannelBook(store.channels, channels, "UTC"), lambda: NOW)
            active = await store.feeds.active_feeds()
            start = time.perf_counter()
            for channel in channels:
                candidates = await store.articles.undelivered(
                    channel.id, subscribed_feed_ids(channel, active), since=None, limit=500)
                compose_digest(channel, candidates, now=NOW, title="t", flt=None, first=False)
            baseline = time.perf_counter() - start
            start = time.perf_counter()
            digests = [await service.compose(channel, NOW) for channel in channels]
            composed = time.perf_counter() - start
            start = time.perf_counter()
            for digest in digests:
                render_discord(digest)
                render_telegram(digest)
            rendered = time.perf_counter() - start
    items = sum(len(d.items) for d in digests)
    table(f"{count} channels, {len(FILTERS)} kinds of filter, {items} digest items (s)",
          ("step", "seconds", "x baseline"), [
              ("baseline: select + group + rank, no filter", baseline, 1.0),
              ("compose: + filter + related links", composed, composed / baseline),
              ("render for Discord and Telegram", rendered, rendered / baseline),
              ("compose + render", composed + rendered, (composed + rendered) / baseline),
          ])


def main() -> None:
    """Parse arguments and run."""
    args = argparse.ArgumentParser(description=__doc__)
    add_corpus_argument(args)
    args.add_argument("--channels", type=int, default=1000)
    options = args.parse_args()
    asyncio.run(run(options.corpus, options.channels))


if __name__ == "__main__":
    main()
