"""The [telegram] webhook keys and TELEGRAM_WEBHOOK_SECRET: defaults, checks, error lines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config

Write = Callable[[str], Path]


def test_long_polling_is_the_default(write_config: Write) -> None:
    """Without webhook_url the bot polls; the listen address has a default all the same."""
    config = load_config(write_config("[telegram]\n"), environ={})
    assert config.model.telegram is not None
    assert config.model.telegram.webhook_url == ""
    assert config.model.telegram.listen_address == ("0.0.0.0", 8443)
    assert config.telegram_webhook_secret.get_secret_value() == ""


def test_webhook_keys_and_secret_load(write_config: Write) -> None:
    """The public URL, an IPv6 listen address and the secret from the environment."""
    path = write_config('[telegram]\nwebhook_url = "https://bot.example.org/tg"\n'
                        'webhook_listen = "[::1]:8080"\n')
    config = load_config(path, environ={"TELEGRAM_WEBHOOK_SECRET": "A-z_09"})
    assert config.model.telegram is not None
    assert config.model.telegram.webhook_url == "https://bot.example.org/tg"
    assert config.model.telegram.listen_address == ("::1", 8080)
    assert config.telegram_webhook_secret.get_secret_value() == "A-z_09"


@pytest.mark.parametrize(("keys", "message"), [
    ('webhook_listen = "8443"', 'telegram.webhook_listen: "8443" is not host:port'),
    ('webhook_listen = "0.0.0.0:99999"', 'telegram.webhook_listen: "0.0.0.0:99999" is not'),
    ('webhook_listen = "my host:80"', 'telegram.webhook_listen: "my host:80" is not'),
    ('webhook_url = "bot.example.org/tg"', 'telegram.webhook_url: "bot.example.org/tg" is not'),
    ('webhook_url = "http://bot.example.org/tg"',
     "telegram.webhook_url: Telegram posts only to https URLs"),
])
def test_bad_webhook_keys_are_named(write_config: Write, keys: str, message: str) -> None:
    """A bad listen address or URL gets one line naming the key."""
    with pytest.raises(ConfigError, match=r"config\.toml: ") as error:
        load_config(write_config(f"[telegram]\n{keys}\n"), environ={})
    assert message in str(error.value)


def test_plain_http_webhook_is_allowed_with_a_self_hosted_server(write_config: Write) -> None:
    """A self-hosted Bot API server may post to a plain http URL."""
    path = write_config('[telegram]\napi_base_url = "http://127.0.0.1:8081/bot"\n'
                        'webhook_url = "http://127.0.0.1:8443/tg"\n')
    config = load_config(path, environ={})
    assert config.model.telegram is not None
    assert config.model.telegram.webhook_url == "http://127.0.0.1:8443/tg"


@pytest.mark.parametrize("secret", ["has space", "colon:inside", "x" * 257])
def test_bad_webhook_secret_is_refused_without_showing_it(write_config: Write,
                                                          secret: str) -> None:
    """A secret Telegram would refuse stops the start; the error does not repeat it."""
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET") as error:
        load_config(write_config("[telegram]\n"), environ={"TELEGRAM_WEBHOOK_SECRET": secret})
    assert secret not in str(error.value)
