"""Feed HTML to clean plain text: real parser, no widgets, no publisher trailers."""

from __future__ import annotations

import html as html_lib
import re

import re2
from selectolax.lexbor import LexborHTMLParser

# Private-use characters mark breaks we insert, so source newlines can be collapsed freely.
_PARA = "\ue000"
_LINE = "\ue001"

_DROP = ", ".join(
    (
        "script, style, noscript, template, iframe, object, embed, svg, canvas, video, audio",
        "img, picture, figure, figcaption, form, button, input, select, textarea",
        "nav, footer, aside",
        '[class*="share"], [id*="share"], [class*="social"], [id*="social"]',
        '[class*="related"], [id*="related"], [class*="newsletter"], [id*="newsletter"]',
        '[class*="subscribe"], [id*="subscribe"], [class*="advert"], [id*="advert"]',
        '[class~="ad"], [class~="ads"], [class^="ad-"], [class*=" ad-"], [id^="ad-"]',
        '[class*="feedflare"], a[href*="/~ff/"], a[href*="feeds.feedburner.com/~"]',
    )
)
_BLOCKS = ", ".join(
    (
        "p, div, li, ul, ol, dl, dt, dd, h1, h2, h3, h4, h5, h6, blockquote, pre",
        "table, tr, section, article, header, main, hr",
    )
)

# A link whose text only labels it ("Comments", "Discuss", "Permalink (12)") says nothing
# when such labels are all its block holds (a Hacker News item's whole body is one).
_LABEL = (
    r"\W*(?:\d+\s+)?(?:(?:view|see|show|read|leave an?|add an?|post an?)\s+)?"
    r"(?:comments?|discuss(?:ion)?|permalink|link|source|via|reply|replies|thread)"
    r"(?:\s*[(\[]?\d+[)\]]?)?\W*"
)
_LINK_LABEL = re.compile(_LABEL, re.IGNORECASE)
_LABELS_ONLY = re.compile(f"(?:{_LABEL})+", re.IGNORECASE)
# A closing "Tags: a · b · c" line (or one after a sentence's end): its items are categories.
_TAG_LINE = re.compile(
    r"(?:\A|\n|(?<=[.!?…]) )[ \t]*(?:tags|tagged(?: with| as)?|filed under|categories|topics)"
    r"[ \t]*:[ \t]*([^\n]{1,400})\Z",
    re.IGNORECASE,
)
_TAG_SEPARATORS = re.compile(r"\s*[·•|,;/]\s*")
_TAG_ITEM_MAX = 40  # longer "items" are prose, not tags
_WORDY = re.compile(r"[^\W_]")  # a line without a letter or digit (" | ", "* * *") is dropped
_SPACE = re.compile(r"\s+")
_INVISIBLE = ("\u200b", "\u2060", "\ufeff", "\u00ad")  # zero-width spaces, soft hyphen
_STRAY_ZWNJ = re.compile(r"\u200c(?=\s)|(?<=\s)\u200c")  # a joiner beside a space joins nothing
_PARAGRAPH_SPLIT = re.compile(r"\n\s*\n")
_TRAILER_REACH = 240  # trailers are short: only the text's tail is searched
# WordPress: "The post <title> appeared first on <site>." (searched from the last "The post").
_POST_TRAILER = re.compile(r"The post\b[^\n]*?\b(?:appeared first on|first appeared on)\b[^\n]*\Z")
_TAIL_TRAILERS = (
    # "Continue reading ...", "Read more", "…read more", only at a sentence or line start.
    re.compile(
        r"(?:^|(?<=[.!?…\"”)\]\n]))\s*(?:…|\.\.\.)?\s*(?:continue reading|read more"
        r"|read (?:the )?full (?:story|article))\b[^\n]{0,160}\Z",
        re.IGNORECASE,
    ),
    re.compile(r"\[\s*(?:…|\.\.\.)\s*\]\s*\Z"),
)


MAX_MARKS = 4  # combining marks kept on one base character (Hebrew points and cantillation: 4)


