"""Shared fixtures: the fixture feeds, a loopback feed server, config files in tmp_path, a
PostgreSQL server, the database of either engine (`database`); and the one way tests wait for
something to happen (`wait_until`, `wait_until_blocking`)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from bot.store.postgres.url import PostgresUrl
from bot.store.store import Location
from tests.fakes.feed_server import FeedServer
from tests.postgres import create_database, empty_database, start_server

FIXTURES = Path(__file__).parent / "fixtures"

# Hypothesis would fail an example slower than 200 ms: a stopwatch, and flaky on a busy
# machine. Property tests assert outcomes; pytest-timeout ends one that hangs.
settings.register_profile("newsbot", deadline=None)
settings.load_profile("newsbot")
POLL_S = 0.01


async def wait_until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    """Let the event loop run until ``predicate()`` holds; TimeoutError after ``within`` s.

    Tests wait for a condition, never for a fixed time: ``within`` only ends a wait that
    would otherwise hang, it is not a measurement."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - polls state that no event announces
            await asyncio.sleep(POLL_S)


def wait_until_blocking(predicate: Callable[[], bool], within: float = 60.0) -> None:
    """`wait_until` for tests that drive subprocesses without an event loop."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {within} s")
        time.sleep(POLL_S)


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A feed server on 127.0.0.1 serving tests/fixtures."""
    with FeedServer(FIXTURES) as server:
        yield server


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    """Write a config file into tmp_path; its database lands beside it."""

    def write(text: str, name: str = "config.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


RUN_STARTED = pytest.StashKey[float]()


def pytest_configure(config: pytest.Config) -> None:
    """Note when the run started, to tell this run's artifacts from older ones."""
    config.stash[RUN_STARTED] = time.time()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say where this run's browser screenshots are, if it took any."""
    from tests.browser.harness import screenshots_dir  # imports this module: load it first

    started = terminalreporter.config.stash[RUN_STARTED]
    folder = screenshots_dir()
    shots = [path for path in folder.glob("*.png") if path.stat().st_mtime >= started]
    if shots:
        terminalreporter.write_line(f"browser screenshots: {len(shots)} in {folder}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresUrl]:
    """One real PostgreSQL server for this test process with one database for the tests;
    the database's URL (a Unix socket, trust login). If the server can't start, every test
    using it fails: never a silent skip."""
    with tempfile.TemporaryDirectory(prefix="newsbot-postgres-") as folder:
        server = start_server(Path(folder) / "data")  # outside pytest's rotated tmp folders
        yield asyncio.run(create_database(str(server.get_uri()), "newsbot_test"))
        server.cleanup()


@pytest.fixture
async def postgres_database(postgres_server: PostgresUrl) -> PostgresUrl:
    """An empty PostgreSQL database for one test (emptied before it starts); its URL."""
    await empty_database(postgres_server)
    return postgres_server


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Location:
    """Where a test's store lives, once per engine: an SQLite file in tmp_path, then a fresh
    PostgreSQL database (`open_store(database)` opens either)."""
    if request.param == "sqlite":
        return tmp_path / "news.db"
    url: PostgresUrl = request.getfixturevalue("postgres_database")
    return url
