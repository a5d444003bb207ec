"""The run lock: one bot per database, no lock file left behind, a stale one taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.store.lock import InstanceLocked, instance_lock, lock_path, run_lock
from bot.store.postgres.url import PostgresUrl


def test_lock_file_is_removed_when_the_lock_is_released(tmp_path: Path) -> None:
    """The lock file exists, naming this pid, while held, and is gone afterwards."""
    database = tmp_path / "news.db"
    with instance_lock(database):
        assert lock_path(database).read_text() == str(os.getpid())
    assert not lock_path(database).exists()


def test_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    """While one holds the lock, another is refused at once, told which pid holds it."""
    database = tmp_path / "news.db"
    with instance_lock(database):
        with pytest.raises(InstanceLocked, match=f"pid {os.getpid()}"), instance_lock(database):
            pass
        assert lock_path(database).exists()  # the refused one removed nothing


def test_stale_lock_file_is_taken_over(tmp_path: Path) -> None:
    """A lock file left by a process that died (no lock held on it) is taken over."""
    database = tmp_path / "news.db"
    lock_path(database).write_text("999999999")
    with instance_lock(database):
        assert lock_path(database).read_text() == str(os.getpid())
    assert not lock_path(database).exists()


async def test_postgres_database_takes_no_run_lock(tmp_path: Path) -> None:
    """Several processes share a PostgreSQL database: its run lock holds nothing, so two at
    once are fine and no file is written."""
    url = PostgresUrl(f"postgresql://newsbot@/newsbot?host={tmp_path}")
    async with run_lock(url), run_lock(url):
        assert not os.listdir(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_run_removes_its_lock_file_when_stopped(write_config: Callable[[str], Path],
                                                stop: signal.Signals) -> None:
    """`newsbot run` stopped by Ctrl-C (SIGINT) or SIGTERM exits 0 and leaves no lock file."""
    config = write_config('[[channels]]\nid = "console"\n')
    lock = lock_path(config.parent / "newsbot.db")
    proc = subprocess.Popen([sys.executable, "-m", "bot", "-c", str(config), "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while "No stories yet" not in proc.stdout.readline() and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    assert lock.exists()
    proc.send_signal(stop)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert not lock.exists()
