"""A published channel's pages and feeds served per second, against a static file.

The database holds --stories generated stories (100,000 by default, written through the store)
and --digests digests of 10 of them for the console channel, which is published. Each page and
feed is fetched over loopback HTTP; the baseline, measured in the same run, is a static file
of the same size served by the same aiohttp server (aiohttp's file sender, from the page cache).
Client and server share one event loop and the machine's cores, for both alike.
Usage: uv run python benchmarks/web.py [--stories 100000] [--requests 400]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script

import aiohttp
from aiohttp import web

from benchmarks.common import table
from bot.app import Core, open_core
from bot.chat.request import Caller
from bot.config import load_config
from bot.model import Digest, DigestItem, NewArticle
from bot.web.links import Links
from bot.web.reader import Reader
from bot.web.server import Site

NOW = datetime.now(UTC)
FEEDS = 20
WORDS = ("election", "tariff", "flood", "storm", "court", "bank", "market", "vote", "climate",
         "rail", "strike", "budget", "health", "school", "energy", "chip", "border", "ceasefire",
         "summit", "drought", "rate", "museum", "football", "launch", "river", "trial", "ferry",
         "harvest", "wildfire")
CONCURRENCY = 8
ROUNDS = 3


def config_text(port: int) -> str:
    """The console channel following FEEDS feeds, the web server on `port`."""
    feeds = "".join(f'[[feeds]]\nurl = "http://127.0.0.1:9/{i}.xml"\nname = "Feed {i}"\n'
                    for i in range(FEEDS))
    return (f'[bot]\ndatabase = "bench.db"\n[web]\nlisten = "127.0.0.1:{port}"\n{feeds}'
            '[[channels]]\nid = "console"\n')


def story(rng: random.Random, number: int) -> NewArticle:
    """A generated story: a headline and summary of common news words, three tags."""
    title = " ".join(rng.choices(WORDS, k=8)).capitalize()
    summary = ". ".join(" ".join(rng.choices(WORDS, k=12)).capitalize() for _ in range(2)) + "."
    return NewArticle(dedup_key=f"g{number}", url=f"https://example.org/s/{number}", title=title,
                      summary=summary, tags=tuple(w.capitalize() for w in rng.sample(WORDS, 3)),
                      lang="en", published=NOW - timedelta(minutes=number))


async def generate(core: Core, stories: int, digests: int) -> None:
    """Store the stories (feeds in turn) and the console's digests of the newest of them."""
    rng = random.Random(7)
    feed_ids = [f.id for f in await core.store.feeds.active_feeds()]
    batch = 2000
    for start in range(0, stories, batch):
        rows = [story(rng, n) for n in range(start, min(stories, start + batch))]
        for index, feed_id in enumerate(feed_ids):
            await core.store.articles.add_articles(feed_id, rows[index::len(feed_ids)], NOW)
    newest = await core.store.articles.latest(limit=digests * 10)
    await core.store.channels.ensure("console", NOW)
    for number in range(digests):
        chunk = newest[number * 10:(number + 1) * 10][::-1]
        moment = NOW - timedelta(hours=digests - number)
        await core.store.deliveries.enqueue(Digest(
            "console", f"Digest {number}", moment, tuple(DigestItem(a) for a in chunk)), moment)


async def rate(http: aiohttp.ClientSession, url: str, count: int) -> float:
    """Requests per second for `count` GETs of `url`, CONCURRENCY at a time."""
    todo = iter(range(count))

    async def client() -> None:
        for _ in todo:
            async with http.get(url) as response:
                assert response.status == 200, (url, response.status)
                await response.read()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    return count / (time.perf_counter() - start)


async def run(stories: int, digests: int, requests: int) -> None:
    with tempfile.TemporaryDirectory() as temporary, \
            socket.create_server(("127.0.0.1", 0)) as sock:
        folder = Path(temporary)
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        (folder / "config.toml").write_text(config_text(sock.getsockname()[1]))
        async with open_core(load_config(folder / "config.toml", environ={})) as core:
            started = time.perf_counter()
            await generate(core, stories, digests)
            print(f"generated {stories} stories and {digests} digests in "
                  f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
            moderator = Caller("console", "bench", is_moderator=True)
            reply = await core.commands.handle(moderator, "/publish on")
            link = reply.text.split(": ", 1)[1].split(" ", 1)[0]
            site = Site(Reader(core.store, core.digests, core.stories), Links(base),
                        core.clock, searches_per_minute=10**9)
            app = site.application()
            static = folder / "static"
            static.mkdir()
            app.router.add_static("/static/", static)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.SockSite(runner, sock).start()
            try:
                await measure(link, base, static, requests, digests)
            finally:
                await runner.cleanup()


async def measure(link: str, base: str, static: Path, requests: int, digests: int) -> None:
    """Each page and feed against a static file of its size, interleaved, median of rounds."""
    async with aiohttp.ClientSession() as http:
        async with http.get(link) as response:
            page = await response.text()
        digest_id = page.split("/d/", 1)[1].split('"', 1)[0]
        story_id = page.split("/s/", 1)[1].split('"', 1)[0]
        targets = {"channel page (latest digest)": link,
                   "a past digest": f"{link}d/{int(digest_id) - digests // 2}",
                   "story page (related stories)": f"{link}s/{story_id}",
                   "search (2 words)": f"{link}search?q=flood+market",
                   "Atom feed (20 digests)": f"{link}feed.atom",
                   "JSON Feed (20 digests)": f"{link}feed.json"}
        rows: list[tuple[object, ...]] = []
        for name, url in targets.items():
            async with http.get(url) as response:
                assert response.status == 200, (url, response.status)
                size = len(await response.read())
            (static / f"{size}.bin").write_bytes(b"x" * size)
            plain = f"{base}/static/{size}.bin"
            ours, files = [], []
            for _ in range(ROUNDS):
                files.append(await rate(http, plain, requests))
                ours.append(await rate(http, url, requests))
            served, baseline = statistics.median(ours), statistics.median(files)
            rows.append((name, size, served, baseline, served / baseline))
    table(f"pages and feeds over loopback, {CONCURRENCY} clients, median of {ROUNDS} rounds "
          f"of {requests} requests (requests/s)",
          ("what", "bytes", "served/s", "static file/s", "x static"), rows)


def main() -> None:
    """Parse arguments and run."""
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--stories", type=int, default=100_000)
    args.add_argument("--digests", type=int, default=1000)
    args.add_argument("--requests", type=int, default=400)
    options = args.parse_args()
    asyncio.run(run(options.stories, options.digests, options.requests))


if __name__ == "__main__":
    main()
