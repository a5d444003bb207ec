"""TOML file -> typed, validated Config; every error names the file, the key and the reason."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from bot.config_values import (
    KeyProblem,
    Location,
    Many,
    Read,
    Section,
    bounded,
    choice,
    converted,
    flag,
    integer,
    key,
    read_section,
    table_of_texts,
    text,
)
from bot.digest.schedule import ScheduleError, load_zone, parse_schedule
from bot.filters.parse import FilterError, parse_filter
from bot.store.postgres.url import PostgresUrl, is_postgres_url, parse_postgres_url

_DURATION = re.compile(r"(\d{1,12})\s*(s|m|h|d)")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_DURATION = 3650 * 86400  # ten years; a longer one overflows dates and SQLite integers
_CHANNEL_ID = re.compile(r"console|discord:\d{1,20}|telegram:-?\d{1,20}(/\d{1,20})?")
_HOST = re.compile(r"[A-Za-z0-9.:-]{1,253}")  # a name, an IPv4 or an IPv6 address
# Telegram's rule for a webhook's secret token (sent back in X-Telegram-Bot-Api-Secret-Token).
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_SHARD_PART = re.compile(r"(\d{1,5})(?:\s*-\s*(\d{1,5}))?")
MAX_SHARDS = 65536
MAX_CONFIG_BYTES = 1024 * 1024  # a config of thousands of feeds is a few hundred KiB
MAX_KEY_PARTS = 32
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')[ \t]*\.[ \t]*"""  # `a.`, `"b" .`
_DEEP_KEY = re.compile(rf"(?<![A-Za-z0-9_-])(?:{_KEY_PART}){{{MAX_KEY_PARTS}}}")


class ConfigError(Exception):
    """One line naming the file, the key path and the reason."""


def parse_duration(text: str | int) -> int:
    """`90s`, `15m`, `6h`, `1d` (or a number of seconds) -> seconds."""
    if isinstance(text, int) and not isinstance(text, bool):
        seconds = text
    elif isinstance(text, str) and (match := _DURATION.fullmatch(text.strip())):
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    else:
        raise ValueError(
            f'"{_cut(str(text))}" is not a duration (use e.g. "90s", "15m", "6h", "1d")')
    if seconds <= 0:
        raise ValueError(f'"{text}" must be longer than zero')
    if seconds > MAX_DURATION:
        raise ValueError(f'"{_cut(str(text))}" is longer than {MAX_DURATION // 86400} days')
    return seconds


def _cut(text: str) -> str:
    """A value short enough to quote in an error line."""
    return text if len(text) <= 40 else text[:37] + "..."


