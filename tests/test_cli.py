"""The CLI end to end, as subprocesses against feeds served on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.__main__ import build_parser, limit_math_threads
from bot.store.postgres.url import PostgresUrl
from bot.store.store import Location
from tests.fakes.feed_server import FeedServer
from tests.postgres import client_tools, database_setting

ROOT = Path(__file__).parent.parent
FEEDS = ["world_news.xml", "tech_news.atom", "atom.xml", "jsonfeed.json", "rss091.xml",
         "duplicate_guids.xml", "no_guids.xml", "malformed.xml"]


def newsbot(config: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `newsbot -c CONFIG ARGS...` the way a user does."""
    return subprocess.run([sys.executable, "-m", "bot", "-c", str(config), *args],
                          capture_output=True, text=True, timeout=timeout, check=False,
                          env={**os.environ, "COLUMNS": "200"})


@pytest.fixture
def config(feed_server: FeedServer, write_config: Callable[[str], Path],
           database: Location) -> Path:
    """A config listing the fixture feeds on loopback and a console channel, with its
    database on each engine."""
    feeds = "".join(f'[[feeds]]\nurl = "{feed_server.url(name)}"\n' for name in FEEDS)
    return write_config(
        database_setting(database)
        + '[fetch]\nallow_private_addresses = true\ntimeout = "5s"\n' + feeds
        + '[[channels]]\nid = "console"\ndigest = "daily 08:00"\nmax_items = 5\n')


@pytest.mark.slow
def test_fetch_stores_everything_once(config: Path, feed_server: FeedServer) -> None:
    """`newsbot fetch` stores every entry, reports the broken feed once (not again in the log)
    and exits 1 for it; a second run adds nothing."""
    first = newsbot(config, "fetch")
    assert first.returncode == 1, first.stderr
    assert first.stdout.count("malformed.xml): not a feed") == 1
    assert "malformed.xml" not in first.stderr
    assert "Traceback" not in first.stderr
    second = newsbot(config, "fetch")
    assert " 0 new stories, 1 failed." in second.stdout
    assert sum(feed_server.not_modified.values()) == len(FEEDS) - 1


@pytest.mark.slow
def test_fetch_exits_0_when_every_feed_is_read(feed_server: FeedServer,
                                               write_config: Callable[[str], Path]) -> None:
    """`newsbot fetch` exits 0 when no feed failed."""
    config = write_config(f'[fetch]\nallow_private_addresses = true\n[[feeds]]\n'
                          f'url = "{feed_server.url("world_news.xml")}"\n')
    done = newsbot(config, "fetch")
    assert done.returncode == 0, done.stderr
    assert "1 feeds: " in done.stdout and ", 0 failed." in done.stdout


@pytest.mark.slow
def test_digest_prints_stories(config: Path) -> None:
    """`newsbot digest` after a fetch shows stories with their source."""
    newsbot(config, "fetch")
    done = newsbot(config, "digest", "--channel", "console")
    assert done.returncode == 0, done.stderr
    assert "News digest" in done.stdout
    assert "5. " in done.stdout and "6. " not in done.stdout  # max_items = 5


@pytest.mark.slow
def test_digest_for_unknown_channel_is_an_error(config: Path) -> None:
    """Asking for a channel that doesn't exist names the channels there are."""
    done = newsbot(config, "digest", "--channel", "discord:1")
    assert done.returncode == 2 and "channels: console" in done.stderr


@pytest.mark.slow
def test_search_finds_stored_stories(config: Path) -> None:
    """`newsbot search` finds a story by words of its title: one result for the story,
    whose two outlets' takes (World News, Tech) are one item, the other outlet as "also"."""
    newsbot(config, "fetch")
    done = newsbot(config, "search", "semiconductors", "tariffs")
    takes = ("Japan and South Korea agree to cut tariffs", "Chipmakers cheer Japan-Korea")
    assert sum(done.stdout.count(take) for take in takes) == 1, done.stdout
    assert "also: Example " in done.stdout


