"""The store on both engines (the `database` fixture: SQLite, then PostgreSQL): migrations,
dedup, full-text search, the outbox."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from bot.enrich.stories import any_two
from bot.model import Channel, Digest, DigestItem, FeedSpec, NewArticle, UnchangedPoll
from bot.store.db import DatabaseError, StoreError, migrations
from bot.store.postgres.url import PostgresUrl
from bot.store.store import Location, Store, open_store

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _article(key: str, title: str, summary: str = "", tags: tuple[str, ...] = ()) -> NewArticle:
    return NewArticle(dedup_key=key, url=f"https://example.org/{key}", title=title,
                      summary=summary, tags=tags, published=NOW - timedelta(hours=1))




async def test_migrations_run_from_empty(tmp_path: Path) -> None:
    """A new file gets every migration and the newest user_version, with WAL on."""
    async with open_store(tmp_path / "news.db") as store:
        row = await store.db.fetchone("PRAGMA user_version")
        mode = await store.db.fetchone("PRAGMA journal_mode")
    assert row is not None and row[0] == migrations()[-1][0]
    assert mode is not None and mode[0] == "wal"


async def test_postgres_migrations_run_from_empty(postgres_database: PostgresUrl) -> None:
    """A new PostgreSQL database gets every migration, recorded in schema_version; opening
    it again applies nothing twice."""
    for _ in range(2):
        async with open_store(postgres_database) as store:
            rows = await store.db.fetchall("SELECT version FROM schema_version ORDER BY 1")
    assert [row[0] for row in rows] == [n for n, _ in migrations("postgresql")]


def test_every_migration_has_a_postgres_twin() -> None:
    """The PostgreSQL migrations are numbered one-to-one with SQLite's."""
    assert [n for n, _ in migrations("postgresql")] == [n for n, _ in migrations("sqlite")]


async def test_postgres_database_from_the_future_is_refused(
        postgres_database: PostgresUrl) -> None:
    """A PostgreSQL database migrated by a newer newsbot is refused with a clear message."""
    async with open_store(postgres_database):
        pass
    conn = await asyncpg.connect(postgres_database.dsn)
    try:
        await conn.execute("INSERT INTO schema_version VALUES (999, 0)")
    finally:
        await conn.close()
    with pytest.raises(DatabaseError, match=r"schema version 999.*newer newsbot"):
        async with open_store(postgres_database):
            pass


async def test_unreachable_postgres_names_the_server_not_the_password(tmp_path: Path) -> None:
    """A server that can't be reached gives a DatabaseError naming it, without the password."""
    url = PostgresUrl(f"postgresql://newsbot@/newsbot?host={tmp_path}", password="hunter2")
    with pytest.raises(DatabaseError, match="cannot connect") as raised:
        async with open_store(url):
            pass
    assert "hunter2" not in str(raised.value) and str(tmp_path) in str(raised.value)


async def test_database_from_the_future_is_refused(tmp_path: Path) -> None:
    """A database written by a newer newsbot is refused with a clear message."""
    path = tmp_path / "news.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    with pytest.raises(DatabaseError, match=r"schema version 999.*newer newsbot"):
        async with open_store(path):
            pass


async def test_not_a_database_is_refused(tmp_path: Path) -> None:
    """A file that is not SQLite gives a DatabaseError naming it, not a traceback."""
    path = tmp_path / "news.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseError, match=r"news\.db"):
        async with open_store(path):
            pass


async def test_articles_are_stored_once(database: Location) -> None:
    """Adding the same dedup keys again stores nothing new."""
    async with open_store(database) as store:
        await store.feeds.sync_config_feeds([FeedSpec(url="https://example.org/rss")])
        feed = await store.feeds.feed_by_url("https://example.org/rss")
        assert feed is not None
        batch = [_article("a", "Alpha"), _article("b", "Beta")]
        assert await store.articles.add_articles(feed.id, batch, NOW) == 2
        assert await store.articles.add_articles(feed.id, batch, NOW) == 0
        assert await store.articles.known_keys(feed.id, ["a", "c"]) == {"a"}
        assert await store.articles.count() == 2


async def test_search_matches_all_words_title_first(database: Location) -> None:
    """Search ANDs the words; a title match ranks above a summary match."""
    async with open_store(database) as store:
        await store.feeds.sync_config_feeds([FeedSpec(url="https://example.org/rss")])
        feed = await store.feeds.feed_by_url("https://example.org/rss")
        assert feed is not None
        await store.articles.add_articles(feed.id, [
            _article("a", "Markets calm", "Japan tariffs were cut on Tuesday."),
            _article("b", "Japan cuts tariffs", "A deal was signed."),
            _article("c", "Japan wins the cup", "Football news."),
        ], NOW)
        found = await store.articles.search("japan tariffs", limit=5)
    assert [a.title for a in found] == ["Japan cuts tariffs", "Markets calm"]


