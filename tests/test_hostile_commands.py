"""Moderator commands against hostile use: caps per channel, feeds that redirect inward."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import Core, open_core
from bot.chat.moderation import Moderation
from bot.chat.request import Caller, UserError
from bot.config import load_config
from bot.feeds.fetch import Fetcher, FetchLimits
from tests.fakes.feed_server import FeedServer, Script
from tests.fakes.raw_http import RawServer, response
from tests.test_hostile_fetch import NAMES, NamesResolver, internet_or_public

MODERATOR = Caller(channel_id="discord:1", user_id="discord:8", is_moderator=True)


@pytest.fixture
async def core(write_config: Callable[[str], Path]) -> AsyncIterator[Core]:
    """The real core on a fresh database, private addresses allowed, at most 2 chat feeds."""
    path = write_config('[fetch]\nallow_private_addresses = true\nmax_feeds_per_channel = 2\n'
                        '[[channels]]\nid = "discord:1"\n')
    async with open_core(load_config(path, environ={})) as core:
        yield core


@pytest.mark.slow
async def test_feeds_added_from_chat_are_capped_per_channel(core: Core,
                                                            feed_server: FeedServer) -> None:
    """The channel's third feed is refused with a reply saying why and what to do."""
    replies = [await core.commands.handle(MODERATOR, f"/feed add {feed_server.url(name)}")
               for name in ("world_news.xml", "atom.xml", "tech_news.atom")]
    assert [r.text.startswith("Added") for r in replies] == [True, True, False]
    assert replies[2].text == ("This channel has added 2 feeds, the most allowed; remove one "
                               "with /feed remove <feed> first.")
    assert len(await core.store.feeds.active_feeds()) == 2


async def test_feed_add_of_a_feed_redirecting_inward_is_refused(core: Core,
                                                                feed_server: FeedServer) -> None:
    """/feed add of a public URL that redirects to a private address says so in a sentence,
    adds nothing, and the private server never sees a request."""
    async with RawServer([(0, response(b"secret"))], host="127.0.0.2") as canary, \
            Fetcher(FetchLimits(timeout_s=3), internet_or_public,
                    NamesResolver(NAMES)) as fetcher:
        feed_server.script("hop.xml", Script(status=302, headers={
            "Location": canary.url(host="canary.test")}))
        moderation = Moderation(core.store, core.digests, core.poller, internet_or_public,
                                lambda: datetime.now(UTC), 900, fetcher)
        with pytest.raises(UserError) as refusal:
            await moderation.feed(MODERATOR, f"add {feed_server.url('hop.xml')}")
    assert str(refusal.value) == (
        "Can't add that feed: canary.test resolves only to private or reserved addresses; the "
        "bot's operator can allow those with [fetch] allow_private_addresses = true.")
    assert canary.connections == 0
    assert await core.store.feeds.active_feeds() == []
