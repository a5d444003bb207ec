"""OPML: safe parsing, folders and titles, CLI import/export, chat import from a link."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import open_core
from bot.chat.request import Caller
from bot.config import load_config
from bot.feeds.opml import OpmlError, OpmlFeed, parse_opml, render_opml
from tests.fakes.feed_server import FeedServer
from tests.test_cli import newsbot

MODERATOR = Caller(channel_id="discord:1", user_id="discord:8", is_moderator=True)


def opml(*outlines: str) -> bytes:
    """An OPML 1.0 document with these outlines in its body."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="1.0"><head><title>x</title>'
            "</head><body>" + "".join(outlines) + "</body></opml>").encode()


def test_nested_outlines_are_read_with_their_titles() -> None:
    """Feeds inside folders are found; title (else text) becomes the name; folders are not."""
    found = parse_opml(opml(
        '<outline text="News"><outline text="World" title="World &amp; more" type="rss" '
        'xmlUrl="https://a.example/rss"/><outline text="Deep"><outline text="Tech" '
        'xmlURL="https://b.example/atom"/></outline></outline>',
        '<outline text="A page" htmlUrl="https://c.example/"/>'))
    assert found == [OpmlFeed("https://a.example/rss", "World & more"),
                     OpmlFeed("https://b.example/atom", "Tech")]


@pytest.mark.parametrize("document", [
    b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
    b'<opml><body><outline text="&b;" xmlUrl="https://a.example/"/></body></opml>',
    b'<?xml version="1.0"?><!DOCTYPE opml SYSTEM "file:///etc/passwd"><opml/>',
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><opml/>'
    .encode("utf-16"),
])
def test_declarations_are_refused(document: bytes) -> None:
    """DOCTYPE and entity declarations are refused before any expansion, in any encoding."""
    with pytest.raises(OpmlError, match="declarations are not accepted"):
        parse_opml(document)


@pytest.mark.parametrize(("document", "reason"), [
    (b"<opml><body>", "not valid XML"),
    (b'<rss version="2.0"></rss>', "not an OPML file"),
])
def test_broken_documents_say_why(document: bytes, reason: str) -> None:
    """Malformed XML and other XML documents are OpmlErrors with a reason."""
    with pytest.raises(OpmlError, match=reason):
        parse_opml(document)


def test_render_then_parse_round_trips() -> None:
    """An exported document reads back as the same feeds, odd characters included."""
    feeds = [OpmlFeed("https://a.example/rss?x=1&y=2", 'Quotes "and" <tags>'),
             OpmlFeed("https://b.example/feed", "")]
    text = render_opml(feeds, "mine & yours", datetime(2026, 1, 2, tzinfo=UTC))
    assert parse_opml(text.encode()) == [feeds[0], OpmlFeed("https://b.example/feed",
                                                            "https://b.example/feed")]


@pytest.mark.slow
def test_cli_import_reports_and_is_idempotent(tmp_path: Path,
                                              write_config: Callable[[str], Path]) -> None:
    """`feeds import` adds, skips what is there, refuses private and non-http URLs; twice
    is the same as once; `feeds export` writes them back out."""
    config = write_config('[[feeds]]\nurl = "https://known.example/rss"\n'
                          '[[channels]]\nid = "console"\n')
    source = tmp_path / "in.opml"
    source.write_bytes(opml(
        '<outline text="Folder"><outline title="New one" xmlUrl="https://new.example/rss"/>'
        '</outline>', '<outline text="Known" xmlUrl="https://known.example/rss"/>',
        '<outline text="Local" xmlUrl="http://127.0.0.1/feed"/>',
        '<outline text="FTP" xmlUrl="ftp://files.example/feed"/>'))
    first = newsbot(config, "feeds", "import", str(source))
    assert first.returncode == 0, first.stderr
    assert "Imported 1 feeds; 1 were already there, 2 refused." in first.stdout
    assert "refused http://127.0.0.1/feed: 127.0.0.1 is a private or reserved" in first.stdout
    second = newsbot(config, "feeds", "import", str(source))
    assert "Imported 0 feeds; 2 were already there, 2 refused." in second.stdout
    out = tmp_path / "out.opml"
    assert newsbot(config, "feeds", "export", str(out)).returncode == 0
    exported = parse_opml(out.read_bytes())
    assert {f.url for f in exported} == {"https://new.example/rss", "https://known.example/rss"}
    assert OpmlFeed("https://new.example/rss", "New one") in exported


@pytest.mark.slow
def test_cli_import_of_a_bad_file_is_one_line(tmp_path: Path,
                                              write_config: Callable[[str], Path]) -> None:
    """A file that isn't OPML is reported in one line with exit status 1."""
    config = write_config('[[channels]]\nid = "console"\n')
    bad = tmp_path / "bad.opml"
    bad.write_bytes(b"<html>")
    done = newsbot(config, "feeds", "import", str(bad))
    assert done.returncode == 1 and "not valid XML" in done.stderr
    assert "Traceback" not in done.stderr


async def test_chat_import_from_a_link_then_export(feed_server: FeedServer,
                                                   write_config: Callable[[str], Path]) -> None:
    """/feed import <link> fetches the OPML through the guard; the channel follows the
    feeds, and /feed export lists them."""
    feed_server.bodies["subs.opml"] = opml(
        f'<outline text="World" xmlUrl="{feed_server.url("world_news.xml")}"/>')
    path = write_config('[fetch]\nallow_private_addresses = true\n'
                        '[[channels]]\nid = "discord:1"\nfeeds = []\n')
    async with open_core(load_config(path, environ={})) as core:
        reply = await core.commands.handle(MODERATOR,
                                           f"/feed import {feed_server.url('subs.opml')}")
        exported = await core.commands.handle(MODERATOR, "/feed export")
    assert reply.text.startswith("Imported 1 feeds; 0 were already there, 0 refused.")
    assert exported.file is not None and exported.file.name == "feeds.opml"
    assert parse_opml(exported.file.data) == [OpmlFeed(feed_server.url("world_news.xml"),
                                                           "World")]