def check_http_url(url: str) -> str:
    """An absolute http(s) URL with a host, else a ValueError saying why."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f'"{url}" is not an http(s) URL')
    if parts.username or parts.password:
        raise ValueError(f'"{url}" carries credentials; put no user or password in feed URLs')
    return url.strip()


def _check_timezone(name: str) -> str:
    try:
        load_zone(name)
    except ScheduleError as error:
        raise ValueError(str(error)) from None
    return name


def split_host_port(text: str) -> tuple[str, int]:
    """`0.0.0.0:8443` or `[::]:8443` -> (host, port); ValueError saying why not."""
    host, colon, port = text.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not _HOST.fullmatch(host) or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f'"{text}" is not host:port (use e.g. "0.0.0.0:8443" or "[::]:8443")')
    return host, int(port)


def _check_listen(text: str) -> str:
    split_host_port(text)
    return text


def _check_webhook_url(url: str) -> str:
    return check_http_url(url) if url.strip() else ""


def _check_channel_id(value: str) -> str:
    if not _CHANNEL_ID.fullmatch(value):
        raise ValueError(f'"{value}" is not a channel id (use "console", "discord:<channel id>", '
                         '"telegram:<chat id>" or "telegram:<chat id>/<topic id>")')
    return value


def _duration(low: int | None = None, high: int | None = None) -> Read:
    """A duration ("90s", "15m", "2h", "1d" or seconds) in [low, high] seconds."""
    def read(value: Any) -> int:
        return bounded(parse_duration(value), low, high, unit="s")
    return converted(read)


def _port(value: object, loc: Location) -> int:
    return int(integer(1, 65535)(value, loc))


def check_database(value: str) -> str:
    """An SQLite file path, or a postgresql:// (postgres://) URL naming server and database.
    The message never repeats the URL (it may hold a password)."""
    if is_postgres_url(value):
        parse_postgres_url(value)
    elif "://" in value:
        raise ValueError(f'"{value.partition("://")[0]}://..." is neither an SQLite file path '
                         'nor a postgresql:// URL')
    elif not value.strip():
        raise ValueError("empty: give an SQLite file path or a postgresql:// URL")
    return value


def _http_url() -> Read:
    return text(check_http_url)


@dataclass(frozen=True, slots=True)
class BotSection:
    # An SQLite file, or "postgresql://user@host:5432/newsbot" (password from
    # NEWSBOT_DATABASE_PASSWORD, or the URL's standard forms); never in repr
    database: str = key("newsbot.db", read=text(check_database), shown=False)
    timezone: str = key("UTC", read=text(_check_timezone))
    log_level: str = key("INFO", read=choice("debug", "info", "warning", "error", fold_case=True))
    log_format: Literal["text", "json"] = key("text", read=choice("text", "json"))
    retention: int = key(90 * 86400, read=_duration())
    # How long a process's claim on a due feed or an outbox digest lasts unless renewed: the
    # work of a process that died is taken over by the others after this
    lease: int = key(30, read=_duration(1, 3600))


def check_listen(value: str) -> str:
    """Empty (off) or "host:port" such as "127.0.0.1:9464" or "[::1]:9464"."""
    host, _, port = value.rpartition(":")
    if value and (not host or not port.isdigit() or not 0 < int(port) < 65536):
        raise ValueError(f'"{value}" is not host:port (e.g. "127.0.0.1:9464")')
    return value


@dataclass(frozen=True, slots=True)
class MetricsSection:
    listen: str = key("", read=text(check_listen))


def _check_public_url(url: str) -> str:
    """Empty (links built from `listen`) or an http(s) URL without query or fragment."""
    if not url.strip():
        return ""
    check_http_url(url)
    parts = urlsplit(url.strip())
    if parts.query or parts.fragment:
        raise ValueError(f'"{_cut(url)}" has a query or fragment; give the address the pages '
                         'are reached at, e.g. "https://news.example.org/"')
    return url.strip().rstrip("/")


@dataclass(frozen=True, slots=True)
class WebSection:
    listen: str = key("127.0.0.1:8080", read=text(_check_listen))
    public_url: str = key("", read=text(_check_public_url))  # "" = http://<listen>

    @property
    def listen_address(self) -> tuple[str, int]:
        """The host and port the web server listens on."""
        return split_host_port(self.listen)

    @property
    def base_url(self) -> str:
        """What page and feed links are built from (no trailing slash)."""
        return self.public_url or f"http://{self.listen.strip()}"


@dataclass(frozen=True, slots=True)
class FetchSection:
    interval: int = key(900, read=_duration())
    allow_private_addresses: bool = key(False, read=flag())
    allow_metadata_addresses: bool = key(False, read=flag())
    allowed_ports: tuple[int, ...] = key((), read=Many(_port))  # besides 80, 443 (public)
    timeout: int = key(30, read=_duration())
    max_bytes: int = key(5 * 1024 * 1024, read=integer(1))
    concurrency: int = key(16, read=integer(1, 256))
    per_host: int = key(2, read=integer(1, 16))
    max_entries: int = key(200, read=integer(1, 1000))
    notify_after_failures: int = key(5, read=integer(1))
    disable_after: int = key(7 * 86400, read=_duration())
    max_feeds_per_channel: int = key(50, read=integer(1))
    feed_adds_per_user: int = key(50, read=integer(1))  # feeds tried from chat, per hour
    feed_adds_per_chat: int = key(50, read=integer(1))  # per hour
    private_feed_adds_per_day: int = key(200, read=integer(1))  # all private chats together
    user_agent: str = key("newsbot/0.1 (RSS digest bot)", read=text())


def parse_shard_ids(text: str) -> tuple[int, ...]:
    """`"0-3"`, `"4,5,7"` or `"0-1,6"` -> the shard ids, sorted; ValueError saying why not."""
    ids: set[int] = set()
    for part in text.split(","):
        if not (match := _SHARD_PART.fullmatch(part.strip())):
            raise ValueError(f'"{_cut(text)}" is not a list of shard ids (use e.g. "0-3" or '
                             '"0,2,5")')
        low, high = int(match.group(1)), int(match.group(2) or match.group(1))
        if high < low:
            raise ValueError(f'"{part.strip()}" is an empty range (write the lower id first)')
        ids.update(range(low, high + 1))
    return tuple(sorted(ids))


@dataclass(frozen=True, slots=True)
class DiscordSection:
    api_base_url: str = key("https://discord.com/api/v10", read=_http_url())
    gateway_url: str = key("wss://gateway.discord.gg", read=text())
    shards: str = key("", read=text())  # "" = every shard of shard_count
    shard_count: int | None = key(None, read=integer(1, MAX_SHARDS))

    @property
    def shard_ids(self) -> tuple[int, ...] | None:
        """The shards this process runs; None = every shard (discord.py's automatic count
        when shard_count is unset too)."""
        if not self.shards.strip():
            return None if self.shard_count is None else tuple(range(self.shard_count))
        return parse_shard_ids(self.shards)

    def __post_init__(self) -> None:
        if not self.shards.strip():
            return
        try:
            ids = parse_shard_ids(self.shards)
        except ValueError as error:
            raise KeyProblem("discord.shards", str(error)) from None
        if self.shard_count is None:
            raise KeyProblem("discord.shards", "needs shard_count, the total number of shards "
                             "of every process together")
        if ids[-1] >= self.shard_count:
            raise KeyProblem("discord.shards", f"shard {ids[-1]} does not exist: with "
                             f"shard_count = {self.shard_count} the ids are 0 to "
                             f"{self.shard_count - 1}")


@dataclass(frozen=True, slots=True)
class TelegramSection:
    api_base_url: str = key("https://api.telegram.org/bot", read=_http_url())
    webhook_url: str = key("", read=text(_check_webhook_url))  # "" = long polling
    webhook_listen: str = key("0.0.0.0:8443", read=text(_check_listen))
    # long polling: how long the poller's lease lasts unless renewed (every third of it)
    poller_lease: int = key(30, read=_duration(3, 3600))

    @property
    def listen_address(self) -> tuple[str, int]:
        """The host and port the webhook server listens on."""
        return split_host_port(self.webhook_listen)

    def __post_init__(self) -> None:
        official = urlsplit(self.api_base_url).hostname == "api.telegram.org"
        if official and self.webhook_url and urlsplit(self.webhook_url).scheme != "https":
            raise KeyProblem("telegram.webhook_url", "Telegram posts only to https URLs (plain "
                             "http works with a self-hosted Bot API server only)")


@dataclass(frozen=True, slots=True)
class FeedSection:
    url: str = key(read=_http_url())
    name: str = key("", read=text())
    tags: tuple[str, ...] = key((), read=Many(text()))
    interval: int | None = key(None, read=_duration())
    full_text: bool = key(False, read=flag())


@dataclass(frozen=True, slots=True)
class ChannelSection:
    id: str = key(read=text(_check_channel_id))
    feeds: tuple[str, ...] = key(("*",), read=Many(text()))
    filter: str = key("", read=text())
    digest: str = key("daily 08:00", read=text())
    timezone: str | None = key(None, read=text(_check_timezone))
    max_items: int = key(10, read=integer(1, 50))
    fairness: Literal["round-robin", "none"] = key("round-robin",
                                                   read=choice("round-robin", "none"))
    breaking: str = key("", read=text())
    post_empty: bool = key(False, read=flag())
    publish: bool = key(False, read=flag())  # on the web from the first start (needs [web])


@dataclass(frozen=True, slots=True)
class TagsSection:
    aliases: dict[str, str] = key(read=table_of_texts(), factory=dict)


@dataclass(frozen=True, slots=True)
class ConfigModel:
    bot: BotSection = key(BotSection(), read=Section(BotSection))
    fetch: FetchSection = key(FetchSection(), read=Section(FetchSection))
    tags: TagsSection = key(read=Section(TagsSection), factory=TagsSection)
    metrics: MetricsSection = key(MetricsSection(), read=Section(MetricsSection))
    web: WebSection | None = key(None, read=Section(WebSection))
    discord: DiscordSection | None = key(None, read=Section(DiscordSection))
    telegram: TelegramSection | None = key(None, read=Section(TelegramSection))
    feeds: tuple[FeedSection, ...] = key((), read=Many(Section(FeedSection)))
    channels: tuple[ChannelSection, ...] = key((), read=Many(Section(ChannelSection)))

    def __post_init__(self) -> None:
        _check_unique("feeds", [f.url for f in self.feeds], "url")
        _check_unique("feeds", [f.name for f in self.feeds if f.name], "name")
        _check_unique("channels", [c.id for c in self.channels], "id")
        known = {f.url for f in self.feeds} | {f.name for f in self.feeds if f.name} | {"*"}
        for index, channel in enumerate(self.channels):
            tz = channel.timezone or self.bot.timezone
            try:
                parse_schedule(channel.digest, tz)
            except ScheduleError as error:
                raise KeyProblem(f"channels[{index}].digest", str(error)) from None
            for name in ("filter", "breaking"):
                _check_filter(f"channels[{index}].{name}", getattr(channel, name))
            if channel.publish and self.web is None:
                raise KeyProblem(f"channels[{index}].publish", "needs the web server: add a "
                                 '[web] section (e.g. listen = "127.0.0.1:8080")')
            for name in channel.feeds:
                if name not in known:
                    raise KeyProblem(f"channels[{index}].feeds",
                                     f'"{name}" is not the name or URL of a feed in this file')


def _check_filter(key: str, text: str) -> None:
    if text.strip():
        try:
            parse_filter(text)
        except FilterError as error:
            raise KeyProblem(key, str(error)) from None


def _check_unique(section: str, values: list[str], key: str) -> None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            raise KeyProblem(f"{section}[{index}].{key}", f'"{value}" appears twice')
        seen.add(value)


class Secret:
    """A value that never shows: repr, str and f-strings give "**********"; the adapters
    get the value (get_secret_value) where they are built. Empty is false."""

    __slots__ = ("_value",)

    def __init__(self, value: str = "") -> None:
        self._value = value

    def get_secret_value(self) -> str:
        """The secret itself."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __repr__(self) -> str:
        return f"Secret('{self}')"


