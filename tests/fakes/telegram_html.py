"""Telegram's HTML parse mode, as the Bot API server (tdlib) implements it.

The parser walks the UTF-8 bytes exactly like tdlib's ``parse_html`` so that error texts and
byte offsets match what the real server answers. It returns the plain text and the entities
(offsets and lengths in UTF-16 code units), or raises :class:`EntityParseError`.

It is not built on the standard library's ``html.parser``: that tokenizer accepts what tdlib
refuses (``a < b``, a trailing ``<b``, comments, unquoted ``href=x/y``, ``<a b c>``) and
reports positions in characters, not the UTF-8 byte offsets tdlib's errors carry.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.fakes.telegram_entities import Entity, utf16_len

SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
        "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
SIMPLE_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "u": "underline", "ins": "underline", "tg-spoiler": "spoiler", "span": "spoiler",
}  # fmt: skip
NAMED_ENTITIES = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}
SPACE_BYTES = frozenset(b" \t\r\n\v\0")


class EntityParseError(ValueError):
    """The text could not be parsed; ``str(err)`` is the part after "can't parse entities: "."""


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int


class _HtmlParser:
    """One-shot parser state over the UTF-8 bytes of a text."""

    def __init__(self, text: str) -> None:
        self.data = text.encode("utf-8")
        self.pos = 0
        self.out = bytearray()
        self.utf16 = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[Entity] = []

    def at(self, i: int) -> int:
        """Byte at ``i``, or 0 past the end (tdlib reads a NUL-terminated string)."""
        return self.data[i] if i < len(self.data) else 0

    def run(self) -> tuple[str, list[Entity]]:
        """Parse everything and return the plain text and entities."""
        while self.pos < len(self.data):
            c = self.data[self.pos]
            if c == ord("&") and self._entity_char():
                continue
            if c != ord("<"):
                self._emit_byte(c)
                continue
            if self.at(self.pos + 1) == ord("/"):
                self._end_tag()
            else:
                self._start_tag()
        if self.stack:
            raise EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        return self.out.decode("utf-8", "replace"), self.entities

    def _emit_byte(self, c: int) -> None:
        self.out.append(c)
        if c & 0xC0 != 0x80:
            self.utf16 += 2 if c >= 0xF0 else 1
        self.pos += 1

    def _entity_char(self) -> bool:
        """Decode an HTML entity at ``pos``; False (nothing consumed) if it isn't one."""
        decoded = self._decode_entity(self.pos)
        if decoded is None:
            return False
        char, self.pos = decoded
        self.out += char.encode("utf-8")
        self.utf16 += utf16_len(char)
        return True

    def _decode_entity(self, pos: int) -> tuple[str, int] | None:
        """Return (character, position after it) for ``&...;`` at ``pos``."""
        end = pos + 1
        if self.at(end) == ord("#"):
            end += 1
            hexadecimal = self.at(end) == ord("x")
            end += hexadecimal
            digits = b"0123456789abcdefABCDEF" if hexadecimal else b"0123456789"
            start = end
            while self.at(end) and self.at(end) in digits:
                end += 1
            if end == start or end - start > 8:
                return None
            code = int(self.data[start:end], 16 if hexadecimal else 10)
            if code == 0 or code >= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                return None
            char = chr(code)
        else:
            while chr(self.at(end)).isascii() and chr(self.at(end)).isalpha():
                end += 1
            name = self.data[pos + 1 : end]
            if name not in NAMED_ENTITIES:
                return None
            char = NAMED_ENTITIES[name]
        return char, end + 1 if self.at(end) == ord(";") else end

    def _start_tag(self) -> None:
        begin = self.pos
        i = begin + 1
        while self.at(i) not in SPACE_BYTES and self.at(i) != ord(">"):
            i += 1
        if self.at(i) == 0:
            raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
        name = self.data[begin + 1 : i].decode("utf-8", "replace").lower()
        if name not in SUPPORTED_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {begin}')
        argument, i = self._attributes(name, begin, i)
        if name == "span" and argument != "spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
            )
        self.stack.append(_OpenTag(name, argument, self.utf16))
        self.pos = i + 1

    def _attributes(self, tag: str, begin: int, i: int) -> tuple[str, int]:
        """Read attributes up to ``>``; return the one argument tdlib keeps and the ``>`` index."""
        argument = ""
        while self.at(i) != ord(">"):
            while self.at(i) != 0 and self.at(i) in SPACE_BYTES:
                i += 1
            if self.at(i) == ord(">"):
                break
            name_start = i
            while self.at(i) not in SPACE_BYTES and self.at(i) not in b"=>":
                i += 1
            attr = self.data[name_start:i].decode("utf-8", "replace")
            if not attr:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
                )
            while self.at(i) != 0 and self.at(i) in SPACE_BYTES:
                i += 1
            if self.at(i) != ord("="):
                if tag == "blockquote" and attr == "expandable":
                    argument = "expandable"
                    continue
                raise EntityParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {begin}'
                )
            value, i = self._attribute_value(tag, begin, i + 1)
            argument = _keep_argument(tag, attr, value, argument)
        return argument, i

    def _attribute_value(self, tag: str, begin: int, i: int) -> tuple[str, int]:
        while self.at(i) != 0 and self.at(i) in SPACE_BYTES:
            i += 1
        if self.at(i) == 0:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        quote = self.at(i)
        if quote not in b"'\"":
            start = i
            while chr(self.at(i)).isascii() and (chr(self.at(i)).isalnum() or self.at(i) in b".-"):
                i += 1
            if self.at(i) not in SPACE_BYTES and self.at(i) != ord(">"):
                raise EntityParseError(f"Unexpected end of name token at byte offset {start}")
            return self.data[start:i].decode().lower(), i
        i += 1
        value = bytearray()
        while self.at(i) != quote and self.at(i) != 0:
            decoded = self._decode_entity(i) if self.at(i) == ord("&") else None
            if decoded is not None:
                value += decoded[0].encode("utf-8")
                i = decoded[1]
            else:
                value.append(self.at(i))
                i += 1
        if self.at(i) == 0:
            raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
        return value.decode("utf-8", "replace"), i + 1

    def _end_tag(self) -> None:
        begin = self.pos
        if not self.stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
        i = begin + 2
        while self.at(i) not in SPACE_BYTES and self.at(i) != ord(">"):
            i += 1
        end_name = self.data[begin + 2 : i].decode("utf-8", "replace")
        while self.at(i) != 0 and self.at(i) in SPACE_BYTES:
            i += 1
        if self.at(i) != ord(">"):
            raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
        tag = self.stack.pop()
        if end_name and end_name != tag.name:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{tag.name}>", '
                f'found "</{end_name}>"'
            )
        self.pos = i + 1
        if self.utf16 > tag.utf16_offset:
            self._close(tag)

    def _close(self, tag: _OpenTag) -> None:
        """Turn a closed, non-empty tag into an entity (merging pre + code like tdlib)."""
        offset, length = tag.utf16_offset, self.utf16 - tag.utf16_offset
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and (last.offset, last.length) == (offset, length)
        if tag.name in SIMPLE_TYPES:
            self.entities.append(Entity(SIMPLE_TYPES[tag.name], offset, length))
        elif tag.name == "a":
            self.entities.append(_link_entity(tag.argument, offset, length))
        elif tag.name == "tg-emoji":
            if not tag.argument.isdigit():
                raise EntityParseError("Invalid custom emoji identifier specified")
            extra = {"custom_emoji_id": tag.argument}
            self.entities.append(Entity("custom_emoji", offset, length, extra))
        elif tag.name == "code" and last and same_span and last.type == "pre" and tag.argument:
            last.extra["language"] = tag.argument
        elif tag.name == "code":
            self.entities.append(Entity("code", offset, length, argument=tag.argument))
        elif tag.name == "pre" and last and same_span and last.type == "code" and last.argument:
            last.type = "pre"
            last.extra["language"] = last.argument
        elif tag.name == "pre":
            self.entities.append(Entity("pre", offset, length))
        else:
            kind = "expandable_blockquote" if tag.argument else "blockquote"
            self.entities.append(Entity(kind, offset, length))


def _keep_argument(tag: str, attr: str, value: str, current: str) -> str:
    """The attribute values tdlib keeps: href, code language, span class, emoji id."""
    if tag == "a" and attr == "href":
        return value
    if tag == "code" and attr == "class" and value.startswith("language-"):
        return value.removeprefix("language-")
    if tag == "span" and attr == "class" and value.startswith("tg-"):
        return value.removeprefix("tg-")
    if tag == "tg-emoji" and attr == "emoji-id":
        return value
    return current


def _link_entity(href: str, offset: int, length: int) -> Entity:
    """``<a href>``: a text_mention for tg://user links, a text_link otherwise."""
    if href.startswith("tg://user?id=") and href.removeprefix("tg://user?id=").isdigit():
        user = {"id": int(href.removeprefix("tg://user?id=")), "is_bot": False, "first_name": "?"}
        return Entity("text_mention", offset, length, {"user": user})
    return Entity("text_link", offset, length, {"url": href})


def parse_html(text: str) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML into plain text and entities; raise EntityParseError like tdlib."""
    return _HtmlParser(text).run()
