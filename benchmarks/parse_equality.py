"""Proof that the lxml fast path reads every corpus file exactly as feedparser does.

For each file: "fast" (the fast path read it and every field equals feedparser's),
"fallback" (the fast path declined, feedparser reads it) or "MISMATCH" with the fields.
Usage: uv run python benchmarks/parse_equality.py [--corpus DIR] [--verbose]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script

from benchmarks.common import add_corpus_argument, load_corpus
from bot.feeds.fastparse import parse_fast
from bot.feeds.parse import ParseError, _feedparser, _looks_like_json, _xml_entry
from bot.feeds.xml_guard import strip_entity_declarations

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FEED_FIELDS = ("title", "link", "language")


@dataclass
class Comparison:
    """How one document came out: "fast", "fallback", "MISMATCH" or "not xml"."""

    status: str
    entries: int = 0
    differences: list[str] = field(default_factory=list)


def compare(body: bytes, url: str, content_type: str = "", now: datetime = NOW) -> Comparison:
    """Compare the fast path's raw entries with feedparser's, field by field."""
    if _looks_like_json(body):
        return Comparison("not xml")
    body = strip_entity_declarations(body, content_type)
    fast = parse_fast(body, url, content_type)
    if fast is None:
        return Comparison("fallback")
    try:
        reference = _feedparser(body, url, content_type)
    except ParseError as error:
        return Comparison("MISMATCH", differences=[f"feedparser failed: {error}"])
    differences = _feed_differences(fast["feed"], reference.get("feed", {}))
    differences += _entry_differences(_raw(fast, url, now), _raw(reference, url, now))
    return Comparison("MISMATCH" if differences else "fast", len(fast["entries"]), differences)


def _raw(doc: Any, url: str, now: datetime) -> list[dict[str, Any]]:
    lang = str(doc.get("feed", {}).get("language", ""))
    return [_xml_entry(entry, url, lang, now) for entry in doc["entries"]]


def _feed_differences(fast: dict[str, Any], reference: Any) -> list[str]:
    return [f"feed.{name}: {fast.get(name)!r} != {reference.get(name)!r}"
            for name in FEED_FIELDS if fast.get(name) != reference.get(name)]


def _entry_differences(fast: list[dict[str, Any]], reference: list[dict[str, Any]]) -> list[str]:
    if len(fast) != len(reference):
        return [f"entries: {len(fast)} != {len(reference)}"]
    return [f"entry {i}.{key}: {mine[key]!r:.80} != {theirs[key]!r:.80}"
            for i, (mine, theirs) in enumerate(zip(fast, reference, strict=True))
            for key in theirs if mine.get(key) != theirs[key]]


def main() -> None:
    """Compare every corpus file and print one line each, then the totals."""
    args = argparse.ArgumentParser(description=__doc__)
    add_corpus_argument(args)
    args.add_argument("--verbose", action="store_true", help="print every file, not only "
                      "fallbacks and mismatches")
    options = args.parse_args()
    totals: dict[str, list[int]] = {}
    for name, body in load_corpus(options.corpus):
        result = compare(body, f"https://bench.example/{name}")
        files_entries = totals.setdefault(result.status, [0, 0])
        files_entries[0] += 1
        files_entries[1] += result.entries
        if options.verbose or result.status in ("fallback", "MISMATCH"):
            print(f"{result.status:9} {name} {result.entries or ''}")
        for difference in result.differences[:10]:
            print(f"          {difference}")
    print("\nstatus     files  entries")
    for status, (files, entries) in sorted(totals.items()):
        print(f"{status:9} {files:6d} {entries:8d}")
    mismatches = totals.get("MISMATCH", [0, 0])[0]
    print(f"\n{mismatches} mismatches")
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
