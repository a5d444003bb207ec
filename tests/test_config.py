"""Config files: valid ones load, each kind of mistake gets one line naming file and key."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import ConfigError, ConfigModel, load_config
from bot.config_values import sections_of
from bot.logs import JsonFormatter
from bot.store.postgres.url import PostgresUrl

ROOT = Path(__file__).parent.parent


def test_example_config_loads() -> None:
    """config.example.toml, the file README starts with, is valid."""
    config = load_config(ROOT / "config.example.toml", environ={})
    assert config.model.feeds
    assert any(channel.id == "console" for channel in config.model.channels)


def test_tokens_come_from_the_environment(write_config: Callable[[str], Path]) -> None:
    """DISCORD_TOKEN and TELEGRAM_TOKEN are read from the environment, not the file."""
    path = write_config("[discord]\n[telegram]\n")
    config = load_config(path, environ={"DISCORD_TOKEN": "d", "TELEGRAM_TOKEN": "t"})
    assert (config.discord_token.get_secret_value(),
            config.telegram_token.get_secret_value()) == ("d", "t")


SECRETS = {"DISCORD_TOKEN": "MTA5ODc2NTQzMjE.discord-secret-token",
           "TELEGRAM_TOKEN": "123456789:AAtelegram-secret-token",
           "TELEGRAM_WEBHOOK_SECRET": "webhook-secret-value"}


def test_secrets_never_show(write_config: Callable[[str], Path],
                            capsys: pytest.CaptureFixture[str],
                            caplog: pytest.LogCaptureFixture) -> None:
    """The tokens and the webhook secret are Secrets: repr, str, print and a log line of the
    config show none of them; get_secret_value gives each back intact."""
    path = write_config('[discord]\n[telegram]\nwebhook_url = "https://bot.example.org/tg"\n')
    config = load_config(path, environ=dict(SECRETS))
    print(config)
    print(config.model)
    print(repr(config))
    caplog.set_level(logging.INFO)
    logging.getLogger("tests.config").info("config: %s; as repr: %r", config, config)
    [record] = [r for r in caplog.records if r.name == "tests.config"]
    shown = {"repr": repr(config), "str": str(config), "format": f"{config} {config!r}",
             "print": capsys.readouterr().out,
             "log": caplog.text, "json log": JsonFormatter().format(record)}
    for how, text in shown.items():
        for name, secret in SECRETS.items():
            assert secret not in text, f"{name} shows in {how}"
    assert "discord_token=Secret('**********')" in repr(config)
    values = (config.discord_token, config.telegram_token, config.telegram_webhook_secret)
    assert tuple(v.get_secret_value() for v in values) == tuple(SECRETS.values())


@pytest.mark.parametrize(("section", "key"), [("discord", "token"), ("telegram", "token"),
                                              ("telegram", "webhook_secret")])
def test_secrets_in_the_file_are_refused_without_showing_them(
        write_config: Callable[[str], Path], section: str, key: str) -> None:
    """Secrets come from the environment only: one in the file is an unknown key, and the
    error line does not repeat it."""
    secret = SECRETS["TELEGRAM_TOKEN"]
    with pytest.raises(ConfigError) as error:
        load_config(write_config(f'[{section}]\n{key} = "{secret}"\n'), environ={})
    assert f"{section}.{key}: unknown key" in str(error.value)
    assert secret not in str(error.value)


@pytest.mark.parametrize(("text", "message"), [
    ('[fetch]\nintervall = "5m"\n', 'fetch.intervall: unknown key (did you mean "interval"?)'),
    ('[[feeds]]\nurl = "https://example.org/"\nnmae = "x"\n',
     'feeds[0].nmae: unknown key (did you mean "name"?)'),
    ('[discord]\napi_base_ulr = "https://example.org/"\n',
     'discord.api_base_ulr: unknown key (did you mean "api_base_url"?)'),
    ('[[channels]]\nid = "console"\nmax_item = 3\n',
     'channels[0].max_item: unknown key (did you mean "max_items"?)'),
    ("[fetch]\nzzzz = 1\n", "fetch.zzzz: unknown key"),
])
def test_misspelled_key_suggests_the_closest_known_key(
        write_config: Callable[[str], Path], text: str, message: str) -> None:
    """An unknown key one edit from a key of its section says "did you mean", and only then."""
    with pytest.raises(ConfigError) as error:
        load_config(write_config(text), environ={})
    assert str(error.value).endswith(message)


def test_relative_database_is_beside_the_config(write_config: Callable[[str], Path]) -> None:
    """A relative database path is taken from the config file's folder."""
    path = write_config('[bot]\ndatabase = "data/news.db"\n')
    assert load_config(path, environ={}).database == path.parent / "data" / "news.db"


