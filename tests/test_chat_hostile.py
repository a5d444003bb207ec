"""Every chat command, with hostile arguments, answers with a reply and never an error:
no "Sorry, something went wrong", nothing logged as a failure (as the console adapter,
Discord and Telegram all call it)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.app import Core, open_core
from bot.chat.commands import MODERATION_PER_MINUTE
from bot.chat.request import Caller
from bot.config import load_config

MODERATOR = Caller(channel_id="console", user_id="console", is_moderator=True)
READER = Caller(channel_id="discord:1", user_id="discord:9", is_moderator=False)
COMMANDS = ("help", "start", "latest", "search", "related", "why", "digest", "status",
            "feed", "feed add", "feed remove", "feed list", "feed import", "feed export",
            "feed frobnicate", "filter", "filter show", "filter set", "filter clear",
            "filter test", "schedule", "subscribe", "unsubscribe", "publish", "publish on",
            "publish off", "publish new", "nosuchcommand")
ARGUMENTS = ("", "   ", "x" * 5000, "\x1b]0;pwned\x07\x1b[2J", "\u202egnp.exe", "-1", "0",
             "99999999999999999999999999", "((", ")", '"', "'", "\\", "%s%n{0}", "a\x00b",
             "😀" * 300, "ftp://a.example/feed", "http://", "not a url",
             "https://user:pw@127.0.0.1/feed", "tag: lang:zz or", "/regex(/", "@everyone")


@pytest.fixture
async def core(write_config: Callable[[str], Path]) -> AsyncIterator[Core]:
    """The real core on a fresh database, with the console channel and one Discord channel."""
    path = write_config('[[channels]]\nid = "console"\n[[channels]]\nid = "discord:1"\n')
    async with open_core(load_config(path, environ={})) as core:
        yield core


@pytest.mark.parametrize("caller", [MODERATOR, READER], ids=["moderator", "reader"])
@pytest.mark.parametrize("command", COMMANDS)
async def test_hostile_arguments_get_a_reply_not_an_error(
        core: Core, caplog: pytest.LogCaptureFixture, command: str, caller: Caller) -> None:
    """Each hostile argument to this command gets a non-empty reply; none is the apology for
    an unexpected error and nothing is logged as one."""
    with caplog.at_level(logging.ERROR):
        for argument in ARGUMENTS:
            reply = await core.commands.handle(caller, f"/{command} {argument}")
            assert (reply.text or reply.items or reply.file), (command, argument)
            assert "something went wrong" not in (reply.text or ""), (command, argument)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_moderator_commands_are_rate_limited_per_user(core: Core) -> None:
    """A moderator (in a private chat: anyone) sending moderator commands in a burst is
    told to slow down once past the per-minute limit; another user is not affected."""
    burst = [await core.commands.handle(MODERATOR, "/filter show")
             for _ in range(MODERATION_PER_MINUTE + 1)]
    assert not any(r.text.startswith("Slow down") for r in burst[:-1])
    assert burst[-1].text.startswith("Slow down: you can ask again in")
    other = Caller(channel_id="console", user_id="someone else", is_moderator=True)
    assert not (await core.commands.handle(other, "/filter show")).text.startswith("Slow down")
