"""Feed entries read from an lxml tree exactly as feedparser's strict parser reads them."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from feedparser.datetimes import _parse_date
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin

Element = Any  # lxml.etree._Element (lxml ships no type information)
TagOf = Callable[[Element], str]

_TYPES = {"text": "text/plain", "plain": "text/plain", "html": "text/html",
          "xhtml": "application/xhtml+xml"}
_TEXT_TYPES = frozenset(("text/plain", "text/html", "application/xhtml+xml"))
_PERSON_PARTS = frozenset(("name", "email", "uri", "url", "homepage"))
_QUERY_ENTITY = re.compile("&([A-Za-z0-9_]+);")
_C1_CONTROLS = re.compile("[\x80-\x9f]")  # the only characters feedparser's _cp1252 maps
# Elements feedparser handles in a way that touches none of the fields newsbot reads.
HARMLESS = frozenset((
    "enclosure", "media:content", "media:thumbnail", "media:player", "media:rating",
    "media:credit", "media:restriction", "media:license", "itunes:image", "itunes:link",
    "itunes:block", "itunes:explicit", "itunes:subtitle", "rights", "copyright", "dc:rights",
    "subtitle", "tagline", "info", "feedburner:browserfriendly", "generator", "cloud",
    "webmaster", "dc:publisher", "created", "dcterms:created", "expirationdate",
    "dcterms:valid", "georss:point", "georss:line", "georss:polygon", "georss:box",
    "newlocation", "width", "height", "contributor", "dc:contributor", "cc:license",
    "creativecommons:license", "admin:generatoragent", "admin:errorreportsto",
))
# Children allowed inside harmless elements: person parts, nested itunes categories.
_NESTED = frozenset(("name", "email", "uri", "url", "homepage", "itunes:name", "itunes:email",
                     "itunes:category"))
# Unknown elements store their text under their own name: these names would collide.
_COLLIDING = frozenset(("date_parsed", "modified_parsed", "issued_parsed", "updated_parsed",
                        "published_parsed", "guid", "tags", "content", "id", "link", "title",
                        "summary", "description", "author"))


class Unsupported(Exception):
    """The fast path cannot vouch for this document; feedparser reads it instead."""


@dataclass
class State:
    """What feedparser carries from element to element that changes the fields we read."""

    base: str
    tag_of: TagOf
    title_depth: int = -1
    has_content: bool = False
    guid_is_link: bool = False
    entries: list[dict[str, Any]] = field(default_factory=list)
    depths: dict[str, int] = field(default_factory=dict)  # entry key -> depth it came from

    def store(self, entry: dict[str, Any], key: str, value: str, depth: int) -> None:
        """An entry value from an element: one from deeper down never replaces it."""
        if self.depths.setdefault(key, depth) >= depth:
            self.depths[key] = depth
            entry[key] = value


def fix_text(text: str) -> str:
    """feedparser's last touches on every text value: mojibake repair, cp1252 mapping."""
    if text.isascii():
        return text  # both touches leave ASCII alone
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        text = text.encode("iso-8859-1").decode("utf-8")
    return text.translate(_cp1252) if _C1_CONTROLS.search(text) else text


def attrs_of(elem: Element) -> dict[str, str]:
    """Attributes keyed as feedparser keys them (lowercase; rel and type values too)."""
    attrs: dict[str, str] = {}
    for key, value in elem.attrib.items():
        if key.startswith("{"):
            if key == "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about":
                attrs["rdf:about"] = value
            elif key == "{http://www.w3.org/XML/1998/namespace}base":
                raise Unsupported("xml:base")
            continue  # xml:lang, rdf:resource and the like change nothing we read
        key = key.lower()
        if key == "base":
            raise Unsupported("base attribute")
        attrs[key] = value.lower() if key in ("rel", "type") else value
    return attrs


def plain_text(elem: Element) -> str:
    """The character data of an element that must hold text only."""
    if len(elem):
        raise Unsupported(f"markup inside {elem.tag}")
    return str(elem.text or "")


def content_value(elem: Element, default_type: str) -> tuple[str, str]:
    """(value, content type) of a title, summary or content element, as feedparser pops it."""
    attrs = attrs_of(elem)
    if "mode" in attrs:
        raise Unsupported("Atom 0.3 content mode")
    kind = attrs.get("type", default_type).lower()
    kind = _TYPES.get(kind, kind)
    if kind not in _TEXT_TYPES:
        raise Unsupported(f"content type {kind}")
    text = plain_text(elem)
    if kind == "application/xhtml+xml":
        text = escape(text)
    return fix_text(text.strip()), kind


def has_handler(tag: str) -> bool:
    """Whether feedparser gives this element special treatment."""
    name = tag.replace(":", "_")
    return hasattr(_FeedParserMixin, "_start_" + name) or hasattr(_FeedParserMixin,
                                                                   "_end_" + name)


