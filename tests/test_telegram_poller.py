"""One Telegram poller among several processes: two adapters on one database file (each with
its own Store, as two `newsbot run` processes have) against the fake Bot API, which answers
409 Conflict whenever two long polls overlap."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.app import open_core
from bot.chat.telegram.adapter import POLLER_LEASE, TelegramAdapter
from bot.config import Config, load_config
from bot.store.leases import LeaseStore
from bot.store.store import Store, open_store
from tests.conftest import wait_until
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_world import FakeChat, FakeUser
from tests.test_telegram_adapter import FAST, NOW, QUICK_POLL, config_text
from tests.test_telegram_webhook import free_port, webhook_config

pytestmark = pytest.mark.slow  # drives the fake Telegram end to end

LEASE = 'poller_lease = "3s"\n'  # renewed, and tried for, every second
TTL = timedelta(seconds=3)


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta periods (the int ones warn, and warnings are errors)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@dataclass
class Clock:
    """The time as the test sets it (leases expire by this clock alone)."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Rig:
    """The fake with a group and a reader, a config, and a second Store on its database."""

    fake: FakeTelegram
    group: FakeChat
    reader: FakeUser
    config: Config
    other: Store
    clock: Clock
    stack: AsyncExitStack

    async def adapter(self, leases: LeaseStore) -> TelegramAdapter:
        """A connected adapter (one process's) taking its lease from `leases`."""
        settings = self.config.model.telegram
        assert settings is not None
        core = await self.stack.enter_async_context(open_core(self.config))
        return await self.stack.enter_async_context(TelegramAdapter(
            settings, self.fake.token, core.commands, self.clock, leases=leases, limits=FAST,
            poll_timeout=QUICK_POLL))

    def conflicts(self) -> int:
        """How many long polls the fake ended with 409 because another one started."""
        return sum(1 for r in self.fake.calls("getUpdates") if r.status == 409)

    async def answered(self) -> bool:
        """Whether a command sent now gets exactly one answer."""
        before = len(self.fake.sent_to(self.group.id))
        self.fake.send_command(self.group.id, self.reader.id, "/help")
        await self.fake.wait_sent(before + 1, chat_id=self.group.id)
        return len(self.fake.sent_to(self.group.id)) == before + 1


@pytest.fixture
async def rig(write_config: Callable[[str], Path]) -> AsyncIterator[Rig]:
    """A fake Telegram, a polling config with a 3 s lease, and a second Store."""
    async with FakeTelegram() as fake, AsyncExitStack() as stack:
        group, reader = fake.add_supergroup("Newsroom"), fake.add_user("Rob")
        fake.set_member(group, reader, "member")
        config = load_config(write_config(config_text(fake) + LEASE),
                             {"TELEGRAM_TOKEN": fake.token})
        other = await stack.enter_async_context(open_store(config.database))
        yield Rig(fake, group, reader, config, other, Clock(), stack)


async def test_only_the_lease_holder_polls(rig: Rig) -> None:
    """Of two processes, the first to start polls and the second only stands by: no two
    long polls ever overlap, and each command is answered once."""
    first = await rig.adapter(rig.other.leases)
    second_store = await rig.stack.enter_async_context(open_store(rig.config.database))
    second = await rig.adapter(second_store.leases)
    polls = len(rig.fake.calls("getUpdates"))
    await rig.fake.wait_for(lambda: len(rig.fake.calls("getUpdates")) >= polls + 3)
    assert first.polling and not second.polling
    assert await rig.answered()
    assert rig.conflicts() == 0


async def test_clean_stop_hands_polling_over_at_once(rig: Rig) -> None:
    """A process that stops releases the lease: the other polls at its next try, long before
    the lease would have run out (the clock never moves here)."""
    async with AsyncExitStack() as first_process:
        first_core = await first_process.enter_async_context(open_core(rig.config))
        settings = rig.config.model.telegram
        assert settings is not None
        first = await first_process.enter_async_context(TelegramAdapter(
            settings, rig.fake.token, first_core.commands, rig.clock,
            leases=first_core.store.leases, limits=FAST, poll_timeout=QUICK_POLL))
        second = await rig.adapter(rig.other.leases)
        assert first.polling and not second.polling
    # Stopping, PTB drops its long poll in flight and confirms the last update with one
    # more getUpdates, which ends the dropped one with 409 on the server: its own, once.
    stopped = rig.conflicts()
    await wait_until(lambda: second.polling)
    assert await rig.answered()
    assert rig.conflicts() == stopped


async def test_dead_pollers_lease_is_taken_over_when_it_runs_out(rig: Rig) -> None:
    """A process that died holding the lease (it renews no more) keeps the others from
    polling until its lease runs out; then one of them polls."""
    assert await rig.other.leases.acquire(POLLER_LEASE, "gone-host:4242:dead", TTL,
                                          rig.clock.now)
    survivor = await rig.adapter(rig.other.leases)
    assert not survivor.polling and rig.fake.calls("getUpdates") == []
    rig.clock.now += TTL + timedelta(seconds=1)
    await wait_until(lambda: survivor.polling)
    assert await rig.answered()
    assert await rig.other.leases.holder(POLLER_LEASE, rig.clock.now) != "gone-host:4242:dead"


async def test_webhook_takes_updates_without_the_lease(
        write_config: Callable[[str], Path]) -> None:
    """With a webhook every process takes the updates posted to it: no lease is needed, even
    while another process holds the poller lease."""
    async with FakeTelegram() as fake:
        group, reader = fake.add_supergroup("Newsroom"), fake.add_user("Rob")
        config = load_config(write_config(webhook_config(fake, free_port())),
                             {"TELEGRAM_TOKEN": fake.token, "TELEGRAM_WEBHOOK_SECRET": "s"})
        settings = config.model.telegram
        assert settings is not None
        async with open_core(config) as core:
            await core.store.leases.acquire(POLLER_LEASE, "elsewhere:1:x", TTL, NOW)
            async with TelegramAdapter(settings, fake.token, core.commands, lambda: NOW,
                                       leases=core.store.leases, limits=FAST,
                                       webhook_secret="s") as adapter:
                update = fake.send_command(group.id, reader.id, "/help")
                assert await fake.deliver_webhook(update, secret_token="s") == 200
                await fake.wait_sent(chat_id=group.id)
                assert not adapter.polling
            assert await core.store.leases.holder(POLLER_LEASE, NOW) == "elsewhere:1:x"
