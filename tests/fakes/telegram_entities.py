"""Bot API message entities: the MessageEntity shape, UTF-16 lengths and server-side trimming.

Offsets and lengths count UTF-16 code units, as Telegram's limits and entities do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TRIM_CHARS = " \t\r\n"


@dataclass
class Entity:
    """One message entity; offsets and lengths count UTF-16 code units."""

    type: str
    offset: int
    length: int
    extra: dict[str, Any] = field(default_factory=dict)
    argument: str = ""  # code language kept until a surrounding <pre> closes

    def to_json(self) -> dict[str, Any]:
        """Serialise like the Bot API's MessageEntity."""
        return {"type": self.type, "offset": self.offset, "length": self.length, **self.extra}


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (what Telegram's limits count)."""
    return len(text.encode("utf-16-le")) // 2


def trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Strip leading/trailing whitespace the way the server does, clipping entities."""
    stripped_left = text.lstrip(TRIM_CHARS)
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip(TRIM_CHARS)
    limit = utf16_len(result)
    kept: list[Entity] = []
    for entity in entities:
        start = max(entity.offset - shift, 0)
        end = min(entity.offset + entity.length - shift, limit)
        if end > start:
            kept.append(Entity(entity.type, start, end - start, entity.extra))
    kept.sort(key=lambda e: (e.offset, -e.length))
    return result, kept
