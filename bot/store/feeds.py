"""Feeds and their fetch state: which are due, what each poll found."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.model import FeedSpec, FeedState, UnchangedPoll
from bot.store.db import Database, Row, from_ts, to_ts

_COLUMNS = ("id, url, COALESCE(NULLIF(name, ''), NULLIF(title, ''), url) AS name, tags, "
            "interval_s, etag, last_modified, body_hash, failed_body_hash, failures, last_error, "
            "last_polled, next_poll, disabled, full_text, origin")


def _feed(row: Row) -> FeedState:
    return FeedState(
        id=row["id"], url=row["url"], name=row["name"], tags=tuple(row["tags"].split()),
        interval_s=row["interval_s"], etag=row["etag"], last_modified=row["last_modified"],
        body_hash=row["body_hash"], failed_body_hash=row["failed_body_hash"],
        failures=row["failures"], last_error=row["last_error"],
        last_polled=from_ts(row["last_polled"]), next_poll=from_ts(row["next_poll"]),
        disabled=bool(row["disabled"]), full_text=bool(row["full_text"]), origin=row["origin"])


class FeedStore:
    """Queries on the feeds table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def sync_config_feeds(self, specs: Sequence[FeedSpec]) -> None:
        """Make the config file's feeds present; feeds dropped from the file are removed."""
        async with self._db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO feeds (url, name, tags, interval_s, full_text, origin) "
                "VALUES (?, ?, ?, ?, ?, 'config') ON CONFLICT (url) DO UPDATE SET "
                "name = excluded.name, tags = excluded.tags, interval_s = excluded.interval_s, "
                "full_text = excluded.full_text, removed = 0",
                [(s.url, s.name, " ".join(s.tags), s.interval_s, s.full_text) for s in specs])
            urls = [s.url for s in specs]
            kept = f" AND url NOT IN ({','.join('?' * len(urls))})" if urls else ""
            await tx.execute(f"UPDATE feeds SET removed = 1 WHERE origin = 'config'{kept}", urls)

    async def add_feed(self, spec: FeedSpec, origin: str) -> FeedState:
        """Add (or bring back) a feed from chat; returns it with its state."""
        await self._db.execute(
            "INSERT INTO feeds (url, name, tags, interval_s, origin) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (url) DO UPDATE SET removed = 0, disabled = 0, failures = 0, "
            "name = CASE WHEN excluded.name != '' THEN excluded.name ELSE feeds.name END",
            (spec.url, spec.name, " ".join(spec.tags), spec.interval_s, origin))
        feed = await self.feed_by_url(spec.url)
        assert feed is not None
        return feed

    async def remove_feed(self, feed_id: int) -> None:
        """Stop polling a feed; its articles stay so that nothing is posted twice."""
        await self._db.execute("UPDATE feeds SET removed = 1 WHERE id = ?", (feed_id,))

    async def feed_by_url(self, url: str) -> FeedState | None:
        """The feed with exactly this URL, removed or not."""
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM feeds WHERE url = ?", (url,))
        return None if row is None else _feed(row)

    async def active_feeds(self) -> list[FeedState]:
        """Every feed not removed, in a stable order."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM feeds WHERE removed = 0 ORDER BY lower(name), id")
        return [_feed(row) for row in rows]

    async def due_feeds(self, now: datetime, limit: int = 1000) -> list[FeedState]:
        """Enabled feeds whose next poll time has come, most overdue first."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM feeds WHERE disabled = 0 AND removed = 0 "
            "AND next_poll <= ? ORDER BY next_poll LIMIT ?", (to_ts(now), limit))
        return [_feed(row) for row in rows]

    async def claim_due_feeds(self, holder: str, now: datetime, lease: timedelta,
                              limit: int = 1000, due_by: datetime | None = None
                              ) -> list[FeedState]:
        """Claim due feeds for `holder` until `now + lease`, most overdue first: claimed feeds
        (by any holder) are left alone until the lease runs out (then they are taken over), so
        processes sharing the database each poll a feed once a round. Recording the poll's
        result lets the claim go. Feeds due by `due_by` (default `now`) are claimed."""
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                f"UPDATE feeds SET lease_holder = ?, lease_until = ? WHERE id IN ("
                "SELECT id FROM feeds WHERE disabled = 0 AND removed = 0 AND next_poll <= ? "
                "AND (lease_until IS NULL OR lease_until < ?) "
                f"ORDER BY next_poll LIMIT ?{self._db.skip_locked}) RETURNING {_COLUMNS}",
                (holder, to_ts(now + lease), to_ts(due_by or now), to_ts(now), limit))
        feeds = [_feed(row) for row in rows]
        return sorted(feeds, key=lambda feed: (feed.next_poll or now, feed.id))

    async def renew_claims(self, holder: str, feed_ids: Sequence[int],
                           until: datetime) -> None:
        """Keep `holder`'s claims on these feeds until `until`; a feed whose poll is
        recorded already (its claim let go) stays free."""
        if not feed_ids:  # `IN ()` is SQLite's alone
            return
        await self._db.execute(
            "UPDATE feeds SET lease_until = ? WHERE lease_holder = ? "
            f"AND id IN ({','.join('?' * len(feed_ids))})", (to_ts(until), holder, *feed_ids))

    async def record_fetched(self, feed_id: int, *, etag: str, last_modified: str,
                             body_hash: str, title: str, now: datetime,
                             next_poll: datetime) -> None:
        """A poll that got the feed (200 or 304): reset failures, remember validators."""
        await self._db.execute(
            "UPDATE feeds SET etag = ?, last_modified = ?, body_hash = ?, failures = 0, "
            "last_error = '', failed_body_hash = '', last_polled = ?, next_poll = ?, "
            "lease_holder = NULL, lease_until = NULL, "
            "title = CASE WHEN ? != '' THEN ? ELSE title END WHERE id = ?",
            (etag, last_modified, body_hash, to_ts(now), to_ts(next_poll), title, title,
             feed_id))

    async def record_unchanged(self, polls: Sequence[UnchangedPoll]) -> None:
        """A round's unchanged feeds in one write: reset failures, keep validators, next poll."""
        if not polls:
            return
        await self._db.executemany(
            "UPDATE feeds SET etag = ?, last_modified = ?, failures = 0, last_error = '', "
            "last_polled = ?, next_poll = ?, lease_holder = NULL, lease_until = NULL "
            "WHERE id = ?",
            [(p.etag, p.last_modified, to_ts(p.polled), to_ts(p.next_poll), p.feed_id)
             for p in polls])

    async def record_failure(self, feed_id: int, *, error: str, failures: int, now: datetime,
                             next_poll: datetime, disable: bool,
                             failed_body_hash: str = "") -> None:
        """A failed poll: count it, say why, push the next poll back (or disable); the hash
        of the body when it was the body that failed to parse."""
        await self._db.execute(
            "UPDATE feeds SET failures = ?, last_error = ?, last_polled = ?, next_poll = ?, "
            "disabled = ?, failed_body_hash = ?, lease_holder = NULL, lease_until = NULL "
            "WHERE id = ?",
            (failures, error, to_ts(now), to_ts(next_poll), int(disable), failed_body_hash,
             feed_id))