async def test_search_within_feeds_keeps_to_those_feeds(database: Location) -> None:
    """A channel's search (its web page) finds only its feeds' articles, best match first."""
    async with open_store(database) as store:
        await store.feeds.sync_config_feeds([FeedSpec(url="https://example.org/rss"),
                                             FeedSpec(url="https://example.net/rss")])
        mine = await store.feeds.feed_by_url("https://example.org/rss")
        other = await store.feeds.feed_by_url("https://example.net/rss")
        assert mine is not None and other is not None
        await store.articles.add_articles(mine.id, [
            _article("a", "Markets calm", "Japan tariffs were cut on Tuesday."),
            _article("b", "Japan cuts tariffs", "A deal was signed.")], NOW)
        await store.articles.add_articles(other.id, [
            _article("c", "Japan tariffs: the private view", "Not for this channel.")], NOW)
        found = await store.articles.search_feeds("japan tariffs", [mine.id], limit=5)
        assert await store.articles.search_feeds("japan", [], limit=5) == []
    assert [a.title for a in found] == ["Japan cuts tariffs", "Markets calm"]


@pytest.mark.parametrize("query", ['"', "AND OR NOT", "title:x", "*", "(", "NEAR(a b)", ""])
async def test_search_survives_fts_syntax(database: Location, query: str) -> None:
    """User words never reach FTS5 as syntax: odd input gives results or nothing."""
    async with open_store(database) as store:
        assert isinstance(await store.articles.search(query, limit=5), list)


async def test_latest_by_tag_compares_tag_keys(database: Location) -> None:
    """`latest world news` finds articles tagged #WorldNews."""
    async with open_store(database) as store:
        await store.feeds.sync_config_feeds([FeedSpec(url="https://example.org/rss")])
        feed = await store.feeds.feed_by_url("https://example.org/rss")
        assert feed is not None
        await store.articles.add_articles(feed.id, [
            _article("a", "One", tags=("WorldNews",)), _article("b", "Two", tags=("Sport",))],
            NOW)
        found = await store.articles.latest(limit=5, tag="world news")
    assert [a.title for a in found] == ["One"]


async def test_outbox_keeps_unsent_items_until_marked(database: Location) -> None:
    """An enqueued digest stays pending until every item is marked sent and finished."""
    async with open_store(database) as store:
        await store.feeds.sync_config_feeds([FeedSpec(url="https://example.org/rss")])
        feed = await store.feeds.feed_by_url("https://example.org/rss")
        assert feed is not None
        await store.articles.add_articles(feed.id, [_article("a", "A"), _article("b", "B")], NOW)
        await store.channels.ensure("console", NOW)
        articles = await store.articles.latest(limit=2)
        digest = Digest("console", "t", NOW, tuple(DigestItem(a) for a in articles))
        digest_id = await store.deliveries.enqueue(digest, NOW)
        await store.deliveries.mark_sent(digest_id, [0], "m1", NOW)
        pending = await store.deliveries.pending()
        assert [(p.id, [i.position for i in p.items]) for p in pending] == [(digest_id, [1])]
        assert await store.channels.last_digest("console") == NOW
        await store.deliveries.finish(digest_id, NOW)
        assert await store.deliveries.pending() == []
        assert await store.articles.undelivered("console", [feed.id], since=None, limit=9) == []


async def test_refused_digest_counts_rounds_then_fails_out_of_the_outbox(
        database: Location) -> None:
    """Refused rounds are counted per digest; a digest marked failed leaves the outbox, keeps
    its reason and is counted per channel."""
    async with open_store(database) as store:
        await store.channels.ensure("console", NOW)
        digest_id = await store.deliveries.enqueue(Digest("console", "t", NOW), NOW)
        rounds = [await store.deliveries.count_refusal(digest_id, f"no {n}") for n in (1, 2)]
        assert [p.id for p in await store.deliveries.pending()] == [digest_id]
        await store.deliveries.mark_failed(digest_id, "no 2", NOW)
        row = await store.db.fetchone(
            "SELECT refusals, failed_reason FROM digests WHERE id = ?", (digest_id,))
        assert rounds == [1, 2] and row is not None and (row[0], row[1]) == (2, "no 2")
        assert await store.deliveries.pending() == []
        assert await store.deliveries.failed_counts() == {"console": 1}


async def test_config_sync_removes_dropped_feeds(database: Location) -> None:
    """A feed dropped from the config file stops being active; its articles stay."""
    async with open_store(database) as store:
        await store.feeds.sync_config_feeds([FeedSpec(url="https://a.example/rss"),
                                             FeedSpec(url="https://b.example/rss")])
        await store.feeds.sync_config_feeds([FeedSpec(url="https://b.example/rss")])
        assert [f.url for f in await store.feeds.active_feeds()] == ["https://b.example/rss"]


