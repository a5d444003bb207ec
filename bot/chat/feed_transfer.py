"""Moving feeds in and out: OPML import and export, and picking a feed from a site's URL."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.chat.request import Caller, UserError
from bot.digest.service import DigestService, subscribed_feed_ids
from bot.feeds.canonical import canonical_url
from bot.feeds.discover import COMMON_PATHS, FeedFinder
from bot.feeds.fetch import REFUSED, Fetcher
from bot.feeds.guard import DEFAULT_PORTS, AddressCheck, BlockedAddress, check_url
from bot.feeds.opml import OpmlError, OpmlFeed, parse_opml, render_opml
from bot.model import Attachment, FeedSpec, Reply
from bot.ports import Clock
from bot.store.store import Store

log = logging.getLogger(__name__)
MAX_CHOICES = 5
MAX_ATTACHMENT_BYTES = 1024 * 1024  # an attached OPML file, checked before download too
EXPORT_NAME = "feeds.opml"


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an OPML import did with each feed it found."""

    added: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # already polled
    refused: tuple[tuple[str, str], ...] = ()  # (url, reason)
    stopped: str = ""  # why the import stopped before the end
    untried: int = 0  # feeds left when it stopped

    def lines(self) -> list[str]:
        """A summary line, one line per refused feed, and why it stopped early if it did."""
        lines = [f"Imported {len(self.added)} feeds; {len(self.skipped)} were already there, "
                 f"{len(self.refused)} refused."]
        lines += [f"• refused {url}: {reason}" for url, reason in self.refused]
        if self.stopped:
            lines.append(f"Stopped with {self.untried} feeds not tried: {self.stopped}")
        return lines


# Checks one new feed URL of an import: "" to add it, else the reason it is refused; raises
# UserError to stop the import there (a limit is reached).
Admit = Callable[[str], Awaitable[str]]


class FeedUnreachable(UserError):
    """The URL gave no feed just now (network failure or an HTTP error)."""


def fetch_refusal(url: str, error: str, unanswered: bool) -> str:
    """Why a URL gave no feed: the guard's reason, the HTTP status, or one sentence for every
    network failure alike (it must not tell an open port from a closed one; the log has it)."""
    if error.startswith(REFUSED):
        return error.removeprefix(REFUSED)
    if unanswered:
        log.info("no feed from %s: %s", url, error)
        return f"could not fetch a feed from {url}; check the link, or try again later"
    if error.startswith("HTTP "):
        return f"{url} answered {error}"
    return f"{url} is not a feed newsbot can read: {error}"


async def pick_feed(finder: FeedFinder, url: str) -> tuple[str, str]:
    """The feed URL to add for a page or feed URL, and a note saying what was picked.

    Several candidates are not guessed between: the UserError lists them to choose from.
    A URL that gives nothing right now is a FeedUnreachable; one the guard refuses, a UserError.
    """
    found = await finder.discover(url)
    if found.error:
        text = f"Can't add that feed: {fetch_refusal(url, found.error, found.unanswered)}."
        raise UserError(text) if found.error.startswith(REFUSED) else FeedUnreachable(text)
    if found.is_feed:
        return found.feeds[0].url, ""
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
                 clock: Clock, interval_s: int, ports: frozenset[int] = DEFAULT_PORTS) -> None:
        self._ports = ports
        self._store = store
        self._digests = digests
        self._is_allowed = is_allowed
        self._clock = clock
        self._interval_s = interval_s

    async def import_opml(self, channel_id: str, data: bytes,
                          admit: Admit | None = None) -> ImportReport:
        """Add the document's feeds for this channel, which follows them; idempotent.

        Each new feed passes the address guard, then `admit` (chat's limits and a first
        fetch; the operator's CLI has none)."""
        added: list[str] = []
        skipped: list[str] = []
        refused: list[tuple[str, str]] = []
        wanted: list[str] = []
        active = {feed.url for feed in await self._store.feeds.active_feeds()}
        items = parse_opml(data)
        for index, item in enumerate(items):
            try:
                check_url(item.url, self._is_allowed, self._ports)  # before credentials go
            except BlockedAddress as error:
                refused.append((item.url, str(error)))
                continue
            url = canonical_url(item.url) or item.url
            if url in active or url in wanted:
                skipped.append(url)
                wanted.append(url)
                continue
            try:
                reason = await admit(url) if admit is not None else ""
            except UserError as stop:
                return await self._report(channel_id, wanted, added, skipped, refused,
                                          stopped=str(stop), untried=len(items) - index)
            if reason:
                refused.append((item.url, reason))
                continue
            await self._store.feeds.add_feed(
                FeedSpec(url=url, name=item.title, interval_s=self._interval_s),
                origin=channel_id)
            added.append(url)
            wanted.append(url)
        return await self._report(channel_id, wanted, added, skipped, refused)

    async def _report(self, channel_id: str, wanted: list[str], added: list[str],
                      skipped: list[str], refused: list[tuple[str, str]], *, stopped: str = "",
                      untried: int = 0) -> ImportReport:
        await self._follow(channel_id, wanted)
        return ImportReport(tuple(added), tuple(skipped), tuple(refused), stopped, untried)

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


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """One `/feed import` or `/feed export`: who asked, the command's words, any file."""

    caller: Caller
    action: str
    arg: str
    attachment: Attachment | None = None


async def transfer_command(transfer: FeedTransfer, fetcher: Fetcher, request: TransferRequest,
                           admit: Admit, charge: Callable[[], None]) -> Reply:
    """`/feed export` (the channel's feeds as an OPML file) and `/feed import` of an attached
    OPML file or of a link to one; `charge` counts the link's fetch, `admit` each new feed."""
    caller = request.caller
    if request.action == "export":
        opml = await transfer.export_opml(caller.channel_id)
        return Reply(text=f"This channel's feeds, as an OPML file ({EXPORT_NAME}).",
                     ephemeral=True, file=Attachment(EXPORT_NAME, opml.encode()))
    if request.attachment is not None:
        return await _import_file(transfer, caller, request.attachment, admit)
    url = request.arg.strip()
    if not url:
        raise UserError("Usage: /feed import <link to an OPML file>, or attach the file")
    charge()
    document = await fetcher.fetch(url)
    if document.error:
        raise UserError(f"Can't read {url}: "
                        f"{fetch_refusal(url, document.error, document.unanswered)}.")
    return await _import(transfer, caller, url, document.body, admit)


async def _import_file(transfer: FeedTransfer, caller: Caller, attachment: Attachment,
                       admit: Admit) -> Reply:
    if len(attachment.data) > MAX_ATTACHMENT_BYTES:
        raise UserError(file_too_large(attachment.name, len(attachment.data)))
    return await _import(transfer, caller, attachment.name, attachment.data, admit)


def file_too_large(name: str, size: int) -> str:
    """The refusal shown for an attached OPML file over the cap (adapters check first)."""
    return (f"Can't import {name}: the file is {size / 1024:.0f} KiB, more than the "
            f"{MAX_ATTACHMENT_BYTES // (1024 * 1024)} MiB an attached OPML file may have.")


async def _import(transfer: FeedTransfer, caller: Caller, source: str, data: bytes,
                  admit: Admit) -> Reply:
    try:
        report = await transfer.import_opml(caller.channel_id, data, admit)
    except OpmlError as error:
        raise UserError(f"Can't import {source}: {error}.") from None
    return Reply(text="\n".join(report.lines()))