def check_inert(elem: Element, tag: str, tag_of: TagOf,
                harmless: frozenset[str] = HARMLESS) -> None:
    """Raise unless feedparser's handling of this subtree leaves our fields and state alone."""
    if tag in harmless:
        for child in elem:
            child_tag = tag_of(child)
            if child_tag == "itunes:category" or _is_unknown(child_tag):
                check_inert(child, child_tag, tag_of, harmless)
            elif child_tag in _NESTED:
                plain_text(child)
            else:
                raise Unsupported(f"{child_tag} inside {tag}")
        return
    if not _is_unknown(tag):
        raise Unsupported(f"element {tag}")
    for child in elem:
        check_inert(child, tag_of(child), tag_of, harmless)


def _is_unknown(tag: str) -> bool:
    return not has_handler(tag) and tag.replace(":", "_") not in _COLLIDING


def resolve(base: str, value: str) -> str:
    """feedparser's resolution of a possibly relative URI."""
    return str(_urljoin(base or "", value))


def read_link(elem: Element, context: dict[str, Any], state: State, in_entry: bool) -> None:
    """<link>: an Atom href (alternate HTML wins) or RSS text; the last one wins."""
    attrs = attrs_of(elem)
    rel = attrs.setdefault("rel", "alternate")
    attrs.setdefault("type", "application/atom+xml" if rel == "self" else "text/html")
    href = attrs.get("url", attrs.get("uri", attrs.get("href")))
    if href:
        attrs["href"] = href
    if "href" in attrs:
        kind = _TYPES.get(attrs["type"], attrs["type"])
        if rel == "alternate" and kind in ("text/html", "application/xhtml+xml"):
            context["link"] = resolve(state.base, attrs["href"])
        return
    value = plain_text(elem).strip()
    value = fix_text(resolve(state.base, value) if value else value)
    if in_entry:
        value = value.replace("&amp;", "&")
    context["link"] = _QUERY_ENTITY.sub(r"&\g<1>", value)


def read_guid(elem: Element, context: dict[str, Any], state: State, depth: int = 0) -> None:
    """<guid>/<id>: the id, resolved and used as the link when it is a permalink."""
    state.guid_is_link = attrs_of(elem).get("ispermalink", "true") == "true"
    value = plain_text(elem).strip()
    if value and state.guid_is_link:
        value = resolve(state.base, value)
    value = fix_text(value)
    if depth:
        state.store(context, "id", value, depth)
    else:
        context["id"] = value
    if state.guid_is_link:
        context.setdefault("link", value)


def read_title(elem: Element, context: dict[str, Any], state: State, depth: int,
               in_entry: bool = False) -> None:
    """A title is kept unless a non-empty one was read at this depth or above."""
    value, _ = content_value(elem, "text/plain")
    if -1 < state.title_depth <= depth:
        pass
    elif in_entry:
        state.store(context, "title", value, depth)
    else:
        context["title"] = value
    if value:
        state.title_depth = depth


def read_entry(item: Element, state: State, depth: int) -> None:
    """One <item>/<entry> (at `depth`) appended to state.entries, as feedparser fills it."""
    attrs = attrs_of(item)
    if "lastmod" in attrs or "href" in attrs:
        raise Unsupported("CDF item attributes")
    entry: dict[str, Any] = {}
    state.entries.append(entry)
    state.guid_is_link = False
    state.title_depth = -1
    state.depths = {}
    if attrs.get("rdf:about"):
        entry["id"] = attrs["rdf:about"]
    for child in item:
        _entry_child(child, state.tag_of(child), entry, state, depth + 1)
    state.has_content = False


_DATES = {"pubdate": "published_parsed", "published": "published_parsed",
          "issued": "published_parsed", "dcterms:issued": "published_parsed",
          "updated": "updated_parsed", "modified": "updated_parsed",
          "lastbuilddate": "updated_parsed", "dc:date": "updated_parsed",
          "dcterms:modified": "updated_parsed"}
_AUTHORS = frozenset(("author", "dc:creator", "dc:author", "itunes:author", "managingeditor"))
_CATEGORIES = frozenset(("category", "dc:subject", "keywords", "itunes:category",
                         "media:category"))
_KEYWORDS = frozenset(("itunes:keywords", "media:keywords"))
_SUMMARIES = {"description": "text/html", "dc:description": "text/html",
              "media:description": "text/html",
              "summary": "text/plain", "itunes:summary": "text/plain"}
_CONTENTS = {"content:encoded": "text/html", "fullitem": "text/html", "content": "text/plain"}


