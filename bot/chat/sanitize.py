"""Output safety: clean, cut, escape and link-check feed text before it reaches any chat."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from bot.enrich.text import cap_marks
from bot.terminal import BIDI_CONTROLS, ESCAPE_SEQUENCE

ELLIPSIS = "…"
ZWSP = "\u200b"
MAX_URL_LEN = 2048

_INVISIBLE = frozenset(
    "\u200b\u200c\u200d\u2060\ufeff"  # zero-width
    + BIDI_CONTROLS + "\u200e\u200f\u061c"  # bidi
)
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
_HSPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_TAG = re.compile(r"<[^>]*>")

Measure = Callable[[str], int]


def strip_ansi(s: str) -> str:
    """Remove terminal escape sequences (colours, cursor moves, window titles)."""
    return ESCAPE_SEQUENCE.sub("", s)


def _char_class(ch: str, keep_newlines: bool) -> str:
    """Map one character to what clean text keeps: itself, a space, a newline or nothing."""
    if ch in _LINE_BREAKS:
        return "\n" if keep_newlines else " "
    if ch in _INVISIBLE:
        return ""
    category = unicodedata.category(ch)
    if category == "Cc":
        return " " if ch == "\t" else ""
    if category in ("Cf", "Cs"):  # invisible format characters; lone surrogates
        return ""
    return ch


class _CleanTable(dict[int, str]):
    """str.translate table of what _char_class keeps of each character, filled as characters
    are first seen: classifying all of Unicode up front took a tenth of a second of every
    process that printed a story."""

    def __init__(self, keep_newlines: bool) -> None:
        super().__init__()
        self._keep_newlines = keep_newlines

    def __missing__(self, code: int) -> str:
        kept = self[code] = _char_class(chr(code), self._keep_newlines)
        return kept


_CLEAN_TABLES = {keep: _CleanTable(keep) for keep in (False, True)}


def clean_text(s: str, max_len: int | None = None, *, keep_newlines: bool = False) -> str:
    """Strip escapes, control, zero-width and bidi characters, cap runs of combining marks,
    normalize spaces, cut to max_len."""
    if max_len is not None:  # bound the work on huge input; cleaning only ever shortens text
        s = s[: 4 * max_len + 256]
    s = strip_ansi(s.replace("\r\n", "\n"))
    s = cap_marks(s.translate(_CLEAN_TABLES[keep_newlines]))
    if keep_newlines:
        lines = (_HSPACE.sub(" ", line).strip() for line in s.split("\n"))
        s = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    else:
        s = _HSPACE.sub(" ", s).strip()
    return s if max_len is None else truncate(s, max_len)


def utf16_len(s: str) -> int:
    """Length in UTF-16 code units (astral characters count 2)."""
    return len(s) + sum(1 for ch in s if ord(ch) > 0xFFFF)


def _is_attached(ch: str) -> bool:
    """Whether ch belongs to the grapheme before it (combining mark, selector, skin tone)."""
    code = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Mc", "Me")
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
        or 0x1F3FB <= code <= 0x1F3FF
    )


def _prefix_end(s: str, budget: int, measure: Measure) -> int:
    """The largest index i such that measure(s[:i]) <= budget, counted character by character."""
    used = 0
    for i, ch in enumerate(s):
        used += measure(ch)
        if used > budget:
            return i
    return len(s)


def truncate(s: str, limit: int, measure: Measure = len) -> str:
    """Cut s so that measure(result) <= limit, at a word boundary when one is near, adding '…'."""
    if measure(s) <= limit:
        return s
    budget = limit - measure(ELLIPSIS)
    if budget <= 0:
        return ""
    end = _prefix_end(s, budget, measure)
    while end > 0 and _is_attached(s[end]):
        end -= 1
    space = s.rfind(" ", 0, end + 1)
    if space >= end // 2 and space > 0:
        end = space
    head = s[:end].rstrip()
    return head + ELLIPSIS if head else ""


def fit_escaped(text: str, limit: int, escape: Callable[[str], str], measure: Measure = len) -> str:
    """Escape text, cutting the raw text first as far as needed to keep the result within limit."""
    limit = max(limit, 0)
    budget = measure(text)
    while True:
        out = escape(truncate(text, budget, measure))
        size = measure(out)
        if size <= limit:
            return out
        budget = min(budget - 1, budget * limit // size)  # escaping grows text proportionally


_URL_UNSAFE = re.compile(r"[^A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]")


def _encode_unsafe(url: str) -> str:
    """Percent-encode every character that may not appear raw in a URL (spaces, controls, <>)."""
    return _URL_UNSAFE.sub(lambda m: quote(m.group(0), safe=""), url)


_HOST = re.compile(r"[a-z0-9](?:[a-z0-9\-_.]*[a-z0-9])?|\[[0-9a-f:.]+\]")


def _ascii_netloc(host: str, port: int | None) -> str | None:
    """The host (IDNA-encoded when non-ASCII) and port, or None when the host is malformed."""
    try:
        ascii_host = host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    ascii_host = ascii_host.lower()
    if ":" in ascii_host:
        ascii_host = f"[{ascii_host}]"
    if not _HOST.fullmatch(ascii_host):
        return None
    return ascii_host if port is None else f"{ascii_host}:{port}"


def safe_url(url: str, base: str = "") -> str | None:
    """An absolute http(s) URL without credentials, or None when the link must not be shown."""
    raw = "".join(ch for ch in url if ch == " " or (ch not in _INVISIBLE and ch.isprintable()))
    raw = raw.strip()
    if not raw:
        return None
    try:
        parts = urlsplit(urljoin(base, raw) if base else raw)
        port = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if "@" in parts.netloc:  # credentials (user:pass@) are refused, never silently dropped
        return None
    netloc = _ascii_netloc(parts.hostname, port)
    if netloc is None:
        return None
    rebuilt = urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))
    encoded = _encode_unsafe(rebuilt)
    return encoded if len(encoded) <= MAX_URL_LEN else None


# --- Discord -------------------------------------------------------------------------------

_DISCORD_INVITE = re.compile(
    r"(discord(?:app)?)(\s*\.\s*(?:gg|com\s*/\s*invite|io|me|li|new)\b)", re.IGNORECASE
)
_DISCORD_BARE_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#!$&+,;=%]+")
_DISCORD_MARKDOWN = re.compile(r"[\\*_~`|\[\]()]")
# Marks that only mean something at the start of a line: lists, headings, quotes, subtext.
_DISCORD_LINE_START = re.compile(r"^(\s*)([-#>]+)", re.MULTILINE)
_DISCORD_LIST_NUMBER = re.compile(r"^(\s*\d+)\.(?=\s|$)", re.MULTILINE)
_DISCORD_MASS_MENTION = re.compile(r"@(?=everyone|here)", re.IGNORECASE)
_DISCORD_ANGLE = re.compile(r"<")


def defuse_discord_mentions(s: str) -> str:
    """Make @everyone/@here, <@id>, <#id>, </cmd:id>, <t:..>, <:emoji:id> and invites inert."""
    s = _DISCORD_INVITE.sub(lambda m: m.group(1) + ZWSP + m.group(2), s)
    s = _DISCORD_MASS_MENTION.sub("@" + ZWSP, s)
    return _DISCORD_ANGLE.sub("<" + ZWSP, s)


