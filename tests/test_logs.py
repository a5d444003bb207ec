"""Logs: JSON lines and text lines carry the feed and channel ids of their context."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import select
from collections.abc import Callable, Iterator

import pytest

from bot.logs import FEED_FAILURE, bind, held_back, log_context, setup_logging

Capture = Callable[[str], io.StringIO]


@pytest.fixture
def capture() -> Iterator[Capture]:
    """Set up logging into a buffer for one format; restore the root logger after."""
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    stream = io.StringIO()

    def configure(fmt: str) -> io.StringIO:
        setup_logging("INFO", fmt, stream)
        return stream

    yield configure
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved:
        root.addHandler(handler)
    root.setLevel(level)


def test_json_lines_carry_context_ids(capture: Capture) -> None:
    """Inside a context, each JSON line has feed_id and channel_id; outside it, neither."""
    stream = capture("json")
    log = logging.getLogger("newsbot.test")
    with log_context(feed_id=7, channel_id="discord:1"):
        log.warning("fetch failed: %s", "timeout")
    log.info("outside")
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["message"] == "fetch failed: timeout" and inside["level"] == "WARNING"
    assert inside["feed_id"] == 7 and inside["channel_id"] == "discord:1"
    assert "feed_id" not in outside and "channel_id" not in outside


def test_text_lines_end_with_the_ids(capture: Capture) -> None:
    """The text format appends [feed=.. channel=..] where they apply."""
    stream = capture("text")
    with log_context(channel_id="telegram:-100"):
        logging.getLogger("newsbot.test").info("sent")
    assert stream.getvalue().rstrip().endswith("sent [channel=telegram:-100]")


def test_exceptions_are_one_json_line(capture: Capture) -> None:
    """A traceback stays inside its JSON line."""
    stream = capture("json")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("newsbot.test").exception("failed")
    [line] = stream.getvalue().splitlines()
    assert "ValueError: boom" in json.loads(line)["exception"]


async def test_bind_stays_inside_its_task(capture: Capture) -> None:
    """bind() in a task tags that task's lines and not the caller's."""
    stream = capture("json")

    async def poll() -> None:
        bind(feed_id=3)
        logging.getLogger("newsbot.test").info("in task")

    await asyncio.create_task(poll())
    logging.getLogger("newsbot.test").info("after")
    task_line, after = (json.loads(line) for line in stream.getvalue().splitlines())
    assert task_line["feed_id"] == 3 and "feed_id" not in after


HOSTILE = "title \x1b]0;pwned\x07\x1b[2J\x9b31m\u202e"


def test_text_lines_escape_control_characters(capture: Capture) -> None:
    """An escape sequence in a message or its args comes out as visible text, and a newline
    in feed text can't start a forged log line."""
    stream = capture("text")
    logging.getLogger("newsbot.test").warning("feed %s\nERROR forged", HOSTILE)
    [line] = stream.getvalue().splitlines()
    assert not any(ch in line for ch in "\x1b\x07\x9b\u202e")
    assert "title \\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202e\\nERROR forged" in line


def test_text_tracebacks_escape_control_characters(capture: Capture) -> None:
    """An exception's text is escaped too; the traceback keeps its lines."""
    stream = capture("text")
    try:
        raise ValueError(HOSTILE)
    except ValueError:
        logging.getLogger("newsbot.test").exception("failed")
    text = stream.getvalue()
    assert not any(ch in text for ch in "\x1b\x07\x9b\u202e")
    assert "ValueError: title \\x1b]0;pwned" in text
    assert "Traceback (most recent call last):\n" in text


def test_json_lines_escape_c1_and_bidi(capture: Capture) -> None:
    """JSON lines hold no raw control or bidi character, and decode to the message."""
    stream = capture("json")
    logging.getLogger("newsbot.test").warning("feed %s", HOSTILE)
    [line] = stream.getvalue().splitlines()
    assert not any(ch in line for ch in "\x1b\x07\x7f\x9b\u202e")
    assert json.loads(line)["message"] == f"feed {HOSTILE}"


def test_held_back_records_stay_off_the_terminal_only() -> None:
    """Feed failures logged while the console channel reports them itself are left off a
    terminal (a real pty), but kept where the log goes to a pipe or a file."""
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    leader, follower = os.openpty()
    terminal = os.fdopen(follower, "w", buffering=1)
    piped = io.StringIO()
    try:
        setup_logging("INFO", "text", terminal)
        root.addHandler(logging.StreamHandler(piped))
        log = logging.getLogger("bot.feeds.poll")
        with held_back(FEED_FAILURE):
            log.warning("feed one failed", extra={FEED_FAILURE: True})
            log.warning("something else")
        log.warning("feed two failed", extra={FEED_FAILURE: True})
        terminal.flush()
        shown = ""
        while select.select([leader], [], [], 0.2)[0]:
            shown += os.read(leader, 65536).decode()
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved:
            root.addHandler(handler)
        root.setLevel(level)
        terminal.close()
        os.close(leader)
    assert "feed one failed" not in shown
    assert "something else" in shown and "feed two failed" in shown
    assert "feed one failed" in piped.getvalue()
