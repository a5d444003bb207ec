"""`newsbot run` killed with SIGKILL mid-poll and mid-delivery; a second run on one database."""

from __future__ import annotations

import array
import fcntl
import os
import signal
import sqlite3
import subprocess
import sys
import termios
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import wait_until_blocking as _wait_for
from tests.fakes.feed_server import FeedServer, Script

pytestmark = pytest.mark.slow  # starts and kills `newsbot run`

FEEDS = ["world_news.xml", "tech_news.atom", "jsonfeed.json", "slow.xml", "big.xml"]
PIPE_BYTES = 4096  # the smallest pipe Linux gives: a long digest blocks on it


def _feed(name: str, count: int) -> bytes:
    items = "".join(
        f"<item><title>{name} story {i}</title><link>https://{name}.example/{i}</link>"
        f"<description>{f'Sentence {i} of a long report on events. ' * 12}</description></item>"
        for i in range(count))
    return f'<rss version="2.0"><channel><title>{name}</title>{items}</channel></rss>'.encode()


@pytest.fixture
def config(feed_server: FeedServer, write_config: Callable[[str], Path]) -> Path:
    """Five loopback feeds (one slow at first; 42 stories) and the console channel."""
    feed_server.bodies["big.xml"] = _feed("big", 30)
    feed_server.script("slow.xml", Script(body=_feed("slow", 3), delay_s=8))
    feeds = "".join(f'[[feeds]]\nurl = "{feed_server.url(name)}"\n' for name in FEEDS)
    return write_config('[fetch]\nallow_private_addresses = true\ntimeout = "60s"\n' + feeds
                        + '[[channels]]\nid = "console"\ndigest = "daily 08:00"\n'
                          "max_items = 50\n")


def _start(config: Path, stdout: int | None = subprocess.PIPE) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "bot", "-c", str(config), "run"],
                            stdout=stdout, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)


def _query(config: Path, sql: str) -> int:
    try:
        with sqlite3.connect(config.parent / "newsbot.db", timeout=5) as db:
            row = db.execute(sql).fetchone()
    except sqlite3.OperationalError:  # not created or migrated yet
        return 0
    return int(row[0]) if row else 0


def _pipe_bytes(fd: int) -> int:
    """How many bytes wait unread in a pipe."""
    buffer = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, buffer)
    return buffer[0]


def _read_all(fd: int) -> bytes:
    os.set_blocking(fd, False)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


def _lead_urls(output: str) -> Counter[str]:
    """The stories a console digest showed as items: each item ends with its URL line."""
    return Counter(line.strip() for line in output.splitlines()
                   if line.startswith("   http") and " " not in line.strip())


def test_sigkill_mid_poll_and_mid_delivery_loses_and_repeats_nothing(
        config: Path, feed_server: FeedServer) -> None:
    """Killed while a feed is still loading, then while a digest is being written: after a
    restart every story was posted, none twice beyond the one message in flight, and the
    database is intact."""
    polling = _start(config)
    _wait_for(lambda: _query(config, "SELECT COUNT(*) FROM articles") > 0)
    polling.send_signal(signal.SIGKILL)  # the slow feed was still being fetched
    first_out = polling.communicate(timeout=10)[0].decode()

    feed_server.scripts["slow.xml"].delay_s = 0
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    delivering = _start(config, stdout=write_end)
    os.close(write_end)
    _wait_for(lambda: _query(config, "SELECT COUNT(*) FROM digests WHERE done IS NULL") > 0)
    _wait_for(lambda: _pipe_bytes(read_end) >= PIPE_BYTES)  # the digest fills the pipe
    delivering.send_signal(signal.SIGKILL)
    delivering.wait(10)
    in_flight = _read_all(read_end).decode(errors="replace")
    assert _query(config, "SELECT COUNT(*) FROM digests WHERE done IS NULL") == 1

    final = _start(config)
    _wait_for(lambda: _query(config, "SELECT COUNT(*) FROM digests WHERE done IS NULL") == 0)
    final.send_signal(signal.SIGTERM)
    final_out, _ = final.communicate(timeout=30)

    shown = _lead_urls(first_out) + _lead_urls(in_flight) + _lead_urls(final_out.decode())
    repeated = {url for url, n in shown.items() if n > 1}
    assert repeated <= set(_lead_urls(in_flight)), "only the message in flight may repeat"
    assert all(n <= 2 for n in shown.values())
    assert _query(config, "SELECT COUNT(*) FROM articles") == 42
    assert _query(config, "SELECT COUNT(*) FROM articles a WHERE NOT EXISTS (SELECT 1 FROM "
                          "deliveries d WHERE d.article_id = a.id AND d.sent IS NOT NULL)") == 0
    with sqlite3.connect(config.parent / "newsbot.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_second_run_on_the_same_database_refuses_to_start(config: Path,
                                                          feed_server: FeedServer) -> None:
    """While one `newsbot run` lives, a second one exits at once saying why; reading works."""
    feed_server.scripts["slow.xml"].delay_s = 0
    first = _start(config)
    try:
        _wait_for(lambda: _query(config, "SELECT COUNT(*) FROM articles") > 0)
        second = subprocess.run([sys.executable, "-m", "bot", "-c", str(config), "run"],
                                capture_output=True, text=True, timeout=60, check=False)
        search = subprocess.run([sys.executable, "-m", "bot", "-c", str(config), "search",
                                 "tariffs"], capture_output=True, text=True, timeout=60,
                                check=False)
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=30)
    assert second.returncode == 2
    assert "is in use by another `newsbot run` (pid " in second.stderr
    assert search.returncode == 0 and "tariffs" in search.stdout.lower()
    again = _start(config)  # the lock went with the first process
    try:
        _wait_for(lambda: _query(config, "SELECT COUNT(*) FROM digests") > 1)
    finally:
        again.send_signal(signal.SIGTERM)
        again.communicate(timeout=30)
    assert again.returncode == 0
