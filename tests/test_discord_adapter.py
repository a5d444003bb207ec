"""The Discord adapter against the loopback fake: commands, moderation, digests, failures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import Core, open_core
from bot.chat.adapter import PlatformError
from bot.chat.discord.adapter import DiscordAdapter
from bot.config import load_config
from bot.digest.service import REFUSED_ROUNDS
from bot.records import utc_now
from tests.conftest import FIXTURES, wait_until
from tests.fakes.discord_gateway import HEARTBEAT
from tests.fakes.discord_permissions import EMBED_LINKS, MANAGE_CHANNELS, MANAGE_GUILD, VIEW_CHANNEL
from tests.fakes.discord_records import EPHEMERAL, LOADING, InteractionCallback, StoredMessage
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.discord_world import FORUM, Channel, Guild, Member
from tests.fakes.feed_server import FeedServer, Script

pytestmark = pytest.mark.slow  # drives the fake Discord end to end (a core per test)

FEEDS = ("world_news.xml", "atom.xml", "rss_windows1251.xml")
MODERATOR_COMMANDS = {"feed", "filter", "schedule", "subscribe", "unsubscribe", "publish"}
PUBLIC_COMMANDS = {"latest", "search", "related", "why", "digest", "status", "help"}


@dataclass
class Rig:
    """A fake Discord guild, the bot's core on a real store, and the connected adapter."""

    fake: FakeDiscord
    guild: Guild
    news: Channel
    forum: Channel
    moderator: Member
    reader: Member
    core: Core
    adapter: DiscordAdapter

    @property
    def channel_id(self) -> str:
        """The news channel's newsbot id."""
        return f"discord:{self.news.id}"

    async def slash(self, user: Member, name: str, options: dict[str, object] | None = None,
                    *, sub: tuple[str, ...] = (), channel: Channel | None = None,
                    check_permissions: bool = True) -> InteractionCallback:
        """Invoke a slash command and return the bot's first response."""
        sent = await self.fake.invoke_slash(
            self.guild.id, (channel or self.news).id, user.user.id, name, options,
            subcommand=sub, check_permissions=check_permissions)
        return await sent.wait_response()

    def replies(self, callback: InteractionCallback) -> list[StoredMessage]:
        """Live, filled-in messages answering this interaction (the original and follow-ups)."""
        return [m for m in self.fake.messages if m.interaction_id == callback.interaction_id
                and not m.deleted and not m.flags & LOADING]


def config_text(fake: FakeDiscord, feeds: FeedServer, channel: Channel) -> str:
    """A config pointing at the fake Discord, with the fixture feeds and one channel."""
    feed_lines = "".join(f'[[feeds]]\nurl = "{feeds.url(name)}"\n' for name in FEEDS)
    return (f'[discord]\napi_base_url = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n'
            "[fetch]\nallow_private_addresses = true\n" + feed_lines +
            f'[[channels]]\nid = "discord:{channel.id}"\nmax_items = 25\n')


@asynccontextmanager
async def running_rig(feeds: FeedServer, write: Callable[[str], Path],
                      defer_after_s: float = 0.3) -> AsyncIterator[Rig]:
    """Fake, core with polled feeds, and the adapter registered as a digest sender."""
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Newsroom")
        news = fake.add_channel(guild.id, "news")
        forum = fake.add_channel(guild.id, "digests", FORUM)
        moderator = fake.add_member(guild.id, "mod", permissions=MANAGE_GUILD)
        reader = fake.add_member(guild.id, "reader")
        config = load_config(write(config_text(fake, feeds, news)), {})
        assert config.model.discord is not None
        async with open_core(config) as core:
            await core.poller.poll_due()
            async with DiscordAdapter(config.model.discord, fake.token, core.commands,
                                      utc_now, defer_after_s=defer_after_s,
                                      guild_ready_timeout=0.05) as adapter:
                core.digests.add_sender(adapter)
                yield Rig(fake, guild, news, forum, moderator, reader, core, adapter)


@pytest.fixture
async def rig(feed_server: FeedServer, write_config: Callable[[str], Path]
              ) -> AsyncIterator[Rig]:
    """A connected rig answering within its normal deferral window."""
    async with running_rig(feed_server, write_config) as connected:
        yield connected


async def test_connects_and_syncs_every_command(rig: Rig) -> None:
    """Entering logs in and syncs the commands; moderator ones need Manage Server."""
    synced = {c["name"]: c for c in rig.fake.commands()}
    assert set(synced) == PUBLIC_COMMANDS | MODERATOR_COMMANDS
    for name in MODERATOR_COMMANDS:
        assert int(synced[name]["default_member_permissions"]) == MANAGE_GUILD
    for name in PUBLIC_COMMANDS:
        assert synced[name]["default_member_permissions"] is None
    assert rig.fake.identifies == 1
    assert rig.fake.unknown_routes == []


