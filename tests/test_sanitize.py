"""Tests for bot.chat.sanitize: cleaning, cutting, URL checks and per-platform escaping."""

from __future__ import annotations

import re

import pytest

from bot.chat.sanitize import (
    ZWSP,
    clean_text,
    defuse_telegram_mentions,
    discord_link_target,
    escape_discord,
    escape_telegram_html,
    fit_escaped,
    safe_url,
    strip_ansi,
    telegram_len,
    truncate,
    utf16_len,
)

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain title", "plain title"),
        ("  lots   of \t spaces \n", "lots of spaces"),
        ("line\nbreak\r\nand\u2028sep", "line break and sep"),
        ("bell\x07 null\x00 del\x7f c1\x85x", "bell null del c1 x"),
        ("zero\u200bwidth\u200c\u200d\u2060\ufeffjoin", "zerowidthjoin"),
        ("evil\u202egnp.exe", "evilgnp.exe"),
        ("isolate\u2066d\u2069 and marks\u200e\u200f\u061c", "isolated and marks"),
        ("\x1b[31mred\x1b[0m text", "red text"),
        ("title\x1b]0;pwned\x07 after", "title after"),
        ("cursor\x1b[2J\x1b[H home", "cursor home"),
        ("8-bit\x9b31m csi", "8-bit csi"),
        ("lone \ud800 surrogate", "lone surrogate"),
        ("nbsp\u00a0here", "nbsp here"),
        ("emoji 😀 stays", "emoji 😀 stays"),
    ],
)
def test_clean_text_strips_controls_invisibles_and_spaces(raw: str, expected: str) -> None:
    """Control, zero-width, bidi and escape sequences go; whitespace collapses to single spaces."""
    assert clean_text(raw) == expected


def test_clean_text_keeps_newlines_when_asked() -> None:
    """With keep_newlines, lines survive (stripped) and blank runs shrink to one blank line."""
    assert clean_text(" a \r\n\n\n\n b\x1b[1m \n c ", keep_newlines=True) == "a\n\nb\nc"


def test_clean_text_cuts_to_max_len() -> None:
    """max_len cuts at a word boundary and marks the cut with an ellipsis."""
    assert clean_text("the quick brown fox jumps", max_len=16) == "the quick brown…"


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("exactly ten", 11, "exactly ten"),
        ("hello world foo bar", 12, "hello world…"),
        ("x" * 30, 10, "x" * 9 + "…"),
        ("ab", 1, ""),
        ("ab", 0, ""),
        ("e\u0301" * 10, 6, "e\u0301e\u0301…"),
        ("👍🏽👍🏽👍🏽", 4, "👍🏽…"),
    ],
)
def test_truncate_cuts_at_words_and_never_splits_a_grapheme(
    text: str, limit: int, expected: str
) -> None:
    """Cutting prefers a word boundary, hard-cuts long words, keeps marks with their base."""
    assert truncate(text, limit) == expected


def test_truncate_measures_in_utf16_when_asked() -> None:
    """With the UTF-16 measure an astral character costs two units."""
    cut = truncate("😀😀😀😀", 5, utf16_len)
    assert cut == "😀😀…"
    assert utf16_len(cut) <= 5


def test_fit_escaped_keeps_the_escaped_result_within_limit() -> None:
    """Escaping grows text, so the raw text is cut until the escaped form fits."""
    out = fit_escaped("*" * 50, 20, escape_discord)
    assert len(out) <= 20
    assert out.endswith("…")


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("https://example.org/a", "", "https://example.org/a"),
        ("HTTP://Example.ORG/a", "", "http://example.org/a"),
        ("/news/1", "https://example.org/feed.xml", "https://example.org/news/1"),
        ("a b", "https://example.org/x/", "https://example.org/x/a%20b"),
        ('https://example.org/q?a=<b>&c="d"', "", "https://example.org/q?a=%3Cb%3E&c=%22d%22"),
        ("https://bücher.de/ä", "", "https://xn--bcher-kva.de/%C3%A4"),
        ("https://example.org/wiki/A_(b)", "", "https://example.org/wiki/A_(b)"),
        ("http://[::1]:8080/x", "", "http://[::1]:8080/x"),
        ("  https://example.org/\u200b", "", "https://example.org/"),
    ],
)
def test_safe_url_accepts_and_normalizes_http_links(url: str, base: str, expected: str) -> None:
    """http(s) links come back absolute, lowercase scheme and host, unsafe characters encoded."""
    assert safe_url(url, base) == expected


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("javascript:alert(1)", ""),
        ("JaVaScRiPt:alert(1)", "https://example.org/"),
        ("java\tscript:alert(1)", "https://example.org/"),
        ("\x01javascript:alert(1)", ""),
        ("data:text/html,<script>alert(1)</script>", ""),
        ("file:///etc/passwd", ""),
        ("tg://resolve?domain=x", ""),
        ("vbscript:msgbox(1)", ""),
        ("ftp://example.org/x", ""),
        ("//example.org/x", ""),
        ("/relative/only", ""),
        ("https://user:pass@example.org/", ""),
        ("https://user@example.org/", ""),
        ("https:///nohost", ""),
        ("https://example.org:99999/", ""),
        ("http://[::1/", ""),
        ("http://exa mple.org/", ""),
        ("https://example.org/" + "a" * 2100, ""),
        ("", ""),
    ],
)
def test_safe_url_refuses_unsafe_links(url: str, base: str) -> None:
    """Non-http schemes, credentials, missing hosts and overlong URLs give None."""
    assert safe_url(url, base) is None


