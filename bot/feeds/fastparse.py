"""Feed bytes -> feedparser's result, read with lxml; None whenever the document is unusual."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from feedparser.encodings import convert_to_utf8
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import make_safe_absolute_uri
from lxml import etree  # type: ignore[import-untyped]

from bot.feeds.fastparse_entry import (
    FEED_HARMLESS,
    Element,
    State,
    Unsupported,
    check_inert,
    content_value,
    fix_text,
    plain_text,
    read_entry,
    read_guid,
    read_link,
    read_summary,
    read_title,
)

_ATOM = "http://www.w3.org/2005/Atom"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_USERLAND = "http://backend.userland.com/rss"
_KNOWN: dict[str, str] = {uri.lower(): prefix
                          for uri, prefix in _FeedParserMixin.namespaces.items()}
_DECLARATION = re.compile(rb"""xmlns(?::([^\s=/>]+))?\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_FIRST_ELEMENT = re.compile(rb"<\w")
_PROLOG_DECLARATION = re.compile(rb"<!(?!--)")
_IMAGE_PARTS = {"image": frozenset(("title", "link", "url", "width", "height", "description")),
                "textinput": frozenset(("title", "link", "description", "name"))}
_FEED_SUMMARIES = {"description": ("text/html", "subtitle"),
                   "dc:description": ("text/html", "subtitle"),
                   "summary": ("text/plain", "summary"),
                   "itunes:summary": ("text/plain", "summary")}
_MAX_DEPTH = 256  # libxml2's limit without XML_PARSE_HUGE (huge_tree=False)
_CONTENTS = frozenset(("content", "content:encoded", "fullitem", "body", "xhtml:body"))


def parse_fast(body: bytes, url: str, content_type: str = "") -> dict[str, Any] | None:
    """feedparser-shaped {"feed", "entries", "version", "bozo"}, or None to use feedparser.

    Only documents feedparser's strict parser reads without trouble, in RSS 0.9x/2.0,
    RSS 1.0 or Atom 1.0 shape, using only elements whose handling is reproduced here.
    Raises TooDeep for elements nested past libxml2's limit: no feed nests that deep, and
    feedparser would spend seconds on it.
    """
    try:
        return _read(body, url, content_type)
    except (MemoryError, TooDeep):
        raise
    except Exception:  # Unsupported, or an item we fail to read: feedparser reads it instead
        return None


def _read(body: bytes, url: str, content_type: str) -> dict[str, Any]:
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    decoding: dict[str, Any] = {}
    data: bytes = convert_to_utf8(headers, body, decoding)  # feedparser's own decoding
    if not decoding.get("encoding"):
        raise Unsupported("encoding unknown")
    first = _FIRST_ELEMENT.search(data)
    if not first or _PROLOG_DECLARATION.search(data, 0, first.start()):
        raise Unsupported("declarations in the prolog")
    root = _parse_xml(data)
    state = State(base=(make_safe_absolute_uri(url, url) or url) if url else "",
                  tag_of=_tag_namer(_namespaces(data)))
    feed = _read_root(root, state)
    if not state.entries:
        raise Unsupported("no entries: feedparser decides what that means")
    return {"feed": feed, "entries": state.entries, "version": "lxml", "bozo": False}


def _parse_xml(data: bytes) -> Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             load_dtd=False, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        if "Excessive depth" in str(error):
            raise TooDeep(f"elements nested deeper than {_MAX_DEPTH}") from None
        raise Unsupported(f"not well-formed: {error}") from None
    if len(parser.error_log) or root is None:
        raise Unsupported("parser warnings")
    return root


class TooDeep(Exception):
    """The document nests elements deeper than any feed does (an attack on parsers)."""


@dataclass(frozen=True, slots=True)
class _Namespaces:
    """feedparser's view of the document's namespace declarations."""

    remapped: dict[str, str]  # standard prefix -> the prefix feedparser dispatches on
    unknown: dict[str, str]  # unknown namespace -> its one declared prefix


def _namespaces(data: bytes) -> _Namespaces:
    """Declarations as feedparser tracks them; raise where its mapping would be unclear."""
    bound: dict[str, str] = {}
    known: dict[str, str] = {}  # document prefix -> standard prefix
    unknown: dict[str, str | None] = {}
    for match in _DECLARATION.finditer(data):
        prefix = match.group(1).decode("utf-8") if match.group(1) else None
        uri = (match.group(2) if match.group(2) is not None else match.group(3) or b"")
        uri_text = uri.decode("utf-8")
        if "&" in uri_text or (prefix and bound.setdefault(prefix, uri_text) != uri_text):
            raise Unsupported("namespace prefix bound twice")
        lower = _USERLAND if _USERLAND[7:] in uri_text.lower() else uri_text.lower()
        standard = _KNOWN.get(lower)
        if standard is None:
            if unknown.setdefault(uri_text, prefix) != prefix:
                raise Unsupported("unknown namespace under several prefixes")
        elif prefix:
            known[prefix] = standard
    names = {p: u for u, p in unknown.items() if p}
    if set(names) & set(known.values()):
        raise Unsupported("unknown namespace under a standard prefix in use")
    return _Namespaces(known, {u: p for p, u in names.items()})