@pytest.mark.slow
def test_status_json_reports_failing_feeds(config: Path, feed_server: FeedServer) -> None:
    """`newsbot status --json` lists feeds with their last error and next digests."""
    newsbot(config, "fetch")
    status = json.loads(newsbot(config, "status", "--json").stdout)
    failing = [f for f in status["feeds"] if f["failures"]]
    assert [f["url"] for f in failing] == [feed_server.url("malformed.xml")]
    assert status["channels"][0]["id"] == "console"
    assert status["channels"][0]["next_digest"]


@pytest.mark.slow
def test_check_prints_feeds_and_channels(config: Path) -> None:
    """`newsbot check` validates and shows feeds, channels and the next digest."""
    done = newsbot(config, "check")
    assert done.returncode == 0, done.stderr
    assert "console" in done.stdout and "daily 08:00" in done.stdout


@pytest.mark.slow
def test_run_posts_a_digest_and_stops_cleanly(config: Path) -> None:
    """`newsbot run` without tokens polls, prints a digest, and exits 0 on SIGTERM."""
    proc = subprocess.Popen([sys.executable, "-m", "bot", "-c", str(config), "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:  # until the digest's title (or the end: then the asserts tell)
        lines.append(line)
        if "News digest" in line:
            break
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    text = "".join(lines) + out
    assert proc.returncode == 0, err
    assert "News digest" in text
    assert "malformed.xml" in text or "failed" in err
    assert "Traceback" not in err


def test_every_cli_command_is_in_readme() -> None:
    """README documents every subcommand the CLI has."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for name in subparsers.choices:  # type: ignore[union-attr]
        assert f"newsbot {name}" in readme, name


@pytest.mark.slow
def test_related_groups_the_same_story(config: Path) -> None:
    """`newsbot related` on a story's link finds other stories, never the story itself."""
    newsbot(config, "fetch")
    done = newsbot(config, "related", "chip", "tariffs", "japan")
    assert done.returncode == 0, done.stderr
    assert "Related: chip tariffs japan" in done.stdout
    assert "tariff" in done.stdout.lower()


@pytest.mark.slow
def test_related_to_an_unknown_link_says_so(config: Path) -> None:
    """An unknown link is a one-line answer with exit status 1, not a traceback."""
    done = newsbot(config, "related", "https://unknown.example/story")
    assert done.returncode == 1 and "no story with that link" in done.stderr


def test_math_libraries_get_one_thread_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI gives numpy's BLAS one thread (the workers are the parallelism), but an
    explicit environment setting wins."""
    for name in ("OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS"):  # restored after the test
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    limit_math_threads()
    assert (os.environ["OPENBLAS_NUM_THREADS"], os.environ["OMP_NUM_THREADS"]) == ("1", "4")


@pytest.mark.slow
def test_postgres_password_is_never_shown(postgres_database: PostgresUrl, tmp_path: Path,
                                          write_config: Callable[[str], Path],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """With a password in a PostgreSQL URL, check, status --check and backup (by pg_dump)
    name the server but never print the password."""
    monkeypatch.setenv("PATH", f"{client_tools()}:{os.environ['PATH']}")
    url = postgres_database.dsn.replace("postgres@", "postgres:hunter2@", 1)
    config = write_config(f'[bot]\ndatabase = "{url}"\n[[channels]]\nid = "console"\n')
    check = newsbot(config, "check")
    health = newsbot(config, "status", "--check")
    backup = newsbot(config, "backup", str(tmp_path / "copy.db"))
    assert check.returncode == 0 and "Database: postgresql://postgres@" in check.stdout
    assert health.returncode == 1 and "never run" in health.stderr
    assert backup.returncode == 0 and "pg_dump archive" in backup.stdout, backup.stderr
    for done in (check, health, backup):
        assert "hunter2" not in done.stdout + done.stderr
