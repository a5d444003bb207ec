"""TOML file -> typed, validated Config; every error names the file, the key and the reason."""

from __future__ import annotations

import os
import re
import tomllib
from difflib import get_close_matches
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
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


Duration = Annotated[int, BeforeValidator(parse_duration)]
HttpUrl = Annotated[str, AfterValidator(check_http_url)]
TimeZone = Annotated[str, AfterValidator(_check_timezone)]
Port = Annotated[int, Field(ge=1, le=65535)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class BotSection(_Section):
    # An SQLite file, or "postgresql://user@host:5432/newsbot" (password from
    # NEWSBOT_DATABASE_PASSWORD, or the URL's standard forms)
    database: Annotated[str, AfterValidator(check_database)] = Field(  # no password in repr
        default="newsbot.db", repr=False)
    timezone: TimeZone = "UTC"
    log_level: str = Field(default="INFO", pattern=r"(?i)debug|info|warning|error")
    log_format: Literal["text", "json"] = "text"
    retention: Duration = 90 * 86400
    # How long a process's claim on a due feed or an outbox digest lasts unless renewed: the
    # work of a process that died is taken over by the others after this
    lease: Annotated[Duration, Field(ge=1, le=3600)] = 30


def check_listen(value: str) -> str:
    """Empty (off) or "host:port" such as "127.0.0.1:9464" or "[::1]:9464"."""
    host, _, port = value.rpartition(":")
    if value and (not host or not port.isdigit() or not 0 < int(port) < 65536):
        raise ValueError(f'"{value}" is not host:port (e.g. "127.0.0.1:9464")')
    return value


class MetricsSection(_Section):
    listen: Annotated[str, AfterValidator(check_listen)] = ""


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


class WebSection(_Section):
    listen: Annotated[str, AfterValidator(_check_listen)] = "127.0.0.1:8080"
    public_url: Annotated[str, AfterValidator(_check_public_url)] = ""  # "" = http://<listen>

    @property
    def listen_address(self) -> tuple[str, int]:
        """The host and port the web server listens on."""
        return split_host_port(self.listen)

    @property
    def base_url(self) -> str:
        """What page and feed links are built from (no trailing slash)."""
        return self.public_url or f"http://{self.listen.strip()}"


class FetchSection(_Section):
    interval: Duration = 900
    allow_private_addresses: bool = False
    allow_metadata_addresses: bool = False
    allowed_ports: tuple[Port, ...] = ()  # besides 80 and 443, on public addresses
    timeout: Duration = 30
    max_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    concurrency: int = Field(default=16, ge=1, le=256)
    per_host: int = Field(default=2, ge=1, le=16)
    max_entries: int = Field(default=200, ge=1, le=1000)
    notify_after_failures: int = Field(default=5, ge=1)
    disable_after: Duration = 7 * 86400
    max_feeds_per_channel: int = Field(default=50, ge=1)
    feed_adds_per_user: int = Field(default=50, ge=1)  # feeds tried from chat, per hour
    feed_adds_per_chat: int = Field(default=50, ge=1)  # per hour
    private_feed_adds_per_day: int = Field(default=200, ge=1)  # all private chats together
    user_agent: str = "newsbot/0.1 (RSS digest bot)"


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


class DiscordSection(_Section):
    api_base_url: HttpUrl = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg"
    shards: str = ""  # "" = every shard of shard_count
    shard_count: int | None = Field(default=None, ge=1, le=MAX_SHARDS)

    @property
    def shard_ids(self) -> tuple[int, ...] | None:
        """The shards this process runs; None = every shard (discord.py's automatic count
        when shard_count is unset too)."""
        if not self.shards.strip():
            return None if self.shard_count is None else tuple(range(self.shard_count))
        return parse_shard_ids(self.shards)

    @model_validator(mode="after")
    def _check_shards(self) -> DiscordSection:
        if not self.shards.strip():
            return self
        try:
            ids = parse_shard_ids(self.shards)
        except ValueError as error:
            raise _KeyError("discord.shards", str(error)) from None
        if self.shard_count is None:
            raise _KeyError("discord.shards", "needs shard_count, the total number of shards "
                            "of every process together")
        if ids[-1] >= self.shard_count:
            raise _KeyError("discord.shards", f"shard {ids[-1]} does not exist: with "
                            f"shard_count = {self.shard_count} the ids are 0 to "
                            f"{self.shard_count - 1}")
        return self


class TelegramSection(_Section):
    api_base_url: HttpUrl = "https://api.telegram.org/bot"
    webhook_url: Annotated[str, AfterValidator(_check_webhook_url)] = ""  # "" = long polling
    webhook_listen: Annotated[str, AfterValidator(_check_listen)] = "0.0.0.0:8443"
    # long polling: how long the poller's lease lasts unless renewed (every third of it)
    poller_lease: Annotated[Duration, Field(ge=3, le=3600)] = 30

    @property
    def listen_address(self) -> tuple[str, int]:
        """The host and port the webhook server listens on."""
        return split_host_port(self.webhook_listen)

    @model_validator(mode="after")
    def _check_webhook_scheme(self) -> TelegramSection:
        official = urlsplit(self.api_base_url).hostname == "api.telegram.org"
        if official and self.webhook_url and urlsplit(self.webhook_url).scheme != "https":
            raise _KeyError("telegram.webhook_url", "Telegram posts only to https URLs (plain "
                            "http works with a self-hosted Bot API server only)")
        return self


class FeedSection(_Section):
    url: HttpUrl
    name: str = ""
    tags: tuple[str, ...] = ()
    interval: Duration | None = None
    full_text: bool = False


class ChannelSection(_Section):
    id: Annotated[str, AfterValidator(_check_channel_id)]
    feeds: tuple[str, ...] = ("*",)
    filter: str = ""
    digest: str = "daily 08:00"
    timezone: TimeZone | None = None
    max_items: int = Field(default=10, ge=1, le=50)
    fairness: Literal["round-robin", "none"] = "round-robin"
    breaking: str = ""
    post_empty: bool = False
    publish: bool = False  # on the web from the first start (needs [web])


class TagsSection(_Section):
    aliases: dict[str, str] = Field(default_factory=dict)


class ConfigModel(_Section):
    bot: BotSection = BotSection()
    fetch: FetchSection = FetchSection()
    tags: TagsSection = TagsSection()
    metrics: MetricsSection = MetricsSection()
    web: WebSection | None = None
    discord: DiscordSection | None = None
    telegram: TelegramSection | None = None
    feeds: tuple[FeedSection, ...] = ()
    channels: tuple[ChannelSection, ...] = ()

    @model_validator(mode="after")
    def _check_references(self) -> ConfigModel:
        _check_unique("feeds", [f.url for f in self.feeds], "url")
        _check_unique("feeds", [f.name for f in self.feeds if f.name], "name")
        _check_unique("channels", [c.id for c in self.channels], "id")
        known = {f.url for f in self.feeds} | {f.name for f in self.feeds if f.name} | {"*"}
        for index, channel in enumerate(self.channels):
            tz = channel.timezone or self.bot.timezone
            try:
                parse_schedule(channel.digest, tz)
            except ScheduleError as error:
                raise _KeyError(f"channels[{index}].digest", str(error)) from None
            for key in ("filter", "breaking"):
                _check_filter(f"channels[{index}].{key}", getattr(channel, key))
            if channel.publish and self.web is None:
                raise _KeyError(f"channels[{index}].publish", "needs the web server: add a "
                                '[web] section (e.g. listen = "127.0.0.1:8080")')
            for name in channel.feeds:
                if name not in known:
                    raise _KeyError(f"channels[{index}].feeds",
                                    f'"{name}" is not the name or URL of a feed in this file')
        return self


class _KeyError(ValueError):
    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key, self.reason = key, reason


def _check_filter(key: str, text: str) -> None:
    if text.strip():
        try:
            parse_filter(text)
        except FilterError as error:
            raise _KeyError(key, str(error)) from None


def _check_unique(section: str, values: list[str], key: str) -> None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            raise _KeyError(f"{section}[{index}].{key}", f'"{value}" appears twice')
        seen.add(value)


_NO_SECRET = SecretStr("")


class Config(BaseModel):
    """The validated configuration plus the secrets taken from the environment.

    The secrets are SecretStr: repr, str, logs and model_dump_json show "**********"; the
    adapters get the value (get_secret_value) where they are built.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path
    model: ConfigModel
    discord_token: SecretStr = _NO_SECRET
    telegram_token: SecretStr = _NO_SECRET
    # "" = a random one each start, when webhook_url is set
    telegram_webhook_secret: SecretStr = _NO_SECRET
    database_password: SecretStr = _NO_SECRET  # for a PostgreSQL database

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
        model = ConfigModel.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"{path}: {_first_error(error)}") from None
    secret = env.get("TELEGRAM_WEBHOOK_SECRET", "")
    if secret and not _WEBHOOK_SECRET.fullmatch(secret):
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET (environment): Telegram accepts 1-256 "
                          f"characters of A-Z, a-z, 0-9, _ and - (it has {len(secret)})")
    return Config(path=path, model=model,
                  discord_token=SecretStr(env.get("DISCORD_TOKEN", "")),
                  telegram_token=SecretStr(env.get("TELEGRAM_TOKEN", "")),
                  telegram_webhook_secret=SecretStr(secret),
                  database_password=SecretStr(env.get("NEWSBOT_DATABASE_PASSWORD", "")))


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


def _first_error(error: ValidationError) -> str:
    detail = error.errors()[0]
    context = detail.get("ctx", {})
    inner = context.get("error")
    if isinstance(inner, _KeyError):
        return f"{inner.key}: {inner.reason}"
    key = _key_path(detail["loc"])
    kind = detail["type"]
    if kind == "extra_forbidden":
        return f"{key}: unknown key{_suggestion(detail['loc'])}"
    if kind == "missing":
        return f"{key}: required key is missing"
    if isinstance(inner, ValueError):
        return f"{key}: {inner}"
    message = detail["msg"][0].lower() + detail["msg"][1:]
    return f"{key}: {message} (got {_show(detail.get('input'))})"


def _suggestion(loc: tuple[int | str, ...]) -> str:
    """' (did you mean "x"?)' when a known key of the section is close to the unknown one."""
    close = get_close_matches(str(loc[-1]), _known_keys(loc[:-1]), n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _known_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys of the section at `loc` (list indexes skipped), or none when it isn't one."""
    model: type[BaseModel] = ConfigModel
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        section = _section_type(field.annotation) if field is not None else None
        if section is None:
            return []
        model = section
    return list(model.model_fields)


def _section_type(annotation: Any) -> type[BaseModel] | None:
    """The section model inside a field's type (`X`, `X | None`, `tuple[X, ...]`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _section_type(arg)
        if found is not None:
            return found
    return None


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not part.startswith("function-") and part not in ("tuple[str, ...]",):
            path += f".{part}" if path else part
    return path or "(top level)"


def _show(value: Any) -> str:
    return _cut(repr(value))