# A run of more than MAX_MARKS combining marks; RE2 matches the Unicode class \p{M} in
# linear time without a huge character class.
_MARK_RUNS = re2.compile(rf"\p{{M}}{{{MAX_MARKS + 1},}}")


def cap_marks(text: str) -> str:
    """`text` with each run of combining marks cut to MAX_MARKS ("zalgo" text can't pile
    hundreds of them on one letter); real scripts never need more."""
    if text.isascii():
        return text  # no marks to cap: most text, at no cost
    capped: str = _MARK_RUNS.sub(lambda run: run.group()[:MAX_MARKS], text)
    return capped


def html_to_text(html: str) -> str:
    """Readable text of a feed body: blocks become paragraphs, widgets and trailers go,
    runs of combining marks are capped (every stored title and summary passes here)."""
    return cap_marks(_readable_text(html))


def _readable_text(html: str) -> str:
    """html_to_text but for the cap on combining marks."""
    if "<" not in html:
        return strip_trailers(normalize_text(html_lib.unescape(html)))
    raw = _markup_text(html.replace(_PARA, " ").replace(_LINE, " "))
    flat = " ".join(_visible(raw).split())
    paragraphs = []
    for chunk in flat.split(_PARA):
        lines = (line.strip() for line in chunk.split(_LINE))
        paragraph = "\n".join(line for line in lines if _WORDY.search(line))
        if paragraph:
            paragraphs.append(paragraph)
    return strip_trailers("\n\n".join(paragraphs))


def split_tag_line(text: str) -> tuple[str, tuple[str, ...]]:
    """`text` without a closing "Tags: a · b · c" line, and that line's items (else none).

    The line is left alone when an item is too long to be a tag.
    """
    match = _TAG_LINE.search(text)
    if match is None:
        return text, ()
    items = tuple(i for i in _TAG_SEPARATORS.split(match.group(1).strip(" .")) if i)
    if not items or any(len(item) > _TAG_ITEM_MAX for item in items):
        return text, ()
    return text[: match.start()].rstrip(), items


def normalize_text(text: str) -> str:
    """Plain text with runs of spaces collapsed and blank-line paragraph breaks kept."""
    text = _visible(text)
    paragraphs = (_SPACE.sub(" ", p).strip() for p in _PARAGRAPH_SPLIT.split(text))
    return "\n\n".join(p for p in paragraphs if p)


def strip_trailers(text: str) -> str:
    """Text without publisher trailers such as "The post X appeared first on Y."."""
    while text:
        before = text
        post = text.rfind("The post")
        if post >= 0 and _POST_TRAILER.match(text, post):
            text = text[:post].rstrip()
        for pattern in _TAIL_TRAILERS:
            match = pattern.search(text, max(0, len(text) - _TRAILER_REACH))
            if match:
                text = text[: match.start()].rstrip()
        if text == before:
            break
    return text


def _visible(text: str) -> str:
    """`text` without invisible formatting characters that only get in the way."""
    for char in _INVISIBLE:
        if char in text:
            text = text.replace(char, "")
    return _STRAY_ZWNJ.sub("", text) if "\u200c" in text else text


def _markup_text(html: str) -> str:
    """The document's text with our break markers around blocks and at <br>."""
    try:
        tree = LexborHTMLParser(html)
    except UnicodeEncodeError:  # lone surrogates cannot reach the C parser
        tree = LexborHTMLParser(html.encode("utf-8", "replace").decode("utf-8"))
    body = tree.body
    if body is None:
        return ""
    for node in body.css(_DROP):
        node.decompose()
    for node in body.css("a"):
        parent = node.parent
        if (parent is not None and _LINK_LABEL.fullmatch(node.text(deep=True))
                and _LABELS_ONLY.fullmatch(parent.text(deep=True))):
            node.decompose()
    for node in body.css("br"):
        node.replace_with(_LINE)
    for node in body.css(_BLOCKS):
        node.insert_before(_PARA)
        node.insert_after(_PARA)
    return body.text(deep=True, separator="", strip=False)
