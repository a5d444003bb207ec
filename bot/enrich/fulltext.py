"""An article page's main text, for feeds that give only titles (per-feed `full_text`)."""

from __future__ import annotations

import html


def main_text(page: bytes, url: str) -> str:
    """The page's main text as simple HTML paragraphs ("" when none is found). trafilatura
    is imported on first use: only feeds with `full_text` need it."""
    import trafilatura

    text = trafilatura.extract(page, url=url, include_comments=False, include_tables=False,
                               favor_precision=True, deduplicate=True)
    if not text:
        return ""
    paragraphs = (line.strip() for line in text.splitlines())
    return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs if p)
