"""Pruning: old stories are deleted daily, yet a pruned story is never stored (or posted) again."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Core, open_core
from bot.config import load_config
from bot.monitor import Monitor
from bot.store.store import Location
from tests.conftest import FIXTURES
from tests.fakes.feed_server import FeedServer
from tests.postgres import database_setting

pytestmark = pytest.mark.slow  # every test polls feeds through parser worker processes

DAY = timedelta(days=1)


@pytest.fixture
async def core(write_config: Callable[[str], Path], feed_server: FeedServer,
               database: Location) -> AsyncIterator[Core]:
    """The real core (on each engine) with one loopback feed polled once."""
    path = write_config(database_setting(database)
                        + f'[fetch]\nallow_private_addresses = true\n[[feeds]]\n'
                        f'url = "{feed_server.url("world_news.xml")}"\n'
                        '[[channels]]\nid = "console"\n')
    async with open_core(load_config(path, environ={})) as core:
        await core.poller.poll_due()
        yield core


def monitor_at(core: Core, moment: datetime) -> Monitor:
    """A Monitor whose clock stands at `moment`, with 90 days of retention."""
    return Monitor(core.store, core.poller, core.digests, core.metrics, lambda: moment,
                   timedelta(days=90))


async def test_prune_keeps_recent_stories(core: Core) -> None:
    """Nothing younger than the retention is deleted."""
    stored = await core.store.articles.count()
    await monitor_at(core, datetime.now(UTC) + 89 * DAY).prune()
    assert stored > 0 and await core.store.articles.count() == stored


async def test_pruned_story_is_not_stored_again(core: Core, feed_server: FeedServer) -> None:
    """After pruning, the feed still listing the same entries adds nothing."""
    await monitor_at(core, datetime.now(UTC) + 91 * DAY).prune()
    assert await core.store.articles.count() == 0
    feed_server.bodies["world_news.xml"] = (FIXTURES / "world_news.xml").read_bytes() + b"\n"
    [outcome] = await core.poller.poll_feeds(await core.store.feeds.active_feeds())
    assert outcome.error == "" and outcome.new == 0
    assert await core.store.articles.count() == 0


async def test_keys_are_forgotten_after_twice_the_retention(core: Core) -> None:
    """The dedup memory of a pruned story goes after two retention periods."""
    feed = (await core.store.feeds.active_feeds())[0]
    keys = [row[0] for row in await core.store.db.fetchall("SELECT dedup_key FROM articles")]
    await monitor_at(core, datetime.now(UTC) + 91 * DAY).prune()
    assert await core.store.articles.known_keys(feed.id, keys) == set(keys)
    await monitor_at(core, datetime.now(UTC) + 181 * DAY).prune()
    assert await core.store.articles.known_keys(feed.id, keys) == set()
