"""Logging: text or JSON lines, each carrying the feed and channel ids of its context."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TextIO

from bot.terminal import escape_json, escape_terminal

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]

FEED_ID: ContextVar[int | None] = ContextVar("feed_id", default=None)
CHANNEL_ID: ContextVar[str | None] = ContextVar("channel_id", default=None)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(context)s"
FEED_FAILURE = "feed_failure"  # extra={FEED_FAILURE: True}: a feed's poll failed


def bind(*, feed_id: int | None = None, channel_id: str | None = None) -> None:
    """Tag every later log line of this task (tasks copy the context: no leaks out)."""
    if feed_id is not None:
        FEED_ID.set(feed_id)
    if channel_id is not None:
        CHANNEL_ID.set(channel_id)


@contextmanager
def log_context(*, feed_id: int | None = None, channel_id: str | None = None) -> Iterator[None]:
    """Tag the log lines written inside the block."""
    feed = FEED_ID.set(feed_id) if feed_id is not None else None
    channel = CHANNEL_ID.set(channel_id) if channel_id is not None else None
    try:
        yield
    finally:
        if channel is not None:
            CHANNEL_ID.reset(channel)
        if feed is not None:
            FEED_ID.reset(feed)


class ContextFilter(logging.Filter):
    """Copies the context's ids onto each record (`feed_id`, `channel_id`, `context`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate, never drop."""
        feed_id = getattr(record, "feed_id", None) or FEED_ID.get()
        channel_id = getattr(record, "channel_id", None) or CHANNEL_ID.get()
        record.feed_id, record.channel_id = feed_id, channel_id
        parts = [f"feed={feed_id}" if feed_id is not None else "",
                 f"channel={channel_id}" if channel_id is not None else ""]
        shown = " ".join(p for p in parts if p)
        record.context = f" [{shown}]" if shown else ""
        return True


class TextFormatter(logging.Formatter):
    """TEXT_FORMAT lines whose message and traceback can't steer the terminal.

    The message is one line (a newline in feed text can't forge another record); the
    traceback keeps its newlines. Control characters come out as visible escapes.
    """

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The record's line, escaped."""
        return escape_terminal(super().formatMessage(record))

    def formatException(self, ei: ExcInfo | tuple[None, None, None]) -> str:
        """The traceback, escaped but for its newlines."""
        return escape_terminal(super().formatException(ei), keep_newlines=True)

    def formatStack(self, stack_info: str) -> str:
        """The stack, escaped but for its newlines."""
        return escape_terminal(super().formatStack(stack_info), keep_newlines=True)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, exception.

    json escapes C0 controls; escape_json escapes DEL, C1 and bidi controls as well.
    """

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for key in ("feed_id", "channel_id"):
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return escape_json(json.dumps(line, ensure_ascii=False))


@contextmanager
def held_back(flag: str) -> Iterator[None]:
    """Keep the records marked `flag` (extra={flag: True}) logged inside the block off the
    terminal: the console channel tells the user itself. Logs that go to a file, a pipe or
    a journal keep them."""
    drop = _Unmarked(flag)
    handlers = [h for h in logging.getLogger().handlers if _to_terminal(h)]
    for handler in handlers:
        handler.addFilter(drop)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(drop)


class _Unmarked(logging.Filter):
    """Passes the records that do not carry the flag."""

    def __init__(self, flag: str) -> None:
        super().__init__()
        self._flag = flag

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a marked record."""
        return not getattr(record, self._flag, False)


def _to_terminal(handler: logging.Handler) -> bool:
    stream = getattr(handler, "stream", None)
    try:
        return isinstance(handler, logging.StreamHandler) and bool(stream and stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def setup_logging(level: str, fmt: str, stream: TextIO) -> None:
    """Configure the root logger once, for the whole process (the only global state)."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
