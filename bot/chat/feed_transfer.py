"""Moving feeds in and out: OPML import and export, and picking a feed from a site's URL."""

from __future__ import annotations

from dataclasses import dataclass

from bot.chat.request import Caller, UserError
from bot.digest.service import DigestService, subscribed_feed_ids
from bot.feeds.discover import COMMON_PATHS, FeedFinder
from bot.feeds.fetch import Fetcher
from bot.feeds.guard import AddressCheck, BlockedAddress, check_url
from bot.feeds.opml import OpmlError, OpmlFeed, parse_opml, render_opml
from bot.feeds.parse import canonical_url
from bot.model import Attachment, FeedSpec, Reply
from bot.ports import Clock
from bot.store.store import Store

MAX_CHOICES = 5
MAX_ATTACHMENT_BYTES = 1024 * 1024  # an attached OPML file, checked before download too
EXPORT_NAME = "feeds.opml"


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an OPML import did with each feed it found."""

    added: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # already polled
    refused: tuple[tuple[str, str], ...] = ()  # (url, reason)

    def lines(self) -> list[str]:
        """A summary line, then one line per refused feed."""
        lines = [f"Imported {len(self.added)} feeds; {len(self.skipped)} were already there, "
                 f"{len(self.refused)} refused."]
        lines += [f"• refused {url}: {reason}" for url, reason in self.refused]
        return lines


async def pick_feed(finder: FeedFinder, url: str) -> tuple[str, str]:
    """The feed URL to add for a page or feed URL, and a note saying what was picked.

    Several candidates are not guessed between: the UserError lists them to choose from.
    A URL that can't be fetched right now is taken as it is (the poller retries it).
    """
    found = await finder.discover(url)
    if found.error.startswith("refused"):
        raise UserError(f"Can't add that feed: {found.error.removeprefix('refused: ')}.")
    if found.error or found.is_feed:  # unreachable now: added as given, retried with backoff
        return (found.feeds[0].url if found.feeds else url), ""
    if not found.feeds:
        raise UserError(f"Found no feed at {url}: the page links to none, and none of "
                        f"{', '.join(COMMON_PATHS)} is a feed.")
    if len(found.feeds) == 1:
        feed = found.feeds[0]
        return feed.url, f"Found the feed {feed.url} on that page."
    choices = [f"• {f.url}" + (f" ({f.title})" if f.title else "")
               for f in found.feeds[:MAX_CHOICES]]
    raise UserError("That page offers several feeds; add the one you want with "
                    "/feed add <url>:\n" + "\n".join(choices))


class FeedTransfer:
    """OPML in and out for one channel, through the same rules as /feed add."""

    def __init__(self, store: Store, digests: DigestService, is_allowed: AddressCheck,
                 clock: Clock, interval_s: int) -> None:
        self._store = store
        self._digests = digests
        self._is_allowed = is_allowed
        self._clock = clock
        self._interval_s = interval_s

    async def import_opml(self, channel_id: str, data: bytes) -> ImportReport:
        """Add the document's feeds for this channel, which follows them; idempotent."""
        added: list[str] = []
        skipped: list[str] = []
        refused: list[tuple[str, str]] = []
        wanted: list[str] = []
        active = {feed.url for feed in await self._store.feeds.active_feeds()}
        for item in parse_opml(data):
            url = canonical_url(item.url) or item.url
            try:
                check_url(url, self._is_allowed)
            except BlockedAddress as error:
                refused.append((item.url, str(error)))
                continue
            if url in active or url in wanted:
                skipped.append(url)
            else:
                await self._store.feeds.add_feed(
                    FeedSpec(url=url, name=item.title, interval_s=self._interval_s),
                    origin=channel_id)
                added.append(url)
            wanted.append(url)
        await self._follow(channel_id, wanted)
        return ImportReport(tuple(added), tuple(skipped), tuple(refused))

    async def export_opml(self, channel_id: str | None) -> str:
        """The feeds a channel follows (every active feed when None) as OPML."""
        feeds = await self._store.feeds.active_feeds()
        title = "newsbot feeds"
        if channel_id is not None:
            channel = await self._digests.channel(channel_id)
            ids = set(subscribed_feed_ids(channel, feeds))
            feeds = [f for f in feeds if f.id in ids]
            title = f"newsbot feeds of {channel_id}"
        items = [OpmlFeed(url=f.url, title=f.name if f.name != f.url else "") for f in feeds]
        return render_opml(items, title, self._clock())

    async def _follow(self, channel_id: str, urls: list[str]) -> None:
        channel = await self._digests.channel(channel_id)
        feeds = await self._store.feeds.active_feeds()
        ids = set(subscribed_feed_ids(channel, feeds))
        followed = [f.url for f in feeds if f.id in ids]
        missing = [url for url in urls if url not in followed]
        if missing:
            await self._store.channels.set_setting(
                channel_id, "feeds", "\t".join(followed + missing), self._clock())


async def transfer_command(transfer: FeedTransfer, fetcher: Fetcher, caller: Caller,
                           action: str, arg: str, attachment: Attachment | None = None) -> Reply:
    """`/feed export` (the channel's feeds as an OPML file) and `/feed import` of an attached
    OPML file or of a link to one."""
    if action == "export":
        opml = await transfer.export_opml(caller.channel_id)
        return Reply(text=f"This channel's feeds, as an OPML file ({EXPORT_NAME}).",
                     ephemeral=True, file=Attachment(EXPORT_NAME, opml.encode()))
    if attachment is not None:
        return await _import_file(transfer, caller, attachment)
    url = arg.strip()
    if not url:
        raise UserError("Usage: /feed import <link to an OPML file>, or attach the file")
    document = await fetcher.fetch(url)
    if document.error:
        raise UserError(f"Can't read {url}: {document.error.removeprefix('refused: ')}.")
    return await _import(transfer, caller, url, document.body)


async def _import_file(transfer: FeedTransfer, caller: Caller, attachment: Attachment) -> Reply:
    if len(attachment.data) > MAX_ATTACHMENT_BYTES:
        raise UserError(file_too_large(attachment.name, len(attachment.data)))
    return await _import(transfer, caller, attachment.name, attachment.data)


def file_too_large(name: str, size: int) -> str:
    """The refusal shown for an attached OPML file over the cap (adapters check first)."""
    return (f"Can't import {name}: the file is {size / 1024:.0f} KiB, more than the "
            f"{MAX_ATTACHMENT_BYTES // (1024 * 1024)} MiB an attached OPML file may have.")


async def _import(transfer: FeedTransfer, caller: Caller, source: str, data: bytes) -> Reply:
    try:
        report = await transfer.import_opml(caller.channel_id, data)
    except OpmlError as error:
        raise UserError(f"Can't import {source}: {error}.") from None
    return Reply(text="\n".join(report.lines()))
