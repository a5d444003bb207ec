"""Backups of a PostgreSQL database: pg_dump's custom-format archive, written beside the
target and renamed, so the target is never half-written."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

from bot.store.db import DatabaseError
from bot.store.postgres.url import PostgresUrl

ARCHIVE_MAGIC = b"PGDMP"  # how a custom-format archive starts


def dump_database(source: PostgresUrl, target: Path) -> int:
    """Archive `source` into `target` with pg_dump (from PATH); returns the archive's bytes.
    Raises DatabaseError saying what to do when pg_dump is missing or fails."""
    program = shutil.which("pg_dump")
    if program is None:
        raise DatabaseError(
            f"{source}: backing up a PostgreSQL database needs pg_dump on PATH (the PostgreSQL "
            f"client tools), or run it yourself: pg_dump --format=custom --file={target} "
            f"'{source}'")
    if target.is_dir():
        raise DatabaseError(f"{target}: is a folder; name the backup file, e.g. "
                            f"{target / 'newsbot.dump'}")
    if target.exists() and not _is_archive(target):
        raise DatabaseError(f"{target}: exists and is not a pg_dump archive: refusing to "
                            "overwrite it")
    partial = target.with_name(target.name + ".partial")
    env = {**os.environ, **({"PGPASSWORD": source.password} if source.password else {})}
    try:
        partial.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(  # noqa: S603 - fixed program, arguments as a list, no shell
            [program, "--format=custom", f"--file={partial}", f"--dbname={source.dsn}"],
            capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
            raise DatabaseError(f"{source} -> {target}: pg_dump failed: {reason}")
        os.replace(partial, target)
    except OSError as error:
        raise DatabaseError(f"{target}: can't write the backup: {error.strerror}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return target.stat().st_size


def _is_archive(path: Path) -> bool:
    """Whether `path` starts as a pg_dump archive does (an earlier backup may be replaced)."""
    try:
        with path.open("rb") as file:
            return file.read(len(ARCHIVE_MAGIC)) == ARCHIVE_MAGIC
    except OSError:
        return False
