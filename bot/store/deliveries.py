"""The outbox: digests and their items, written before sending, marked after."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.model import Claimant, Digest
from bot.store.db import Database, Row, from_ts, to_ts


@dataclass(frozen=True, slots=True)
class PendingItem:
    """An outbox item not yet confirmed sent: its digest, place and lead article."""

    position: int
    article_id: int


@dataclass(frozen=True, slots=True)
class PendingDigest:
    """A digest written to the outbox and not finished."""

    id: int
    channel_id: str
    title: str
    created: datetime
    more: int
    items: tuple[PendingItem, ...]
    more_from: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class PastDigest:
    """A digest as it was composed for a channel, for its web pages and feeds."""

    id: int
    title: str
    created: datetime


@dataclass(frozen=True, slots=True)
class PastItem:
    """One article of a past digest: its item's place, and whether it led the item (else it
    is another outlet's take on the same story)."""

    digest_id: int
    position: int
    article_id: int
    lead: bool


_PAST = ("SELECT d.id, d.title, d.created FROM digests d WHERE d.channel_id = ? "
         "AND EXISTS (SELECT 1 FROM deliveries x WHERE x.digest_id = d.id) ")


def _past(row: Row) -> PastDigest:
    created = from_ts(row["created"])
    assert created is not None
    return PastDigest(id=row["id"], title=row["title"], created=created)


class SlotTaken(Exception):
    """Another process wrote the channel's digest (or breaking post) for this slot first."""