def _escape_markdown_run(s: str) -> str:
    """Backslash-escape every Markdown-significant character in a run of non-URL text."""
    return _DISCORD_MARKDOWN.sub(lambda m: "\\" + m.group(0), s)


def escape_discord_markdown(s: str) -> str:
    """Escape Discord Markdown so the text renders literally; bare http(s) URLs stay clickable."""
    out: list[str] = []
    pos = 0
    for m in _DISCORD_BARE_URL.finditer(s):
        out.append(_escape_markdown_run(s[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_escape_markdown_run(s[pos:]))
    escaped = _DISCORD_LINE_START.sub(
        lambda m: m[1] + "".join(f"\\{mark}" for mark in m[2]), "".join(out))
    return _DISCORD_LIST_NUMBER.sub(r"\1\\.", escaped)


def escape_discord(s: str) -> str:
    """Discord-safe text: Markdown escaped, masked links impossible, mentions and invites inert."""
    return defuse_discord_mentions(escape_discord_markdown(s))


def discord_link_target(url: str) -> str:
    """A safe_url-checked URL made safe inside a Markdown masked link's parentheses."""
    return url.replace("(", "%28").replace(")", "%29")


# --- Telegram ------------------------------------------------------------------------------

_TELEGRAM_MENTION = re.compile(r"@(?=\w)")


def escape_telegram_html(s: str) -> str:
    """Escape text for Telegram's HTML parse mode (&, <, > and ")."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def defuse_telegram_mentions(s: str) -> str:
    """Keep '@username' in feed text from becoming a mention that notifies someone.

    Every '@' before a word character is defused (e-mail addresses too: they stop being links).
    """
    return _TELEGRAM_MENTION.sub("@" + ZWSP, s)


def telegram_len(html_text: str) -> int:
    """The length Telegram counts: text after tags are removed and entities decoded, in UTF-16."""
    return utf16_len(html.unescape(_TAG.sub("", html_text)))