_NO_SECRET = Secret()


@dataclass(frozen=True, slots=True)
class Config:
    """The validated configuration plus the secrets taken from the environment."""

    path: Path
    model: ConfigModel
    discord_token: Secret = _NO_SECRET
    telegram_token: Secret = _NO_SECRET
    # "" = a random one each start, when webhook_url is set
    telegram_webhook_secret: Secret = _NO_SECRET
    database_password: Secret = _NO_SECRET  # for a PostgreSQL database

    @property
    def database(self) -> Path | PostgresUrl:
        """The SQLite file (relative paths taken from the config file's folder), or the
        PostgreSQL server (str() shows it without its password)."""
        setting = self.model.bot.database
        if is_postgres_url(setting):
            return parse_postgres_url(setting, self.database_password.get_secret_value())
        return (self.path.parent / setting).resolve()


def load_config(path: Path, environ: dict[str, str] | None = None) -> Config:
    """Read and validate `path`; ConfigError carries the one line the user sees."""
    env = os.environ if environ is None else environ
    data = _read_toml(path)
    try:
        model = read_section(ConfigModel, data)
    except KeyProblem as problem:
        raise ConfigError(f"{path}: {problem.key}: {problem.reason}") from None
    secret = env.get("TELEGRAM_WEBHOOK_SECRET", "")
    if secret and not _WEBHOOK_SECRET.fullmatch(secret):
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET (environment): Telegram accepts 1-256 "
                          f"characters of A-Z, a-z, 0-9, _ and - (it has {len(secret)})")
    return Config(path=path, model=model,
                  discord_token=Secret(env.get("DISCORD_TOKEN", "")),
                  telegram_token=Secret(env.get("TELEGRAM_TOKEN", "")),
                  telegram_webhook_secret=Secret(secret),
                  database_password=Secret(env.get("NEWSBOT_DATABASE_PASSWORD", "")))


def _read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML; whatever is wrong with it (size, encoding, syntax, a number of
    thousands of digits, nesting that would exhaust the stack) is one ConfigError."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES // 1024} KiB; "
                          "is it the config file?")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (byte {error.start})") from None
    if _DEEP_KEY.search(text):  # tomllib's time and memory grow with the square of its depth
        raise ConfigError(f"{path}: a dotted key of more than {MAX_KEY_PARTS} parts")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
    except ValueError:  # int() refuses more than sys.get_int_max_str_digits() digits
        raise ConfigError(f"{path}: not valid TOML: a number with too many digits") from None
