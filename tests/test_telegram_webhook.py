"""The Telegram adapter in webhook mode: the fake Bot API posts updates to the bot's server."""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.app import open_core
from bot.chat.adapter import PlatformError
from bot.chat.telegram.adapter import TelegramAdapter
from bot.config import load_config
from tests.fakes.telegram_server import FakeTelegram
from tests.test_telegram_adapter import FAST, NOW, STORIES, add_stories, config_text

pytestmark = pytest.mark.slow  # drives the fake Telegram end to end (webhooks)

SECRET = "s3cret_Token-for-tests"
HOOK_PATH = "/telegram/updates"
OpenBot = Callable[..., contextlib.AbstractAsyncContextManager[FakeTelegram]]


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta periods (the int ones warn, and warnings are errors)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def webhook_config(fake: FakeTelegram, port: int) -> str:
    """A config reaching the fake, taking updates by webhook on 127.0.0.1:port."""
    return (config_text(fake) + f'webhook_url = "http://127.0.0.1:{port}{HOOK_PATH}"\n'
            f'webhook_listen = "127.0.0.1:{port}"\n')


@pytest.fixture
def open_bot(write_config: Callable[[str], Path]) -> OpenBot:
    """Runs the bot in webhook mode against a fake with a group; yields the fake."""

    @contextlib.asynccontextmanager
    async def open_(fake: FakeTelegram, secret: str = SECRET, port: int = 0
                    ) -> AsyncIterator[FakeTelegram]:
        path = write_config(webhook_config(fake, port or free_port()))
        env = {"TELEGRAM_TOKEN": fake.token} | ({"TELEGRAM_WEBHOOK_SECRET": secret}
                                                  if secret else {})
        config = load_config(path, env)
        assert config.model.telegram is not None
        webhook_secret = config.telegram_webhook_secret.get_secret_value()
        async with open_core(config) as core:
            await add_stories(core, len(STORIES))
            async with TelegramAdapter(config.model.telegram, fake.token, core.commands,
                                       lambda: NOW, leases=core.store.leases, limits=FAST,
                                       webhook_secret=webhook_secret):
                yield fake

    return open_


@pytest.mark.parametrize("secret", [SECRET, ""])
async def test_command_arrives_by_webhook_and_is_answered(open_bot: OpenBot,
                                                          secret: str) -> None:
    """setWebhook gets the URL and the secret (a random one when none is set); a command
    posted to the bot's server is answered, and getUpdates is never called."""
    async with FakeTelegram() as fake, open_bot(fake, secret):
        group, reader = fake.add_supergroup("Newsroom"), fake.add_user("Rob")
        hook = fake.webhook
        assert hook is not None and hook.url.endswith(HOOK_PATH)
        assert hook.allowed_updates == ["message", "callback_query"]
        update = fake.send_command(group.id, reader.id, "/search japan tariffs")
        assert await fake.deliver_webhook(update) == 200
        [reply] = await fake.wait_sent(chat_id=group.id)
    assert hook.secret_token is not None
    if secret:
        assert hook.secret_token == secret
    else:
        assert re.fullmatch(r"[A-Za-z0-9_-]{32,256}", hook.secret_token)
    assert reply.text.startswith("Search: japan tariffs") and STORIES[0][0] in reply.text
    assert fake.calls("getUpdates") == [] and fake.pending_updates == []


async def test_post_with_a_wrong_secret_is_refused_and_never_handled(open_bot: OpenBot) -> None:
    """An update posted without the right secret header gets 403 and no answer."""
    async with FakeTelegram() as fake, open_bot(fake):
        group, reader = fake.add_supergroup("Newsroom"), fake.add_user("Rob")
        forged = fake.send_command(group.id, reader.id, "/search japan tariffs")
        assert await fake.deliver_webhook(forged, secret_token="not-the-secret") == 403
        genuine = fake.send_command(group.id, reader.id, "/latest 1")
        assert await fake.deliver_webhook(genuine) == 200
        await fake.wait_sent(chat_id=group.id)
    [reply] = fake.sent
    assert reply.text.startswith("Latest stories")
    assert fake.pending_updates == [forged]  # Telegram would keep trying to deliver it


async def test_busy_webhook_port_is_a_platform_error(open_bot: OpenBot) -> None:
    """When the listen address is taken, the start fails with a one-line PlatformError."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with FakeTelegram() as fake:
            with pytest.raises(PlatformError, match=r"can't listen on 127\.0\.0\.1:"):
                async with open_bot(fake, port=port):
                    pass
