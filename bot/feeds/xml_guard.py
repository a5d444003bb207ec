"""Feed XML before parsing: the prolog's DOCTYPE and entity declarations go, so none expands."""

from __future__ import annotations

import codecs
import re

from feedparser.encodings import convert_to_utf8

# Encodings whose bytes don't show "<!" as ASCII: recognized by BOM or by the first bytes.
_WIDE = (
    (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"),
    (b"\x4c\x6f\xa7\x94", "cp037"),
)
_BOMS = (codecs.BOM_UTF32_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE)
_XML_DECLARATION = re.compile(r"(?:\ufeff|\xef\xbb\xbf)?\s*<\?xml\b.*?\?>", re.DOTALL)
_DECLARATION_TOKEN = re.compile(r"""["'\[\]>]|<!--""")


def strip_entity_declarations(body: bytes, content_type: str = "") -> bytes:
    """The document without DOCTYPE, internal subset or entity declarations before its root.

    feedparser hands expat the internal subset (expat expands its entities) and, when expat
    gives up, its loose parser expands "safe" ones without any limit. With the prolog's
    declarations gone neither can; HTML entities such as &nbsp; are still understood by
    feedparser's fallback parser. A document that would still show feedparser a declaration
    after this (a stateful encoding smuggling one) becomes empty, which is a parse failure.
    """
    codec, bom = _wide_encoding(body)
    if codec:
        text = body[len(bom):].decode(codec, errors="replace")
        stripped = strip_prolog(text)
        cleaned = body if stripped is text else bom + stripped.encode(codec, errors="replace")
    else:  # ASCII-compatible encodings: latin-1 maps every byte to one character and back
        cleaned = strip_prolog(body.decode("latin-1")).encode("latin-1")
    return b"" if _shows_declarations(cleaned, content_type) else cleaned


def strip_prolog(text: str) -> str:
    """Drop every `<!...>` declaration before the root element; all else stays as it is."""
    match = _XML_DECLARATION.match(text, 0, 4096)
    kept: list[str] = []
    pos = match.end() if match else 0
    done = 0
    while (lt := text.find("<", pos)) >= 0:
        if text.startswith("<!--", lt):
            pos = _after(text, "-->", lt + 4)
        elif text.startswith("<?", lt):
            pos = _after(text, "?>", lt + 2)
        elif text.startswith("<!", lt):
            pos = _after_declaration(text, lt + 2)
            kept.append(text[done:lt])
            done = pos
        else:
            break
    return text if not kept else "".join(kept) + text[done:]


def _after(text: str, closer: str, pos: int) -> int:
    end = text.find(closer, pos)
    return len(text) if end < 0 else end + len(closer)


def _after_declaration(text: str, pos: int) -> int:
    """Where a `<!...>` declaration ends: quotes, comments and [subsets] skipped whole."""
    depth = 0
    while match := _DECLARATION_TOKEN.search(text, pos):
        mark, pos = match.group(), match.end()
        if mark in ('"', "'"):
            pos = _after(text, mark, pos)
        elif mark == "<!--":
            pos = _after(text, "-->", pos)
        elif mark == "[":
            depth += 1
        elif mark == "]":
            depth = max(depth - 1, 0)
        elif depth == 0:
            return pos
    return len(text)


def _wide_encoding(body: bytes) -> tuple[str, bytes]:
    """The codec of a UTF-16/32 or EBCDIC document, with its byte-order mark ("" if none)."""
    for marker, codec in _WIDE:
        if body.startswith(marker):
            return codec, marker if marker in _BOMS else b""
    return "", b""


def _shows_declarations(body: bytes, content_type: str) -> bool:
    """Whether feedparser, decoding as it does, would still see a declaration before the root."""
    headers = {"content-location": ""}
    if content_type:
        headers["content-type"] = content_type
    try:
        decoded: bytes = convert_to_utf8(headers, body, {})
    except Exception:  # feedparser would fail on it the same way: the feed is unreadable
        return True
    text = decoded.decode("utf-8", errors="replace")
    root = re.search(r"<[^!?]", text)
    head = text[: root.start()] if root else text
    return re.search(r"<!\s*(?:DOCTYPE|ENTITY)", head, re.IGNORECASE) is not None
