"""Moderator commands: feeds, topic filter, schedule and subscriptions of a channel."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from bot.chat.feed_limits import AddLimits, FeedAddLimits
from bot.chat.feed_transfer import (
    FeedTransfer,
    FeedUnreachable,
    TransferRequest,
    fetch_refusal,
    pick_feed,
    transfer_command,
)
from bot.chat.request import Caller, UserError
from bot.digest.local_time import format_local
from bot.digest.schedule import ScheduleError, load_zone, parse_schedule
from bot.digest.service import DigestService, subscribed_feed_ids
from bot.feeds.canonical import canonical_url
from bot.feeds.discover import FeedFinder, looks_like_feed
from bot.feeds.fetch import Fetcher
from bot.feeds.guard import DEFAULT_PORTS, AddressCheck, BlockedAddress, check_url
from bot.feeds.poll import Poller
from bot.filters.parse import Filter, FilterError, explain, parse_filter
from bot.model import Attachment, Channel, DigestItem, FeedSpec, FeedState, Reply
from bot.ports import Clock
from bot.store.store import Store

TEST_WINDOW = timedelta(hours=24)
SHOWN_FAILING = 5
MAX_FEEDS = 50  # feeds one channel may add from chat ([fetch] max_feeds_per_channel)


class Moderation:
    """What moderators change from chat; stored in the database, wins over the file."""

    def __init__(self, store: Store, digests: DigestService, poller: Poller,
                 is_allowed: AddressCheck, clock: Clock, default_interval_s: int,
                 fetcher: Fetcher, *, max_feeds: int = MAX_FEEDS,
                 ports: frozenset[int] = DEFAULT_PORTS,
                 limits: AddLimits | None = None) -> None:
        self._max_feeds = max_feeds
        self._ports = ports
        self._limits = FeedAddLimits(limits or AddLimits(), clock)
        self._finder = FeedFinder(fetcher)
        self._fetcher = fetcher
        self._transfer = FeedTransfer(store, digests, is_allowed, clock, default_interval_s,
                                      ports)
        self._store = store
        self._digests = digests
        self._poller = poller
        self._is_allowed = is_allowed
        self._clock = clock
        self._interval_s = default_interval_s

    async def feed(self, caller: Caller, rest: str, attachment: Attachment | None = None) -> Reply:
        """`/feed list`, `/feed add <url> [name]`, `/feed remove <name or url>`, `/feed import`
        (of the attached OPML file, or a link to one), `/feed export`."""
        action, _, arg = rest.partition(" ")
        if action in ("", "list"):
            return await self._feed_list(caller)
        if action == "add" and arg.strip():
            return await self._feed_add(caller, arg.strip())
        if action == "remove" and arg.strip():
            return await self.unsubscribe(caller, arg.strip())
        if action in ("import", "export"):
            return await transfer_command(
                self._transfer, self._fetcher, TransferRequest(caller, action, arg, attachment),
                partial(self._admit, caller), partial(self._limits.charge, caller))
        raise UserError("Usage: /feed list | /feed add <url> [name] | /feed remove <feed> | "
                        "/feed import <OPML url or attached file> | /feed export")

    async def _feed_list(self, caller: Caller) -> Reply:
        channel = await self._digests.channel(caller.channel_id)
        feeds = await self._followed(channel)
        if not feeds:
            return Reply(text="This channel follows no feeds yet. Add one with /feed add <url>.")
        lines = [f"This channel follows {len(feeds)} feeds:"]
        for feed in feeds:
            state = ("disabled" if feed.disabled else
                     f"failing ({feed.failures}x): {feed.last_error}" if feed.failures else "ok")
            lines.append(f"• {feed.name} — {feed.url} — {state}")
        return Reply(text="\n".join(lines))

    async def _feed_add(self, caller: Caller, arg: str) -> Reply:
        link, _, name = arg.partition(" ")
        url, picked = await self._pick(await self._admit_link(caller, link))
        before = await self._store.feeds.feed_by_url(url)
        feed = await self._store.feeds.add_feed(
            FeedSpec(url=url, name=name.strip(), interval_s=self._interval_s),
            origin=caller.channel_id)
        outcome = await self._poller.poll_feed(feed)
        if outcome.error and before is None:  # new and unreadable: nothing is added
            await self._store.feeds.remove_feed(feed.id)
            raise UserError("Can't add that feed: "
                            f"{fetch_refusal(url, outcome.error, outcome.unanswered)}.")
        await self._subscribe_feed(caller.channel_id, feed)
        if outcome.error:
            reason = ("it gave no answer just now" if outcome.unanswered
                      else f"its fetch failed just now: {outcome.error}")
            return Reply(text=_noted(picked, f"This channel follows {url}; {reason}. It "
                                     "will be retried with backoff."))
        fresh = await self._store.feeds.feed_by_url(url)
        title = fresh.name if fresh else url
        return Reply(text=_noted(picked, f"Added “{title}” ({outcome.new} stories). "
                                 "This channel follows it."))

    async def _admit_link(self, caller: Caller, link: str) -> str:
        """The link's canonical URL once it passes the guard, the channel's cap and the
        limits (counted here: what follows fetches); else UserError."""
        try:
            check_url(link, self._is_allowed, self._ports)  # before canonical_url drops parts
        except BlockedAddress as error:
            raise UserError(f"Can't add that feed: {error}.") from None
        await self._check_feed_cap(caller.channel_id)
        self._limits.charge(caller)
        return canonical_url(link) or link

    async def _pick(self, url: str) -> tuple[str, str]:
        """pick_feed, except that a stored feed which answered before is taken while down."""
        try:
            return await pick_feed(self._finder, url)
        except FeedUnreachable:
            known = await self._store.feeds.feed_by_url(url)
            if known is None or not known.body_hash:  # never answered: nothing is added
                raise
            return url, ""  # down for now: followed, retried with backoff

    async def _admit(self, caller: Caller, url: str) -> str:
        """One new feed of a chat import: the cap and limits (UserError stops the import),
        then a first fetch that must give a feed."""
        await self._check_feed_cap(caller.channel_id)
        self._limits.charge(caller)
        result = await self._fetcher.fetch(url)
        if result.error:
            return fetch_refusal(url, result.error, result.unanswered)
        if not looks_like_feed(result.body, result.content_type):
            return "it is a web page, not a feed"
        return ""

    async def _check_feed_cap(self, channel_id: str) -> None:
        added = [f for f in await self._store.feeds.active_feeds() if f.origin == channel_id]
        if len(added) >= self._max_feeds:
            raise UserError(f"This channel has added {len(added)} feeds, the most allowed; "
                            "remove one with /feed remove <feed> first.")

    async def subscribe(self, caller: Caller, rest: str) -> Reply:
        """`/subscribe <feed name or url>`: follow a feed the bot already polls."""
        feed = await self._find_feed(rest)
        await self._subscribe_feed(caller.channel_id, feed)
        return Reply(text=f"This channel now follows “{feed.name}”.")

    async def unsubscribe(self, caller: Caller, rest: str) -> Reply:
        """`/unsubscribe <feed>`: stop following; a feed only this channel added stops."""
        feed = await self._find_feed(rest)
        channel = await self._digests.channel(caller.channel_id)
        followed = [f for f in await self._followed(channel) if f.id != feed.id]
        await self._store.channels.set_setting(
            caller.channel_id, "feeds", "\t".join(f.url for f in followed), self._clock())
        if feed.origin == caller.channel_id:
            await self._store.feeds.remove_feed(feed.id)
        return Reply(text=f"This channel no longer follows “{feed.name}”.")

    async def filter(self, caller: Caller, rest: str) -> Reply:
        """`/filter show | set <expr> | clear | test <expr>`."""
        action, _, expr = rest.partition(" ")
        channel = await self._digests.channel(caller.channel_id)
        if action in ("", "show"):
            return Reply(text=f"Filter: {channel.filter}" if channel.filter
                         else "No filter: every story of the followed feeds is eligible.")
        if action == "clear":
            await self._store.channels.set_setting(channel.id, "filter", "", self._clock())
            return Reply(text="Filter cleared.")
        if action in ("set", "test") and expr.strip():
            flt = _parse(expr)
            if action == "test":
                return await self._filter_test(channel, expr)
            await self._store.channels.set_setting(channel.id, "filter", str(flt), self._clock())
            return Reply(text=f"Filter set: {flt}")
        raise UserError(_with_guess(
            "Usage: /filter show | set <expression> | clear | test <expression>",
            "/filter", rest, ("show", "set", "clear", "test"), parse_filter))

    async def _filter_test(self, channel: Channel, expr: str) -> Reply:
        flt = _parse(expr)
        feeds = await self._followed(channel)
        recent = await self._store.articles.recent(
            [f.id for f in feeds], since=self._clock() - TEST_WINDOW, limit=500)
        verdicts = {a.id: flt.matches(a) for a in recent}
        passing = [a for a in recent if verdicts[a.id]]
        failing = [a for a in recent if not verdicts[a.id]][:SHOWN_FAILING]
        lines = [f"Of {len(recent)} stories from the last 24 h, {len(passing)} pass "
                 f"and {len(recent) - len(passing)} don't."]
        lines += [f"✗ {a.title[:80]} — {explain(flt, a)}" for a in failing]
        if passing:
            lines.append("Some that pass:")
        return Reply(text="\n".join(lines), items=tuple(DigestItem(a) for a in passing[:5]))

    async def schedule(self, caller: Caller, rest: str) -> Reply:
        """`/schedule show | set <when> [timezone]`."""
        action, _, when = rest.partition(" ")
        channel = await self._digests.channel(caller.channel_id)
        if action in ("", "show"):
            return Reply(text=_describe_schedule(channel, self._clock()))
        if action != "set" or not when.strip():
            raise UserError(_with_guess(
                "Usage: /schedule set <when> [timezone], e.g. "
                "/schedule set weekdays 07:30 Europe/Berlin", "/schedule", rest,
                ("show", "set"), lambda text: parse_schedule(*_split_zone(text, "UTC"))))
        spec, zone = _split_zone(when.strip(), channel.timezone)
        try:
            parse_schedule(spec, zone)
        except ScheduleError as error:
            raise UserError(f"Schedule not changed: {error}.") from None
        now = self._clock()
        await self._store.channels.set_setting(channel.id, "digest", spec, now)
        await self._store.channels.set_setting(channel.id, "timezone", zone, now)
        return Reply(text=_describe_schedule(await self._digests.channel(channel.id), now))

    async def _followed(self, channel: Channel) -> list[FeedState]:
        feeds = await self._store.feeds.active_feeds()
        ids = set(subscribed_feed_ids(channel, feeds))
        return [f for f in feeds if f.id in ids]

    async def _find_feed(self, name_or_url: str) -> FeedState:
        wanted = name_or_url.strip()
        for feed in await self._store.feeds.active_feeds():
            if wanted in (feed.url, feed.name) or feed.name.casefold() == wanted.casefold():
                return feed
        raise UserError(f"No feed called “{wanted}”. See /feed list.")

    async def _subscribe_feed(self, channel_id: str, feed: FeedState) -> None:
        channel = await self._digests.channel(channel_id)
        followed = await self._followed(channel)
        urls = [f.url for f in followed if f.id != feed.id] + [feed.url]
        await self._store.channels.set_setting(channel_id, "feeds", "\t".join(urls),
                                               self._clock())
        await self._store.channels.set_paused(channel_id, "")  # a moderator is back: resume


def _noted(note: str, text: str) -> str:
    return f"{note} {text}" if note else text


def _parse(expr: str) -> Filter:
    try:
        return parse_filter(expr)
    except FilterError as error:
        raise UserError(str(error)) from None


def _with_guess(usage: str, command: str, rest: str, actions: tuple[str, ...],
                parse: Callable[[str], object]) -> str:
    """The usage, and what the moderator likely meant: a misspelt action ("/filter sett
    Iran") or a missing "set" ("/schedule every 2h")."""
    action, _, tail = rest.partition(" ")
    if not rest.strip() or action in actions:
        return usage  # the action is right, what follows it is missing
    close = difflib.get_close_matches(action, actions, n=1)
    if close and tail.strip():
        return f"{usage}\nDid you mean {command} {close[0]} {tail.strip()}?"
    try:
        parse(rest)
    except (FilterError, ScheduleError, UserError):
        return usage
    return f"{usage}\nDid you mean {command} set {rest}?"


def _split_zone(text: str, default: str) -> tuple[str, str]:
    head, _, last = text.rpartition(" ")
    if head and ("/" in last or last.upper() == "UTC"):
        try:
            load_zone(last)
        except ScheduleError as error:
            raise UserError(f"Schedule not changed: {error}.") from None
        return head, last
    return text, default


def _describe_schedule(channel: Channel, now: datetime) -> str:
    """The channel's schedule and its next digest, in the channel's timezone."""
    upcoming = parse_schedule(channel.digest, channel.timezone).next_after(now)
    when = format_local(upcoming, channel.timezone) if upcoming else "never"
    return f"Digest: {channel.digest} ({channel.timezone}); next: {when}."