def test_discord_link_target_encodes_parentheses() -> None:
    """A ')' in a target cannot close a masked link early."""
    assert discord_link_target("https://e.org/A_(b)") == "https://e.org/A_%28b%29"


@pytest.mark.parametrize(
    "hostile",
    [
        "**bold** __under__ ~~strike~~ ||spoiler|| `code`",
        "[click](javascript:alert(1))",
        "[free nitro](https://evil.example)",
        "> quote",
        "# heading",
        "-# subtext",
        "- list item",
        "```\ncode block\n```",
        "a\n  > quote on a later line",
    ],
)
def test_escape_discord_leaves_no_unescaped_markdown(hostile: str) -> None:
    """Every Markdown character comes out backslash-escaped, so nothing formats or links
    (list, heading and quote marks mean something only where a line starts)."""
    escaped = escape_discord(hostile)
    unescaped = re.sub(r"\\.", "", escaped)
    assert not re.search(r"[*_~`|\[\]()]|^\s*[-#>]", unescaped, re.MULTILINE)


def test_escape_discord_keeps_inner_hyphens_plain() -> None:
    """A name like Jae-myung or a score like 2-1 reads as written."""
    assert escape_discord("Lee Jae-myung wins 2-1 #1 > 0") == "Lee Jae-myung wins 2-1 #1 > 0"


@pytest.mark.parametrize(
    "hostile",
    [
        "@everyone look",
        "@here now",
        "hi @EveryOne",
        "<@123456789012345678>",
        "<@!123456789012345678>",
        "<@&123456789012345678>",
        "<#123456789012345678>",
        "</ban:123456789012345678>",
        "<t:1700000000:R>",
        "<:pepe:123456789012345678>",
        "<a:dance:123456789012345678>",
    ],
)
def test_escape_discord_makes_mentions_inert(hostile: str) -> None:
    """Mass mentions and <...> mention syntaxes are broken up by a zero-width space."""
    escaped = escape_discord(hostile)
    assert not re.search(r"@(everyone|here)", escaped, re.IGNORECASE)
    assert not re.search(r"<[@#/:at]", escaped)


@pytest.mark.parametrize(
    "invite",
    [
        "discord.gg/abc",
        "https://discord.gg/abc",
        "discord.com/invite/abc",
        "discordapp.com/invite/x",
    ],
)
def test_escape_discord_defuses_invite_links(invite: str) -> None:
    """Invite links cannot unfurl: a zero-width space splits the domain."""
    escaped = escape_discord(invite)
    assert ZWSP in escaped
    assert not re.search(r"discord(app)?\.(gg|com)", escaped)


def test_escape_discord_keeps_bare_urls_clickable() -> None:
    """Underscores inside a bare URL are not escaped (a backslash would break the link)."""
    assert escape_discord("see https://e.org/a_b_c now_") == "see https://e.org/a_b_c now\\_"


def test_escape_discord_escapes_backslashes() -> None:
    """A feed's own backslash cannot cancel our escaping."""
    assert escape_discord("\\*") == "\\\\\\*"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<b>bold</b>", "&lt;b&gt;bold&lt;/b&gt;"),
        ('a & "b"', "a &amp; &quot;b&quot;"),
        ("&amp;", "&amp;amp;"),
        ("plain", "plain"),
    ],
)
def test_escape_telegram_html(raw: str, expected: str) -> None:
    """&, <, > and " become entities; nothing else changes."""
    assert escape_telegram_html(raw) == expected


def test_defuse_telegram_mentions_breaks_every_at_name() -> None:
    """'@name' gets a zero-width space, even right after a word character."""
    assert defuse_telegram_mentions("@durov x@here") == f"@{ZWSP}durov x@{ZWSP}here"


@pytest.mark.parametrize(
    ("html_text", "expected"),
    [
        ("abc", 3),
        ("😀", 2),
        ("<b>a</b>", 1),
        ('<a href="https://e.org/very/long">x</a>', 1),
        ("&lt;&gt;&amp;&quot;", 4),
        ("é", 1),
        ("𝕏\n", 3),
    ],
)
def test_telegram_len_counts_utf16_after_entity_parsing(html_text: str, expected: int) -> None:
    """Tags are free, entities count one, astral characters count two."""
    assert telegram_len(html_text) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\x1b[1;31mbold red\x1b[0m", "bold red"),
        ("\x1b]2;new title\x1b\\rest", "rest"),
        ("\x1bPdevice\x1b\\x", "x"),
        ("\x1b7saved\x1b8", "saved"),
        ("no escapes", "no escapes"),
    ],
)
def test_strip_ansi_removes_terminal_sequences(raw: str, expected: str) -> None:
    """Colour, title, device-control and cursor-save sequences are removed whole."""
    assert strip_ansi(raw) == expected


@pytest.mark.parametrize("bidi", list(BIDI))
def test_clean_text_removes_each_bidi_control(bidi: str) -> None:
    """Every bidi embedding, override, isolate and mark is removed."""
    assert clean_text(f"a{bidi}b") == "ab"


def test_clean_text_caps_zalgo_marks() -> None:
    """Rendered text keeps at most four combining marks on a letter; Hebrew points stay."""
    assert clean_text("Z" + "\u0336" * 50 + "algo") == "Z" + "\u0336" * 4 + "algo"
    assert clean_text("שָׁלוֹם") == "שָׁלוֹם"
