"""OPML: read the feeds of a subscription list (safely), write one for export."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import NoReturn
from xml.parsers import expat
from xml.sax.saxutils import quoteattr

MAX_OPML_BYTES = 5 * 1024 * 1024


class OpmlError(Exception):
    """Not a readable OPML file; the message says why."""


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One outline with a feed URL, wherever it sits in the folder tree."""

    url: str
    title: str = ""


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """The feeds of an OPML document, in order, each URL once.

    Document type and entity declarations are refused before anything is expanded, so
    no "billion laughs" or external entity can get through.
    """
    if len(data) > MAX_OPML_BYTES:
        raise OpmlError(f"the file is larger than {MAX_OPML_BYTES // (1024 * 1024)} MiB")
    found: dict[str, OpmlFeed] = {}
    names: list[str] = []
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_declarations
    parser.EntityDeclHandler = _refuse_declarations
    parser.ExternalEntityRefHandler = _refuse_declarations

    def start(name: str, attributes: dict[str, str]) -> None:
        names.append(name)
        if name == "outline":
            feed = _outline_feed(attributes)
            if feed is not None and feed.url not in found:
                found[feed.url] = feed

    parser.StartElementHandler = start
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise OpmlError(f"not valid XML: {expat.errors.messages[error.code]} at line "
                        f"{error.lineno}") from None
    if not names or names[0] != "opml":
        raise OpmlError("not an OPML file (its root element is not <opml>)")
    return list(found.values())


def _refuse_declarations(*_: object) -> NoReturn:
    raise OpmlError("document type and entity declarations are not accepted")


def _outline_feed(attributes: dict[str, str]) -> OpmlFeed | None:
    lowered = {key.lower(): value.strip() for key, value in attributes.items()}
    url = lowered.get("xmlurl", "")
    if not url:
        return None  # a folder, or a link to a web page
    return OpmlFeed(url=url, title=lowered.get("title") or lowered.get("text", ""))


def render_opml(feeds: Sequence[OpmlFeed], title: str, now: datetime) -> str:
    """An OPML 2.0 document listing these feeds."""
    outlines = "".join(
        f"    <outline type=\"rss\" text={quoteattr(f.title or f.url)} "
        f"title={quoteattr(f.title or f.url)} xmlUrl={quoteattr(f.url)}/>\n" for f in feeds)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n  <head>\n'
            f"    <title>{_text(title)}</title>\n"
            f"    <dateCreated>{format_datetime(now)}</dateCreated>\n  </head>\n  <body>\n"
            f"{outlines}  </body>\n</opml>\n")


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
