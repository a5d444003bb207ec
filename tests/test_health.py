"""Health: heartbeat, stalls, `status --check`, /status; a clean stop on SIGTERM."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import open_core
from bot.chat.request import Caller
from bot.config import load_config
from bot.liveness import liveness
from bot.monitor import Monitor
from bot.store.runtime import Heartbeat
from bot.store.store import Location
from tests.fakes.feed_server import FeedServer, Script
from tests.postgres import database_setting
from tests.test_cli import newsbot

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
MODERATOR = Caller(channel_id="console", user_id="console", is_moderator=True)


def beat(started: timedelta, heartbeat: timedelta, poll: timedelta | None,
         digest: timedelta | None, stopped: bool = False) -> Heartbeat:
    """A heartbeat row with each time given as 'this long ago'."""
    return Heartbeat(pid=1, started=NOW - started, heartbeat=NOW - heartbeat,
                     last_poll=NOW - poll if poll is not None else None,
                     last_digest=NOW - digest if digest is not None else None,
                     stopped=NOW if stopped else None)


@pytest.mark.parametrize(("row", "healthy", "reason"), [
    (None, False, "never run"),
    (beat(60 * MIN, MIN, MIN, MIN, stopped=True), False, "stopped at"),
    (beat(60 * MIN, 5 * MIN, MIN, MIN), False, "no heartbeat for 5 min"),
    (beat(60 * MIN, MIN, 30 * MIN, MIN), False, "poller stalled: no round finished for 30 min"),
    (beat(60 * MIN, MIN, MIN, None), False, "delivery loop stalled"),
    (beat(2 * MIN, MIN, None, None), True, ""),
    (beat(60 * MIN, MIN, MIN, MIN), True, ""),
])
def test_liveness_from_the_heartbeat(row: Heartbeat | None, healthy: bool, reason: str) -> None:
    """Not running, stopped, silent, stalled or healthy, each with its reason."""
    judged = liveness(row, NOW)
    assert judged.healthy is healthy and reason in judged.reason


async def test_stall_is_logged_once_and_shown_in_status(
        write_config: Callable[[str], Path], caplog: pytest.LogCaptureFixture,
        database: Location) -> None:
    """A poller with no round for 15 min is logged once (not every beat) and /status says so,
    on each engine."""
    path = write_config(database_setting(database) + '[[channels]]\nid = "console"\n')
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    moments = [now - 15 * MIN]
    async with open_core(load_config(path, environ={}), clock=lambda: moments[-1]) as core:
        monitor = Monitor(core.store, core.poller, core.digests, core.metrics, core.clock,
                          timedelta(days=90))
        await monitor.start(pid=1)
        await monitor.digest_round()
        moments.append(now)
        await monitor.digest_round()
        with caplog.at_level(logging.WARNING, logger="bot.monitor"):
            await monitor.beat()
            await monitor.beat()
        status = await core.commands.run(MODERATOR, "status", "")
    stalls = [r for r in caplog.records if "poller stalled" in r.getMessage()]
    assert len(stalls) == 1
    assert "poller stalled: no round finished for 15 min" in status.text


@pytest.mark.slow
async def test_status_names_feed_states(write_config: Callable[[str], Path],
                                        feed_server: FeedServer, database: Location) -> None:
    """/status counts feeds ok and backing off and gives the failing one's reason, on each
    engine."""
    feed_server.script("down.xml", Script(status=503))
    path = write_config(database_setting(database) + f'[fetch]\nallow_private_addresses = true\n'
                        f'[[feeds]]\nurl = "{feed_server.url("world_news.xml")}"\n'
                        f'[[feeds]]\nurl = "{feed_server.url("down.xml")}"\nname = "Down"\n'
                        '[[channels]]\nid = "console"\n')
    async with open_core(load_config(path, environ={})) as core:
        await core.poller.poll_due()
        status = await core.commands.run(MODERATOR, "status", "")
    assert "2 feeds (1 ok, 1 backing off, 0 disabled)" in status.text
    assert "• Down: backing off (1x, next try " in status.text
    assert "Not running: the bot has never run on this database." in status.text


@pytest.mark.slow
def test_check_follows_the_running_bot(write_config: Callable[[str], Path],
                                       feed_server: FeedServer, database: Location) -> None:
    """`status --check` fails before the bot runs, passes while it runs, and fails after a
    SIGTERM, which the bot answers by stopping cleanly (exit 0, stop recorded); on each
    engine."""
    config = write_config(database_setting(database)
                          + f'[fetch]\nallow_private_addresses = true\n'
                          f'[[feeds]]\nurl = "{feed_server.url("world_news.xml")}"\n'
                          '[[channels]]\nid = "console"\n')
    before = newsbot(config, "status", "--check")
    assert before.returncode == 1 and "never run" in before.stderr
    proc = subprocess.Popen([sys.executable, "-m", "bot", "-c", str(config), "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    for line in proc.stdout:  # until the digest's title (or the end: then the asserts tell)
        if "News digest" in line:
            break
    during = newsbot(config, "status", "--check")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    after = newsbot(config, "status", "--check")
    assert during.returncode == 0 and during.stdout.strip() == "healthy", during.stderr
    assert proc.returncode == 0 and "Traceback" not in err
    assert after.returncode == 1 and "the bot stopped at" in after.stderr
