"""One running bot per SQLite database: an exclusive lock on `<database>.lock` while `run`
lives (PostgreSQL serves many processes: no lock)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from bot.store.db import DatabaseError
from bot.store.postgres.url import PostgresUrl


class InstanceLocked(DatabaseError):
    """Another `newsbot run` uses this database; the message says which and what to do."""


def lock_path(database: Path) -> Path:
    """The lock file beside the database."""
    return database.with_name(database.name + ".lock")


@contextlib.contextmanager
def instance_lock(database: Path) -> Iterator[None]:
    """Hold the database's run lock, or raise InstanceLocked at once; remove the file after.

    The lock is the operating system's (flock), not the file's existence: it goes away when
    the process ends, however it ends (kill -9 included), so a file left behind by a crash is
    simply taken over. On a normal stop (SIGINT and SIGTERM included) the file is removed
    while still locked.
    """
    path = lock_path(database)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = _acquire(path, database)
    except OSError as error:
        raise DatabaseError(f"{path}: cannot create the run lock: {error.strerror}") from None
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)


def _acquire(path: Path, database: Path) -> int:
    """Open and lock `path`; returns its descriptor.

    A holder that stops removes the file after another process opened it but before that
    one got the lock: then the lock is on a file no longer at `path`, so it opens `path`
    again (else two processes could each hold "the" lock).
    """
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise InstanceLocked(
                f"{database} is in use by another `newsbot run` (pid {holder}); "
                "stop it first, or give this one its own [bot] database") from None
        if _is_at(fd, path):
            return fd
        os.close(fd)


def _is_at(fd: int, path: Path) -> bool:
    """Whether the open file `fd` is still the file at `path`."""
    try:
        named = path.stat()
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (opened.st_dev, opened.st_ino) == (named.st_dev, named.st_ino)


def _holder(fd: int) -> str:
    return os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"


@contextlib.asynccontextmanager
async def run_lock(database: Path | PostgresUrl) -> AsyncIterator[None]:
    """instance_lock for an `async with` beside the bot's other resources; nothing to hold
    for a PostgreSQL database, which several processes share."""
    if isinstance(database, PostgresUrl):
        yield
        return
    with instance_lock(database):
        yield