def _tag_namer(namespaces: _Namespaces) -> Any:
    cache: dict[str, str] = {}

    def tag_of(elem: Element) -> str:
        qname = elem.tag
        if not isinstance(qname, str):
            raise Unsupported("entity or other special node")
        name = cache.get(qname)
        if name is None:
            name = cache[qname] = _feedparser_name(qname, namespaces)
        return name

    return tag_of


def _feedparser_name(qname: str, namespaces: _Namespaces) -> str:
    """The element name feedparser dispatches on: mapped prefix, lowercase name."""
    namespace, _, local = qname[1:].rpartition("}") if qname.startswith("{") else ("", "", qname)
    lower = _USERLAND if _USERLAND[7:] in namespace.lower() else namespace.lower()
    prefix = _KNOWN.get(lower)
    if prefix is None:
        prefix = namespaces.unknown.get(namespace, "")
    prefix = prefix.lower()
    prefix = namespaces.remapped.get(prefix, prefix)
    return f"{prefix}:{local.lower()}" if prefix else local.lower()


def _read_root(root: Element, state: State) -> dict[str, Any]:
    tag = state.tag_of(root)
    feed: dict[str, Any] = {}
    lang = root.get(_XML_LANG, root.get("lang"))
    if lang and tag in ("rss", "feed"):
        feed["language"] = lang.replace("_", "-")
    if tag == "rss":
        for child in root:
            if state.tag_of(child) != "channel":
                raise Unsupported("RSS with more than a channel")
            _read_channel(child, feed, state, 2)
    elif tag == "rdf:rdf":
        _read_rdf(root, feed, state)
    elif tag == "feed" and root.tag == f"{{{_ATOM}}}feed":
        _read_channel(root, feed, state, 1)
    else:
        raise Unsupported(f"root element {tag}")
    return feed


def _read_rdf(root: Element, feed: dict[str, Any], state: State) -> None:
    for child in root:
        tag = state.tag_of(child)
        if tag == "channel":
            _read_channel(child, feed, state, 2)
        elif tag == "item":
            read_entry(child, state, 2)
        elif tag in _IMAGE_PARTS:
            _read_image(child, tag, state, 2)
        else:
            check_inert(child, tag, state.tag_of, FEED_HARMLESS)


def _read_channel(channel: Element, feed: dict[str, Any], state: State, depth: int) -> None:
    if channel.get("lastmod") is not None or channel.get("href") is not None:
        raise Unsupported("CDF channel attributes")
    for child in channel:
        _feed_child(child, state.tag_of(child), feed, state, depth + 1)


def _feed_child(elem: Element, tag: str, feed: dict[str, Any], state: State,
                depth: int) -> None:
    if tag in ("item", "entry"):
        read_entry(elem, state, depth)
    elif tag in ("title", "dc:title"):
        read_title(elem, feed, state, depth)
    elif tag == "link":
        read_link(elem, feed, state, in_entry=False)
    elif tag in ("guid", "id"):
        read_guid(elem, feed, state)
    elif tag in ("language", "dc:language"):
        feed["language"] = fix_text(plain_text(elem).strip())
    elif tag in _FEED_SUMMARIES:
        default_type, key = _FEED_SUMMARIES[tag]
        read_summary(elem, default_type, feed, state, key)
    elif tag in _CONTENTS:
        raise Unsupported("content at feed level")
    elif tag in _IMAGE_PARTS:
        _read_image(elem, tag, state, depth)
    else:
        check_inert(elem, tag, state.tag_of, FEED_HARMLESS)


def _read_image(elem: Element, tag: str, state: State, depth: int) -> None:
    """<image>/<textinput> keep their own title and link, but reset the title depth."""
    state.title_depth = -1
    for child in elem:
        child_tag = state.tag_of(child)
        if child_tag not in _IMAGE_PARTS[tag]:
            raise Unsupported(f"{child_tag} inside {tag}")
        if child_tag == "title":
            if content_value(child, "text/plain")[0]:
                state.title_depth = depth + 1
        else:
            plain_text(child)