async def test_bad_token_is_a_platform_error(tmp_path: Path) -> None:
    """A token the API refuses gives PlatformError naming the login failure."""
    async with FakeDiscord() as fake:
        config = load_config(_write(tmp_path, f'[discord]\napi_base_url = "{fake.api_base}"\n'
                                               f'gateway_url = "{fake.gateway_url}"\n'), {})
        assert config.model.discord is not None
        async with open_core(config) as core:
            adapter = DiscordAdapter(config.model.discord, "wrong-token", core.commands,
                                     utc_now, guild_ready_timeout=0.05)
            with pytest.raises(PlatformError, match="discord: login failed"):
                await adapter.__aenter__()


def _write(folder: Path, text: str) -> Path:
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def test_search_answers_with_story_embeds(rig: Rig) -> None:
    """/search answers publicly with one embed per matching story."""
    callback = await rig.slash(rig.reader, "search", {"words": "tariffs"})
    await rig.fake.wait_for(lambda: bool(rig.replies(callback)))
    [reply] = rig.replies(callback)
    assert not reply.ephemeral
    assert "Japan and South Korea" in reply.embeds[0]["title"]
    assert reply.allowed_mentions == {"parse": []}


async def test_related_answers_with_stories(rig: Rig) -> None:
    """/related with a few words answers with related stories, not an error."""
    callback = await rig.slash(rig.reader, "related", {"query": "semiconductor tariffs"})
    await rig.fake.wait_for(lambda: bool(rig.replies(callback)))
    reply = rig.replies(callback)[0]
    assert not reply.ephemeral
    assert reply.embeds, reply.content


async def test_feed_add_refused_for_member_bypassing_default_permissions(rig: Rig) -> None:
    """A member without Manage Server is refused ephemerally, even if the command is shown."""
    callback = await rig.slash(rig.reader, "feed", {"url": "http://127.0.0.1/x.xml"},
                               sub=("add",), check_permissions=False)
    assert callback.type == 4
    assert callback.flags & EPHEMERAL
    assert callback.content == "/feed is for moderators only."


async def test_feed_add_accepted_for_moderator(rig: Rig, feed_server: FeedServer) -> None:
    """A moderator's /feed add subscribes the channel and says how many stories came."""
    url = feed_server.url("tech_news.atom")
    callback = await rig.slash(rig.moderator, "feed", {"url": url, "name": "Tech"},
                               sub=("add",))
    await rig.fake.wait_for(lambda: bool(rig.replies(callback)))
    [reply] = rig.replies(callback)
    assert reply.content.startswith("Added"), reply.content
    channel = await rig.core.digests.channel(rig.channel_id)
    assert url in channel.feeds


async def test_manage_channels_is_enough_to_moderate(rig: Rig) -> None:
    """Manage Channels in the channel also makes a moderator (checked at run time)."""
    editor = rig.fake.add_member(rig.guild.id, "editor", permissions=MANAGE_CHANNELS)
    callback = await rig.slash(editor, "filter", sub=("show",), check_permissions=False)
    assert callback.content is not None and callback.content.startswith("No filter")


async def test_feed_add_names_missing_bot_permissions(rig: Rig) -> None:
    """Without Embed Links the bot says what it lacks instead of subscribing."""
    rig.fake.set_overwrite(rig.news.id, rig.fake.bot.id, deny=EMBED_LINKS, member=True)
    callback = await rig.slash(rig.moderator, "subscribe", {"feed": "Example World News"})
    assert callback.flags & EPHEMERAL
    assert callback.content is not None and "Embed Links" in callback.content
    channel = await rig.core.digests.channel(rig.channel_id)
    assert channel.feeds == ("*",)


async def test_slow_feed_add_defers_then_follows_up(rig: Rig, feed_server: FeedServer) -> None:
    """A /feed add whose fetch is slow shows 'thinking', then the answer fills it in."""
    body = (FIXTURES / "world_news.xml").read_bytes()
    feed_server.script("slow.xml", Script(body=body, delay_s=0.8))
    callback = await rig.slash(rig.moderator, "feed", {"url": feed_server.url("slow.xml")},
                               sub=("add",))
    assert callback.type == 5
    await rig.fake.wait_for(lambda: bool(rig.replies(callback)))
    [reply] = rig.replies(callback)
    assert reply.content.startswith("Added") and not reply.ephemeral