async def test_unchanged_polls_are_recorded_together(database: Location) -> None:
    """One call records every unchanged feed: validators, failures cleared, next poll; an
    empty round writes nothing and fails nothing."""
    async with open_store(database) as store:
        await store.feeds.sync_config_feeds([FeedSpec(url="https://a.example/rss"),
                                             FeedSpec(url="https://b.example/rss")])
        a, b = await store.feeds.active_feeds()
        await store.feeds.record_failure(a.id, error="HTTP 500", failures=2, now=NOW,
                                         next_poll=NOW, disable=False)
        later = NOW + timedelta(minutes=15)
        await store.feeds.record_unchanged([])
        await store.feeds.record_unchanged(
            [UnchangedPoll(a.id, etag='"a1"', last_modified="", polled=NOW, next_poll=later),
             UnchangedPoll(b.id, etag="", last_modified="Tue, 24 Nov 2026 10:00:00 GMT",
                           polled=NOW, next_poll=later)])
        a, b = await store.feeds.active_feeds()
    assert (a.etag, a.failures, a.last_error, a.next_poll) == ('"a1"', 0, "", later)
    assert (b.last_modified, b.last_polled, b.next_poll) == (
        "Tue, 24 Nov 2026 10:00:00 GMT", NOW, later)


async def test_empty_lists_need_no_special_case_upstream(database: Location) -> None:
    """A config without feeds removes the file's feeds; no feeds give no candidates and no
    positions mark nothing (PostgreSQL has no `IN ()`: the store handles empty lists)."""
    async with open_store(database) as store:
        await store.feeds.sync_config_feeds([FeedSpec(url="https://a.example/rss")])
        await store.feeds.sync_config_feeds([])
        await store.channels.ensure("console", NOW)
        digest_id = await store.deliveries.enqueue(Digest("console", "t", NOW), NOW)
        await store.deliveries.mark_sent(digest_id, [], "m1", NOW)
        assert await store.feeds.active_feeds() == []
        assert await store.articles.undelivered("console", [], since=None, limit=5) == []
        assert await store.articles.recent([], since=NOW, limit=5) == []


async def _feed_with(store: Store, articles: list[NewArticle]) -> None:
    await store.feeds.sync_config_feeds([FeedSpec(url="https://example.org/rss")])
    feed = await store.feeds.feed_by_url("https://example.org/rss")
    assert feed is not None
    await store.articles.add_articles(feed.id, articles, NOW)


@pytest.mark.parametrize(("words", "titles"), [
    ("cafe", ["Café owners protest"]),  # accents fold both ways
    ("CAFÉ", ["Café owners protest"]),
    ("protests owner", ["Café owners protest"]),  # English stems: protest(s), owner(s)
    ("the owners", ["Café owners protest"]),  # no stop words: "the" is a word like any
    ("owners tariffs", []),  # every word must match
])
async def test_search_folds_accents_and_stems_words(database: Location, words: str,
                                                    titles: list[str]) -> None:
    """Both engines fold accents and case, stem English words and AND the words."""
    async with open_store(database) as store:
        await _feed_with(store, [_article("a", "Café owners protest", "At the town hall."),
                                 _article("b", "Tariffs rise", "Ports are busy.")])
        found = await store.articles.search(words, limit=5)
    assert [a.title for a in found] == titles


async def test_latest_by_tag_ignores_the_word_elsewhere(database: Location) -> None:
    """`latest sport` lists stories tagged Sport, not stories with the word in the title."""
    async with open_store(database) as store:
        await _feed_with(store, [_article("a", "Sport results"),
                                 _article("b", "Final", tags=("Sport",))])
        found = await store.articles.latest(limit=5, tag="sport")
    assert [a.title for a in found] == ["Final"]


async def test_match_any_two_terms_ranks_by_the_title(database: Location) -> None:
    """A related-stories query finds stories with two of the terms, never one alone, and a
    story with them in the title scores above one with them in the summary."""
    async with open_store(database) as store:
        await _feed_with(store, [
            _article("a", "Japan tariff deal", "Ports are busy."),
            _article("b", "Trade news", "Japan signed a tariff deal."),
            _article("c", "Japan wins", "Football."),
        ])
        found = await store.articles.match_articles(any_two(["japan", "tariff", "deal"]),
                                                    limit=5)
    assert [a.title for a, _ in found] == ["Japan tariff deal", "Trade news"]
    assert found[0][1] > found[1][1] > 0


async def test_nul_characters_are_no_database_error(database: Location) -> None:
    """A NUL character in a stored text (PostgreSQL's text can't hold one) is no error: the
    story and the setting are stored and read back."""
    async with open_store(database) as store:
        await _feed_with(store, [_article("a\x00", "Ti\x00tle", "Sum\x00mary")])
        await store.channels.set_setting("console", "filter", "a\x00b", NOW)
        [article] = await store.articles.latest(limit=5)
        channel = await store.channels.apply_overrides(Channel(id="console"))
    assert article.title.replace("\x00", "") == "Title"
    assert channel.filter.replace("\x00", "") == "ab"


async def test_postgres_failure_is_a_store_error(postgres_database: PostgresUrl) -> None:
    """A statement PostgreSQL fails (here: its table was dropped under the bot) raises the
    store's StoreError, which callers catch, never the driver's own exception."""
    async with open_store(postgres_database) as store:
        conn = await asyncpg.connect(postgres_database.dsn)
        try:
            await conn.execute("DROP TABLE seen_keys")
        finally:
            await conn.close()
        with pytest.raises(StoreError, match="seen_keys"):
            await store.pruned.forget_keys(NOW)
        with pytest.raises(StoreError):
            await store.articles.known_keys(1, ["a"])
