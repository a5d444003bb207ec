"""The CLI's output can't steer the operator's terminal: hostile feed titles and HTTP reason
phrases come out of `newsbot fetch` and `newsbot status` escaped, and rich markup in them shows
literally."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.fakes.feed_server import FeedServer
from tests.fakes.raw_http import RawServer, response

pytestmark = pytest.mark.slow  # every test starts `newsbot` as a process

HOSTILE_TITLE = "Evil \x1b]0;pwned\x07 \x1b[2J [red]boom[/red] \u202egnp.exe \x9b31m"
# aiohttp reads a reason phrase as latin-1: \xc2\x9b arrives as "Â\x9b", an 8-bit CSI.
HOSTILE_STATUS = "503 Busy \x1b]0;pwned\x07\x1b[2J\u009b31m"
TERMINAL_BYTES = ("\x1b", "\x07", "\x9b", "\u202e")


def _json_feed(title: str) -> bytes:
    """A one-item JSON feed with this title (JSON carries any control character)."""
    item = {"id": "1", "url": "http://example.org/1", "title": title, "content_text": "x"}
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": title,
                       "items": [item]}).encode()


async def _newsbot(config: Path, *args: str) -> tuple[int, str, str]:
    """Run `newsbot -c CONFIG ARGS...` without blocking the loop the raw server runs in."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "-c", str(config), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "300"})
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


@pytest.fixture
async def hostile(feed_server: FeedServer,
                  write_config: Callable[[str], Path]) -> AsyncIterator[Path]:
    """A config with a feed titled with escape sequences and rich markup, and a feed that
    fails with a hostile reason phrase (served while the test runs)."""
    feed_server.bodies["evil.json"] = _json_feed(HOSTILE_TITLE)
    async with RawServer([(0, response(b"no", status=HOSTILE_STATUS))]) as raw:
        yield write_config(
            '[fetch]\nallow_private_addresses = true\ntimeout = "5s"\n'
            f'[[feeds]]\nurl = "{feed_server.url("evil.json")}"\n'
            f'[[feeds]]\nurl = "{raw.url()}"\n[[channels]]\nid = "console"\n')


def _assert_inert(out: str, err: str) -> None:
    """No byte a terminal acts on, no traceback; the escape sequence shows as text."""
    assert all(ch not in out + err for ch in TERMINAL_BYTES), (out, err)
    assert "Traceback" not in err
    assert "\\x1b]0;pwned\\x07" in out
    assert "[red]boom[/red]" in out


async def test_fetch_shows_hostile_text_escaped(hostile: Path) -> None:
    """`newsbot fetch` writes no ESC, BEL, C1 or bidi control (they show as \\x1b, \\u202e);
    rich markup in a feed title shows literally; the failing feed's reason is escaped too."""
    code, out, err = await _newsbot(hostile, "fetch")
    assert code == 1, err
    _assert_inert(out, err)
    assert "HTTP 503 Busy \\x1b]0;pwned\\x07\\x1b[2J" in out


async def test_status_shows_hostile_text_escaped(hostile: Path) -> None:
    """`newsbot status` shows a hostile feed title and last error escaped, markup literal."""
    await _newsbot(hostile, "fetch")
    code, out, err = await _newsbot(hostile, "status")
    assert code == 0, err
    _assert_inert(out, err)
    assert "\\x1b[2J" in out