@pytest.mark.parametrize(("url", "password"), [
    ("postgresql://newsbot@db.example.org:5432/newsbot", "from-env"),
    ("postgres://newsbot:in%20url@db.example.org/newsbot", "in url"),
    ("postgresql://newsbot@db.example.org/newsbot?password=in-query&sslmode=require",
     "in-query"),
])
def test_postgres_url_keeps_the_password_apart(write_config: Callable[[str], Path], url: str,
                                               password: str) -> None:
    """A postgresql:// (or postgres://) database is accepted; its password comes from
    NEWSBOT_DATABASE_PASSWORD or the URL, and the URL shown (str, repr) never holds it."""
    path = write_config(f'[bot]\ndatabase = "{url}"\n')
    env = {"NEWSBOT_DATABASE_PASSWORD": "from-env"} if password == "from-env" else {}
    database = load_config(path, environ=env).database
    assert isinstance(database, PostgresUrl) and database.password == password
    assert str(database).startswith("postgresql://newsbot@db.example.org")
    assert password not in str(database) and password not in repr(database)
    assert password not in repr(load_config(path, environ=env))


def test_environment_password_wins_over_the_url(write_config: Callable[[str], Path]) -> None:
    """NEWSBOT_DATABASE_PASSWORD is used even when the URL carries a password."""
    path = write_config('[bot]\ndatabase = "postgresql://u:old@h/db"\n')
    database = load_config(path, environ={"NEWSBOT_DATABASE_PASSWORD": "new"}).database
    assert isinstance(database, PostgresUrl) and database.password == "new"