async def test_slow_digest_command_answers_privately(rig: Rig) -> None:
    """/digest waits out a 429 while posting, then tells only the caller it is done."""
    rig.fake.fail_next("POST /channels/*/messages", 429, retry_after=0.6)
    callback = await rig.slash(rig.reader, "digest")
    assert callback.type == 5 and callback.flags & EPHEMERAL
    await rig.fake.wait_for(lambda: bool(rig.replies(callback)))
    [reply] = rig.replies(callback)
    assert reply.ephemeral and reply.content == "Posted a digest of 25 stories."
    assert sum(len(m.embeds) for m in rig.fake.channel_messages(rig.news.id)) == 25


async def test_timezone_autocomplete(rig: Rig) -> None:
    """/schedule set suggests at most 25 time zones starting with what was typed."""
    choices = await rig.fake.autocomplete(rig.guild.id, rig.news.id, rig.moderator.user.id,
                                          "schedule", {"when": "daily 08:00",
                                                       "timezone": "Europe/Be"},
                                          "timezone", subcommand=("set",))
    values = [c["value"] for c in choices]
    assert values[:2] == ["Europe/Belfast", "Europe/Belgrade"]
    assert "Europe/Berlin" in values and len(values) <= 25


async def test_digest_of_25_stories_posts_within_limits(rig: Rig) -> None:
    """25 stories go out as messages of at most 10 embeds, each one marked sent."""
    digest = await rig.core.digests.post_now(rig.channel_id)
    assert len(digest.items) == 25
    messages = rig.fake.channel_messages(rig.news.id)
    assert [len(m.embeds) for m in messages] == [10, 10, 5]
    assert all(m.nonce and m.allowed_mentions == {"parse": []} for m in messages)
    assert len({m.nonce for m in messages}) == len(messages)
    assert await rig.core.store.deliveries.pending() == []


async def test_rate_limited_post_is_waited_out_once(rig: Rig) -> None:
    """A 429 on a post is waited out; every story is delivered exactly once."""
    rig.fake.fail_next("POST /channels/*/messages", 429, retry_after=0.2)
    await rig.core.digests.post_now(rig.channel_id)
    messages = rig.fake.channel_messages(rig.news.id)
    titles = [e["title"] for m in messages for e in m.embeds]
    assert len(titles) == 25 == len(set(titles))
    assert [r.status for r in rig.fake.requests if r.method == "POST"
            and r.path.endswith("/messages")][:2] == [429, 200]
    assert await rig.core.store.deliveries.pending() == []


async def test_retried_digest_is_not_posted_twice(rig: Rig) -> None:
    """Sending the same digest again repeats each message's nonce, so nothing is duplicated."""
    channel = await rig.core.digests.channel(rig.channel_id)
    digest = await rig.core.digests.compose(channel, utc_now())
    marked: list[tuple[tuple[int, ...], str]] = []

    async def sent(indices: Sequence[int], message_id: str) -> None:
        marked.append((tuple(indices), message_id))

    await rig.adapter.send_digest(rig.channel_id, digest, sent)
    await rig.adapter.send_digest(rig.channel_id, digest, sent)
    assert len(rig.fake.channel_messages(rig.news.id)) == 3
    assert marked[:3] == marked[3:]
    assert [i for indices, _ in marked[:3] for i in indices] == list(range(25))


def message_posts(rig: Rig) -> list[int]:
    """The HTTP status of each message the bot tried to post, in order."""
    return [r.status for r in rig.fake.requests
            if r.method == "POST" and r.path.endswith("/messages")]


async def test_refused_message_is_delivered_as_plain_text(rig: Rig) -> None:
    """A message Discord refuses with 50035 Invalid Form Body is posted once more as plain
    content without embeds: its stories' titles and links, marked sent, nothing failed."""
    channel = await rig.core.digests.channel(rig.channel_id)
    digest = await rig.core.digests.compose(channel, utc_now())
    urls = [item.article.url for item in digest.items]
    rig.fake.refuse_messages_containing(urls[0])
    await rig.core.digests.post_now(rig.channel_id)
    plain, *rest = rig.fake.channel_messages(rig.news.id)
    assert message_posts(rig) == [400, 200, 200, 200]
    assert plain.embeds == [] and plain.allowed_mentions == {"parse": []}
    assert all(f"<{url}>" in plain.content for url in urls[:10])
    assert [len(m.embeds) for m in rest] == [10, 5]
    assert await rig.core.store.deliveries.pending() == []
    assert await rig.core.store.deliveries.failed_counts() == {}


