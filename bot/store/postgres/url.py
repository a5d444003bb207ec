"""A PostgreSQL connection URL from the config: checked, its password kept apart and never
shown (str() and repr() give the URL without it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

SCHEMES = ("postgresql", "postgres")


def is_postgres_url(value: str) -> bool:
    """Whether the [bot] database setting names a PostgreSQL server rather than a file."""
    return value.partition("://")[0].lower() in SCHEMES and "://" in value


@dataclass(frozen=True, slots=True)
class PostgresUrl:
    """Where the server is (`dsn`, with no password in it) and the password, if any."""

    dsn: str
    password: str = field(default="", repr=False)

    def __str__(self) -> str:
        return self.dsn


def parse_postgres_url(value: str, password: str = "") -> PostgresUrl:
    """Check `value` and split the password off; `password` (from the environment) wins
    over one in the URL (user:secret@host or ?password=secret). Raises ValueError with a
    message that never contains the password."""
    parts = urlsplit(value)
    query = parse_qsl(parts.query, keep_blank_values=True)
    in_query = [v for k, v in query if k == "password"]
    query = [(k, v) for k, v in query if k != "password"]
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the port is not a number from 1 to 65535") from None
    if port == 0:
        raise ValueError("the port is not a number from 1 to 65535")
    if not parts.path.strip("/"):
        raise ValueError('name the database after the server, e.g. '
                         '"postgresql://newsbot@localhost/newsbot"')
    user = f"{quote(unquote(parts.username), safe='')}@" if parts.username else ""
    netloc = user + parts.netloc.rpartition("@")[2]
    dsn = urlunsplit(("postgresql", netloc, parts.path, urlencode(query, safe="/"), ""))
    secret = password or (unquote(parts.password) if parts.password else "") or (
        in_query[-1] if in_query else "")
    return PostgresUrl(dsn=dsn, password=secret)