@pytest.mark.parametrize(("text", "message"), [
    ('[bot]\ndatabse = "x.db"\n', 'bot.databse: unknown key (did you mean "database"?)'),
    ('[bot]\ndatabase = "postgresql://u:secret@h:99999/db"\n',
     "bot.database: the port is not a number from 1 to 65535"),
    ('[bot]\ndatabase = "postgresql://u:secret@h"\n',
     "bot.database: name the database after the server"),
    ('[bot]\ndatabase = "mysql://u:secret@h/db"\n',
     'bot.database: "mysql://..." is neither an SQLite file path nor a postgresql:// URL'),
    ('[bot]\ndatabase = ""\n', "bot.database: empty"),
    ('[fetch]\ninterval = "15 parsecs"\n', 'fetch.interval: "15 parsecs" is not a duration'),
    ('[[feeds]]\nurl = "ftp://example.org/feed"\n', 'feeds[0].url: "ftp://example.org/feed" is '
                                                    "not an http(s) URL"),
    ("[[feeds]]\nname = 'x'\n", "feeds[0].url: required key is missing"),
    ('[[channels]]\nid = "console"\nmax_items = "ten"\n',
     "channels[0].max_items: input should be a valid integer"),
    ('[[channels]]\nid = "console"\nfairness = "fair"\n',
     "channels[0].fairness: input should be 'round-robin' or 'none' (got 'fair')"),
    ('[[channels]]\nid = "slack:1"\n', 'channels[0].id: "slack:1" is not a channel id'),
    ('[[channels]]\nid = "console"\ntimezone = "Mars/Olympus"\n',
     'channels[0].timezone: "Mars/Olympus" is not a known timezone'),
    ('[[channels]]\nid = "console"\n[[channels]]\nid = "discord:1"\ndigest = "daily 25:00"\n',
     'channels[1].digest: "25:00" is not a time of day'),
    ('[[channels]]\nid = "console"\ndigest = "every 2m"\n',
     'channels[0].digest: "every 2m" is too frequent'),
    ('[[channels]]\nid = "console"\ndigest = "sometimes"\n',
     'channels[0].digest: "sometimes" is not a schedule'),
    ('[[channels]]\nid = "console"\nfeeds = ["Nope"]\n',
     'channels[0].feeds: "Nope" is not the name or URL of a feed in this file'),
    ('[[feeds]]\nurl = "https://a.example/rss"\n[[feeds]]\nurl = "https://a.example/rss"\n',
     'feeds[1].url: "https://a.example/rss" appears twice'),
    ("[bot\n", "not valid TOML"),
    ('[discord]\nshards = "0-3"\n', "discord.shards: needs shard_count"),
    ('[discord]\nshards = "2-4"\nshard_count = 4\n',
     "discord.shards: shard 4 does not exist: with shard_count = 4 the ids are 0 to 3"),
    ('[discord]\nshards = "3-1"\nshard_count = 4\n', 'discord.shards: "3-1" is an empty range'),
    ('[discord]\nshards = "first"\nshard_count = 4\n',
     'discord.shards: "first" is not a list of shard ids'),
    ("[discord]\nshard_count = 0\n", "discord.shard_count: input should be greater than"),
    ('[telegram]\npoller_lease = "1s"\n', "telegram.poller_lease: input should be greater"),
    ("[bot]\nlease = \"2h\"\n", "bot.lease: input should be less than or equal to 3600s"),
])
def test_mistakes_name_the_key_and_reason(write_config: Callable[[str], Path], text: str,
                                          message: str) -> None:
    """Each kind of config mistake is reported as `file: key: reason`."""
    path = write_config(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert "secret" not in str(caught.value)


@pytest.mark.slow
def test_cli_reports_a_bad_config_in_one_line_with_exit_2(
        write_config: Callable[[str], Path]) -> None:
    """`newsbot check` on a bad file prints one line, no traceback, and exits 2."""
    path = write_config('[[channels]]\nid = "console"\ndigest = "daily 25:00"\n')
    done = subprocess.run([sys.executable, "-m", "bot", "check", "-c", str(path)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f'newsbot: {path}: channels[0].digest: "25:00" is not a time of day '
        "(use HH:MM, 00:00 to 23:59)"]


@pytest.mark.parametrize(("text", "ids"), [
    ("[discord]\n", None),
    ("[discord]\nshard_count = 3\n", (0, 1, 2)),
    ('[discord]\nshards = "0-3"\nshard_count = 8\n', (0, 1, 2, 3)),
    ('[discord]\nshards = "6, 0-1,4"\nshard_count = 8\n', (0, 1, 4, 6)),
])
def test_discord_shards_are_ranges_and_lists(write_config: Callable[[str], Path], text: str,
                                             ids: tuple[int, ...] | None) -> None:
    """`shards` takes ranges and comma lists; shard_count alone means every shard; neither
    means discord.py's own count (None)."""
    config = load_config(write_config(text), environ={})
    assert config.model.discord is not None and config.model.discord.shard_ids == ids


def test_missing_config_file_is_one_line(tmp_path: Path) -> None:
    """A config path that does not exist is named in the error."""
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml", environ={})


def test_example_config_documents_every_key() -> None:
    """Every key the config accepts is in config.example.toml; every value key has a comment."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    lines = [line.lstrip("# ") for line in text.splitlines()]
    for key, is_section in _config_keys(ConfigModel):
        if is_section:
            assert f"[{key}]" in text, f"[{key}] is missing from config.example.toml"
        else:
            assert any(line.startswith(f"{key} =") and "#" in line.split("=", 1)[1]
                       for line in lines), f"{key} has no commented line in config.example.toml"


def _config_keys(model: type) -> set[tuple[str, bool]]:
    found: set[tuple[str, bool]] = set()
    for name, section in sections_of(model).items():
        found.add((name, section is not None))
        if section is not None:
            found |= _config_keys(section)
    return found
