"""Helpers shared by the end-to-end tests that run `newsbot run` against fakes."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.store.store import open_store

ROOT = Path(__file__).parent.parent


async def make_due(database: Path, *channel_ids: str) -> None:
    """Give channels rows made an hour ago, so that their digest is due at start."""
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    async with open_store(database) as store:
        for channel_id in channel_ids:
            await store.channels.ensure(channel_id, an_hour_ago)


@asynccontextmanager
async def newsbot_run(config: Path, stderr: Path,
                      tokens: dict[str, str]) -> AsyncIterator[asyncio.subprocess.Process]:
    """`newsbot run -c config` as a subprocess with these tokens in its environment,
    stderr kept in a file; killed on exit unless it has already ended."""
    with stderr.open("wb") as errors:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "-c", str(config), "run", cwd=ROOT,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=errors, env={**os.environ, **tokens})
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