def _entry_child(elem: Element, tag: str, entry: dict[str, Any], state: State,
                 depth: int) -> None:
    if tag in ("title", "dc:title", "media:title"):
        title_depth = state.title_depth
        read_title(elem, entry, state, depth, in_entry=True)
        if tag == "media:title":
            state.title_depth = title_depth
    elif tag == "link":
        read_link(elem, entry, state, in_entry=True)
    elif tag in ("guid", "id"):
        read_guid(elem, entry, state, depth)
    elif tag in _SUMMARIES and "summary" in entry and not state.has_content:
        _read_content(elem, "text/plain", entry, state)  # feedparser's switch to content
    elif tag in _SUMMARIES:
        read_summary(elem, _SUMMARIES[tag], entry, state, "summary", depth)
    elif tag in _CONTENTS:
        _read_content(elem, _CONTENTS[tag], entry, state)
    elif tag in _AUTHORS:
        _read_author(elem, entry, state, depth)
    elif tag in _CATEGORIES or tag in _KEYWORDS:
        _read_category(elem, tag, entry)
    elif tag in _DATES:
        entry[_DATES[tag]] = _parse_date(fix_text(plain_text(elem).strip()))
    elif tag in ("media:group", "media:content"):
        for child in elem:  # neither keeps text of its own: children count one level down
            _entry_child(child, state.tag_of(child), entry, state, depth + 1)
    elif tag == "source" and not len(elem):
        state.title_depth = -1  # an RSS <source> only names the origin, but resets this
    elif tag not in ("language", "dc:language") or len(elem):
        check_inert(elem, tag, state.tag_of)


def read_summary(elem: Element, default_type: str, context: dict[str, Any], state: State,
                 key: str, depth: int = 0) -> None:
    """<description>/<summary>: a second one with no content before it turns into content."""
    if "summary" in context and not state.has_content:
        raise Unsupported("second summary (feedparser's content switch)")
    value, _ = content_value(elem, default_type)
    if depth:
        state.store(context, key, value, depth)
    else:
        context[key] = value


def _read_content(elem: Element, default_type: str, entry: dict[str, Any],
                  state: State) -> None:
    state.has_content = True
    value, kind = content_value(elem, default_type)
    entry.setdefault("content", []).append({"value": value, "type": kind})
    entry.setdefault("summary", value)


def _read_author(elem: Element, entry: dict[str, Any], state: State, depth: int) -> None:
    if not len(elem):
        state.store(entry, "author", fix_text(plain_text(elem).strip()), depth)
        return
    if (elem.text or "").strip() or any((c.tail or "").strip() for c in elem):
        raise Unsupported("text mixed with author parts")
    detail: dict[str, str] = {}
    for child in elem:
        part = state.tag_of(child)
        if _is_unknown(part) and not len(child) and not (child.text or "").strip():
            continue  # e.g. Blogger's <gd:image>: kept aside, no text of its own
        part = part.removeprefix("itunes:")
        if part not in _PERSON_PARTS:
            raise Unsupported(f"{part} inside author")
        detail[part] = plain_text(child).strip()
    state.store(entry, "author", "", depth)  # the element's own (blank) text
    name, email = detail.get("name"), detail.get("email")
    if name or email:
        entry["author"] = f"{name} ({email})" if name and email else name or email


def _read_category(elem: Element, tag: str, entry: dict[str, Any]) -> None:
    tags: list[dict[str, Any]] = entry.setdefault("tags", [])
    value = fix_text(plain_text(elem).strip())
    if tag in _KEYWORDS:
        if elem.attrib:
            raise Unsupported(f"{tag} with attributes")
        scheme = "http://www.itunes.com/" if tag == "itunes:keywords" else None
        for term in value.split(","):
            if term.strip():
                _add_tag(tags, term.strip(), scheme, None)
        return
    attrs = attrs_of(elem)
    if tag == "itunes:category":
        _add_tag(tags, attrs.get("text"), "http://www.itunes.com/", None)
    else:
        if tag == "media:category":
            attrs.setdefault("scheme", "http://search.yahoo.com/mrss/category_schema")
        _add_tag(tags, attrs.get("term"), attrs.get("scheme", attrs.get("domain")),
                 attrs.get("label"))
    if value and tags and not tags[-1]["term"]:
        tags[-1]["term"] = value
    elif value:
        _add_tag(tags, value, None, None)


def _add_tag(tags: list[dict[str, Any]], term: str | None, scheme: str | None,
             label: str | None) -> None:
    if not (term or scheme or label):
        return
    value = {"term": term, "scheme": scheme, "label": label}
    if value not in tags:
        tags.append(value)


# At feed level these touch only feed fields newsbot ignores (dates, authors, categories).
FEED_HARMLESS = HARMLESS | frozenset(_DATES) | _AUTHORS | _CATEGORIES | _KEYWORDS | {"itunes:owner"}
