"""One running bot per database: an exclusive lock on `<database>.lock` while `run` lives."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from bot.store.db import DatabaseError


class InstanceLocked(DatabaseError):
    """Another `newsbot run` uses this database; the message says which and what to do."""


def lock_path(database: Path) -> Path:
    """The lock file beside the database."""
    return database.with_name(database.name + ".lock")


@contextlib.contextmanager
def instance_lock(database: Path) -> Iterator[None]:
    """Hold the database's run lock, or raise InstanceLocked at once.

    The operating system drops the lock when the process ends, however it ends (kill -9
    included), so a crash never leaves a stale lock behind.
    """
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InstanceLocked(
                f"{database} is in use by another `newsbot run` (pid {_holder(fd)}); "
                "stop it first, or give this one its own [bot] database") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    return os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"


@contextlib.asynccontextmanager
async def run_lock(database: Path) -> AsyncIterator[None]:
    """instance_lock for an `async with` beside the bot's other resources."""
    with instance_lock(database):
        yield