async def test_message_refused_even_as_plain_text_fails_with_one_notice(rig: Rig) -> None:
    """A message refused with embeds and as plain content is tried REFUSED_ROUNDS rounds;
    then the digest fails, is not tried again, and one notice in the channel says why."""
    channel = await rig.core.digests.channel(rig.channel_id)
    digest = await rig.core.digests.compose(channel, utc_now())
    rig.fake.refuse_messages_containing(digest.items[0].article.url, plain_too=True)
    await rig.core.digests.post_now(rig.channel_id)
    for _ in range(REFUSED_ROUNDS + 1):
        await rig.core.digests.deliver_pending()
    [notice] = rig.fake.channel_messages(rig.news.id)
    assert message_posts(rig) == [400, 400] * REFUSED_ROUNDS + [200]
    assert notice.content.startswith("**A digest message could not be posted here: Discord: "
                                     "400 Invalid Form Body In content: Must be 2000 or fewer "
                                     "in length. Its stories were skipped")
    assert await rig.core.store.deliveries.pending() == []
    assert await rig.core.store.deliveries.failed_counts() == {rig.channel_id: 1}


async def test_refused_forum_post_is_posted_as_plain_text(rig: Rig) -> None:
    """A forum post Discord refuses is created once more with plain content."""
    forum_id = f"discord:{rig.forum.id}"
    await rig.core.store.channels.set_setting(forum_id, "max_items", 3, utc_now())
    channel = await rig.core.digests.channel(forum_id)
    digest = await rig.core.digests.compose(channel, utc_now())
    rig.fake.refuse_messages_containing(digest.items[0].article.url)
    await rig.core.digests.post_now(forum_id)
    [post] = [m for m in rig.fake.messages if m.source == "forum_post"]
    assert post.embeds == [] and f"<{digest.items[0].article.url}>" in post.content
    assert await rig.core.store.deliveries.pending() == []


async def test_forbidden_channel_is_paused(rig: Rig) -> None:
    """A channel the bot can no longer see is paused with Discord's reason."""
    rig.fake.set_overwrite(rig.news.id, rig.fake.bot.id, deny=VIEW_CHANNEL, member=True)
    await rig.core.digests.post_now(rig.channel_id)
    reason = await rig.core.store.channels.paused_reason(rig.channel_id)
    assert "403" in reason
    assert rig.fake.channel_messages(rig.news.id) == []


async def test_moderators_are_told_where_the_bot_still_can_post(rig: Rig) -> None:
    """Losing a channel is announced once in another channel of the server, one the client
    learnt of from the gateway after it connected."""
    general = rig.fake.add_channel(rig.guild.id, "general")
    await rig.fake.announce_channel(general.id, "CHANNEL_CREATE")
    # discord.py reads gateway frames in order: once it answers a heartbeat request sent
    # after CHANNEL_CREATE, it has taken the new channel into its cache.
    beats = rig.fake.gateway.heartbeats
    await rig.fake.gateway.send_op(HEARTBEAT)
    await wait_until(lambda: rig.fake.gateway.heartbeats > beats)
    rig.fake.set_overwrite(rig.news.id, rig.fake.bot.id, deny=VIEW_CHANNEL, member=True)
    await rig.core.digests.post_now(rig.channel_id)
    [notice] = rig.fake.channel_messages(general.id)
    assert notice.content.startswith(f"I can no longer post news digests in <#{rig.news.id}>")
    assert notice.allowed_mentions == {"parse": []}


async def test_forum_gets_one_post_per_digest(rig: Rig) -> None:
    """A forum channel receives the digest as one post titled with the digest's title."""
    forum_id = f"discord:{rig.forum.id}"
    await rig.core.store.channels.set_setting(forum_id, "max_items", 12, utc_now())
    digest = await rig.core.digests.post_now(forum_id)
    posts = [m for m in rig.fake.messages if m.source == "forum_post"]
    assert len(posts) == 1
    thread = rig.fake.state.find_channel(posts[0].channel_id)
    assert thread is not None and thread[1].name == digest.title
    embeds = sum(len(m.embeds) for m in rig.fake.channel_messages(posts[0].channel_id))
    assert embeds == len(digest.items)
    assert await rig.core.store.deliveries.pending() == []


async def test_thread_receives_digest(rig: Rig) -> None:
    """A thread is a channel like any other: the digest lands inside it."""
    thread = rig.fake.add_thread(rig.news.id, "morning")
    await rig.core.digests.post_now(f"discord:{thread.id}")
    assert rig.fake.channel_messages(thread.id)


async def test_dropped_gateway_resumes_and_commands_still_work(rig: Rig) -> None:
    """After the gateway drops, the session resumes and /help is still answered."""
    await rig.fake.drop_gateway()
    await rig.fake.wait_for_gateway(resumes=1)
    callback = await rig.slash(rig.reader, "help")
    assert callback.flags & EPHEMERAL
    assert callback.content is not None and "/search" in callback.content
    assert rig.fake.identifies == 1
