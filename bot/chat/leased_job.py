"""A job only one process may run at a time (polling Telegram): run it while holding a
named lease, renewed every third of its term; stop it when the lease is lost."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self

from bot.ports import Clock
from bot.store.db import StoreError
from bot.store.leases import LeaseStore

log = logging.getLogger(__name__)
Action = Callable[[], Awaitable[None]]


def holder_id() -> str:
    """This process among all processes sharing the database: `host:pid:random` (the random
    part tells apart two holders in one process, and a pid the system reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class LeasedJob:
    """Runs `start` once this process holds the lease `name`, and `stop` when it loses it.

    Entering tries at once (the first process starts its job without waiting), then every
    third of `ttl`; a process that dies stops renewing, and another takes over when the
    lease runs out. Leaving stops the job and releases the lease, so another process takes
    over at its next try.
    """

    def __init__(self, leases: LeaseStore, name: str, ttl: timedelta, clock: Clock,
                 start: Action, stop: Action) -> None:
        self._leases = leases
        self._name = name
        self._ttl = ttl
        self._clock = clock
        self._start = start
        self._stop = stop
        self._holder = holder_id()
        self._until: datetime | None = None  # when the lease we hold runs out
        self._task: asyncio.Task[None] | None = None
        self.running = False

    async def __aenter__(self) -> Self:
        """Try for the lease now (starting the job if it is ours), then keep trying."""
        try:
            await self._try()
        except BaseException:
            await self._leases.release(self._name, self._holder)
            raise
        self._task = asyncio.create_task(self._keep(), name=f"lease {self._name}")
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        """Stop the job, then let the lease go."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:
            if self.running:
                self.running = False
                await self._stop()
        finally:
            await self._leases.release(self._name, self._holder)

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self._ttl.total_seconds() / 3)
            try:
                await self._try()
            except Exception:
                log.exception("%s: starting or stopping the job failed; trying again",
                              self._name)

    async def _try(self) -> None:
        """Take or renew the lease, and start or stop the job to match."""
        held = await self._holds(self._clock())
        if held and not self.running:
            await self._start()
            self.running = True
            log.info("%s: this process (%s) holds the lease and runs the job", self._name,
                     self._holder)
        elif not held and self.running:
            self.running = False
            log.warning("%s: lease lost; this process stops the job", self._name)
            await self._stop()
        elif not held:
            log.debug("%s: another process runs the job", self._name)

    async def _holds(self, now: datetime) -> bool:
        """Whether the lease is ours until the next try; a database failure keeps a lease we
        hold only while it surely outlasts the next try."""
        try:
            held = await self._leases.acquire(self._name, self._holder, self._ttl, now)
        except StoreError as error:
            log.warning("%s: can't renew the lease: %s", self._name, error)
            return self._until is not None and now + self._ttl / 3 < self._until
        self._until = now + self._ttl if held else None
        return held
