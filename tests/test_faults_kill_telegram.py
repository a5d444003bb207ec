"""`newsbot run` killed with SIGKILL while a digest is being posted to Telegram, then restarted."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import wait_until
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_server import FakeTelegram
from tests.runs import make_due, newsbot_run

pytestmark = pytest.mark.slow  # starts and kills `newsbot run` against the fake Telegram

LEAD = re.compile(r'<b>\d+\. <a href="([^"]+)">')
STARTUP_S = 60.0
STORIES = 50  # a digest of three messages or more


def _feed(count: int) -> bytes:
    """An RSS feed of `count` stories with long descriptions: a digest of several messages."""
    items = "".join(
        f"<item><title>Big story {i} on events</title><link>https://big.example/{i}</link>"
        f"<description>{f'Sentence {i} of a long report on events. ' * 12}</description></item>"
        for i in range(count))
    return f'<rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'.encode()


def _leads(post: str) -> list[str]:
    """The links of the numbered items of a posted digest message (not their "also" links)."""
    return LEAD.findall(post)


def _query(database: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows of a query on the bot's database; none while it is not created or migrated yet."""
    try:
        with sqlite3.connect(database, timeout=5) as db:
            return db.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []


def _pending(database: Path) -> int:
    """How many digests are not yet fully delivered."""
    rows = _query(database, "SELECT COUNT(*) FROM digests WHERE done IS NULL")
    return int(str(rows[0][0])) if rows else 0


async def test_sigkill_mid_telegram_digest_loses_nothing_repeats_at_most_one_message(
        feed_server: FeedServer, write_config: Callable[[str], Path], tmp_path: Path) -> None:
    """Killed while Telegram holds back the answer to the second message of a digest: after
    a restart every story of the digest reached the chat, and only the stories of the message
    in flight (posted, but never confirmed to the dead bot) were posted twice."""
    feed_server.bodies["big.xml"] = _feed(STORIES)
    database, stderr = tmp_path / "bot.db", tmp_path / "stderr.log"
    async with FakeTelegram() as fake:
        group = fake.add_supergroup("Newsroom")
        channel = f"telegram:{group.id}"
        config = write_config(
            '[bot]\ndatabase = "bot.db"\n[fetch]\nallow_private_addresses = true\n'
            f'timeout = "5s"\n[telegram]\napi_base_url = "{fake.base_url}"\n'
            f'[[feeds]]\nurl = "{feed_server.url("big.xml")}"\n'
            f'[[channels]]\nid = "{channel}"\ndigest = "every 30m"\nmax_items = {STORIES}\n')
        await make_due(database, channel)
        fake.delay_next("sendMessage", 0)  # the first digest message is answered at once
        fake.hold_answer_next("sendMessage")  # the second is posted, its answer held back
        tokens = {"TELEGRAM_TOKEN": fake.token}
        async with newsbot_run(config, stderr, tokens) as first:
            await fake.wait_for(lambda: len(fake.sent_to(group.id)) == 2, STARTUP_S)
            first.kill()
            await first.wait()
        assert _pending(database) == 1
        in_flight = fake.sent_to(group.id)[1].raw_text
        async with newsbot_run(config, stderr, tokens):
            await wait_until(lambda: _pending(database) == 0, STARTUP_S)
        posts = [m.raw_text for m in fake.sent_to(group.id)]

    urls = [str(url) for (url,) in _query(
        database, "SELECT a.url FROM deliveries d JOIN articles a ON a.id = d.article_id "
                  "WHERE d.sent IS NOT NULL AND d.lead = 1")]
    assert len(urls) == STORIES
    assert len(posts) >= 4  # two before the kill; after it, the repeat and the rest
    shown = Counter(url for post in posts for url in _leads(post))
    assert set(shown) == set(urls), "every story of the digest reached the chat"
    repeated = {url for url, n in shown.items() if n > 1}
    assert repeated == set(_leads(in_flight)), "only the message in flight is repeated"
    assert max(shown.values()) == 2
    assert _query(database, "PRAGMA integrity_check") == [("ok",)]