class DeliveryStore:
    """Queries on digests and deliveries."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def enqueue(self, digest: Digest, slot: datetime, *, breaking: bool = False,
                      claimant: Claimant | None = None, now: datetime | None = None,
                      once: bool = False) -> int:
        """Write a digest and its items (leads and their "also" articles) in one step.

        The channel's last digest (or last breaking post) moves to `slot` in the same
        transaction, so a restart neither composes this slot again nor loses the items.
        With `once`, the move is a compare-and-set: when the channel's last digest is at
        `slot` or later already (another process wrote it), nothing is written and SlotTaken
        is raised. With a `claimant`, the digest written is claimed for it from `now`.
        """
        column = "last_breaking" if breaking else "last_digest"
        async with self._db.transaction() as tx:
            if once:
                moved = await tx.execute(
                    f"UPDATE channels SET {column} = ? WHERE id = ? "
                    f"AND ({column} IS NULL OR {column} < ?)",
                    (to_ts(slot), digest.channel_id, to_ts(slot)))
                if moved != 1:
                    raise SlotTaken(f"{digest.channel_id}: the {column} of {slot} is written")
            row = await tx.fetchone(
                "INSERT INTO digests (channel_id, slot, title, created, more, more_from, "
                "lease_holder, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (digest.channel_id, to_ts(slot), digest.title, to_ts(digest.created),
                 digest.more, json.dumps(digest.more_from),
                 None if claimant is None else claimant.holder,
                 None if claimant is None else to_ts((now or slot) + claimant.lease)))
            assert row is not None
            digest_id = int(row[0])
            rows = []
            for position, item in enumerate(digest.items):
                rows.append((digest.channel_id, item.article.id, digest_id, position, 1))
                rows.extend((digest.channel_id, article_id, digest_id, position, 0)
                            for article_id in item.also_ids)
            await tx.executemany(
                "INSERT INTO deliveries (channel_id, article_id, digest_id, position, lead) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", rows)
            if not once:
                await tx.execute(f"UPDATE channels SET {column} = ? WHERE id = ?",
                                 (to_ts(slot), digest.channel_id))
        return digest_id

    async def pending(self) -> list[PendingDigest]:
        """Unfinished digests, oldest first, with the items not yet sent."""
        return await self._pending(await self._db.fetchall(
            "SELECT id, channel_id, title, created, more, more_from FROM digests "
            "WHERE done IS NULL ORDER BY created, id"))

    async def pending_channels(self) -> list[str]:
        """The channels with unfinished digests in the outbox."""
        rows = await self._db.fetchall(
            "SELECT DISTINCT channel_id FROM digests WHERE done IS NULL ORDER BY channel_id")
        return [row[0] for row in rows]

    async def claim_pending(self, claimant: Claimant, now: datetime,
                            channel_ids: Sequence[str]) -> list[PendingDigest]:
        """Claim these channels' unfinished digests until `now + lease`, oldest first: those
        another holder claimed stay its own until its lease runs out (a sender that died is
        taken over then), so each digest is sent by one process at a time."""
        if not channel_ids:
            return []
        marks = ",".join("?" * len(channel_ids))
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "UPDATE digests SET lease_holder = ?, lease_until = ? WHERE id IN ("
                f"SELECT id FROM digests WHERE done IS NULL AND channel_id IN ({marks}) "
                "AND (lease_until IS NULL OR lease_until < ? OR lease_holder = ?) "
                f"ORDER BY created, id LIMIT 1000{self._db.skip_locked}) "
                "RETURNING id, channel_id, title, created, more, more_from",
                (claimant.holder, to_ts(now + claimant.lease), *channel_ids, to_ts(now),
                 claimant.holder))
        return await self._pending(sorted(rows, key=lambda row: (row["created"], row["id"])))

    async def renew(self, digest_id: int, claimant: Claimant, now: datetime) -> None:
        """Keep the claim on a digest being sent for another lease from `now`."""
        await self._db.execute(
            "UPDATE digests SET lease_until = ? WHERE id = ? AND lease_holder = ?",
            (to_ts(now + claimant.lease), digest_id, claimant.holder))

    async def _pending(self, digests: Sequence[Row]) -> list[PendingDigest]:
        """These outbox rows as pending digests, with the items not yet sent."""
        result = []
        for row in digests:
            items = await self._db.fetchall(
                "SELECT position, article_id FROM deliveries WHERE digest_id = ? AND lead = 1 "
                "AND sent IS NULL ORDER BY position", (row["id"],))
            created = from_ts(row["created"])
            assert created is not None
            result.append(PendingDigest(
                id=row["id"], channel_id=row["channel_id"], title=row["title"],
                created=created, more=row["more"],
                items=tuple(PendingItem(r[0], r[1]) for r in items),
                more_from=tuple((str(name), int(count))
                                for name, count in json.loads(row["more_from"]))))
        return result

    async def mark_sent(self, digest_id: int, positions: list[int], message_id: str,
                        now: datetime) -> None:
        """Record that the items at these positions went out in one message."""
        if not positions:  # `IN ()` is SQLite's alone
            return
        marks = ",".join("?" * len(positions))
        await self._db.execute(
            f"UPDATE deliveries SET message_id = ?, sent = ? WHERE digest_id = ? "
            f"AND position IN ({marks})", (message_id, to_ts(now), digest_id, *positions))

    async def sent_among(self, channel_id: str, article_ids: Sequence[int]) -> set[int]:
        """Which of these articles are already in this channel's outbox (sent or queued)."""
        if not article_ids:
            return set()
        rows = await self._db.fetchall(
            "SELECT article_id FROM deliveries WHERE channel_id = ? AND article_id IN "
            f"({','.join('?' * len(article_ids))})", (channel_id, *article_ids))
        return {int(row[0]) for row in rows}

    async def delivered_at(self, channel_id: str, article_id: int) -> datetime | None:
        """When this article went out to this channel (None: not sent there)."""
        row = await self._db.fetchone(
            "SELECT sent FROM deliveries WHERE channel_id = ? AND article_id = ?",
            (channel_id, article_id))
        return None if row is None else from_ts(row[0])

    async def delivered_in_cluster(self, channel_id: str, cluster_id: int) -> int | None:
        """The id of an article of this story already sent to this channel, if any."""
        row = await self._db.fetchone(
            "SELECT d.article_id FROM deliveries d JOIN articles a ON a.id = d.article_id "
            "WHERE d.channel_id = ? AND a.cluster_id = ? AND d.sent IS NOT NULL LIMIT 1",
            (channel_id, cluster_id))
        return None if row is None else int(row[0])

    async def finish(self, digest_id: int, now: datetime) -> None:
        """The whole digest is out."""
        await self._db.execute("UPDATE digests SET done = ? WHERE id = ?",
                               (to_ts(now), digest_id))

    async def count_refusal(self, digest_id: int, reason: str) -> int:
        """Record one more round in which the platform refused the digest; how many so far."""
        await self._db.execute(
            "UPDATE digests SET refusals = refusals + 1, failed_reason = ? WHERE id = ?",
            (reason, digest_id))
        row = await self._db.fetchone("SELECT refusals FROM digests WHERE id = ?", (digest_id,))
        return 0 if row is None else int(row[0])

    async def mark_failed(self, digest_id: int, reason: str, now: datetime) -> None:
        """Give the digest up: it is finished without its unsent messages, never retried."""
        await self._db.execute(
            "UPDATE digests SET failed = ?, failed_reason = ?, done = ? WHERE id = ?",
            (to_ts(now), reason, to_ts(now), digest_id))

    async def failed_counts(self) -> dict[str, int]:
        """How many digests each channel has had given up (channels with none are left out)."""
        rows = await self._db.fetchall(
            "SELECT channel_id, count(*) FROM digests WHERE failed IS NOT NULL "
            "GROUP BY channel_id")
        return {str(row[0]): int(row[1]) for row in rows}

    async def past_digests(self, channel_id: str, *, limit: int,
                           before_id: int | None = None) -> list[PastDigest]:
        """The channel's digests that kept at least one story, newest first (those older
        than `before_id` when given)."""
        rows = await self._db.fetchall(
            _PAST + "AND d.id < ? ORDER BY d.id DESC LIMIT ?",
            (channel_id, 1 << 62 if before_id is None else before_id, limit))
        return [_past(row) for row in rows]

    async def past_digest(self, channel_id: str, digest_id: int) -> PastDigest | None:
        """One of the channel's digests with at least one story left, or None."""
        row = await self._db.fetchone(_PAST + "AND d.id = ?", (channel_id, digest_id))
        return None if row is None else _past(row)

    async def newer_digest(self, channel_id: str, digest_id: int) -> int | None:
        """The id of the channel's next digest after this one (with stories), if any."""
        row = await self._db.fetchone(
            _PAST + "AND d.id > ? ORDER BY d.id LIMIT 1", (channel_id, digest_id))
        return None if row is None else int(row["id"])

    async def past_items(self, digest_ids: Sequence[int]) -> list[PastItem]:
        """The articles still stored of these digests, by digest, place and lead first."""
        if not digest_ids:
            return []
        rows = await self._db.fetchall(
            "SELECT digest_id, position, article_id, lead FROM deliveries WHERE digest_id IN "
            f"({','.join('?' * len(digest_ids))}) ORDER BY digest_id DESC, position, lead DESC, "
            "article_id", tuple(digest_ids))
        return [PastItem(int(r[0]), int(r[1]), int(r[2]), bool(r[3])) for r in rows]
