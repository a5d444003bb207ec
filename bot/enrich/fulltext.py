"""An article page's main text, for feeds that give only titles (per-feed `full_text`)."""

from __future__ import annotations

import html

import trafilatura


def main_text(page: bytes, url: str) -> str:
    """The page's main text as simple HTML paragraphs ("" when none is found)."""
    text = trafilatura.extract(page, url=url, include_comments=False, include_tables=False,
                               favor_precision=True, deduplicate=True)
    if not text:
        return ""
    paragraphs = (line.strip() for line in text.splitlines())
    return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs if p)
