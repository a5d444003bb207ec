"""What the story index costs the garbage collector: a full collection stops the event loop.

The bot freezes its start-up objects out of the collector's full passes (gc.freeze); what
the index then adds to each pass is the figure. Baseline in the same run: the same stories
held the plain way, one object each with its names as a dict and a set (as the index held
them before it kept columns). Synthetic stories (12 names, 10 plain words and a vector each).
Usage: uv run python benchmarks/gc_index.py [--stories 22000 140000]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script

from benchmarks.common import table
from bot.enrich import vectors
from bot.enrich.anchors import decode, decode_plain, headline_names
from bot.enrich.story_index import StoryIndex
from bot.model import StoryPoint

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def points(count: int, seed: int = 1) -> list[StoryPoint]:
    """`count` stories as the store gives them to the index."""
    rng = random.Random(seed)
    names = [f"name{i}" for i in range(30_000)]
    vectors_ = np.random.default_rng(seed).standard_normal((count, vectors.DIM))
    found = []
    for i in range(count):
        anchors = " ".join(f"{key}:{rng.uniform(1, 7):.2f}{'^' if j < 3 else ''}"
                           for j, key in enumerate(rng.sample(names, 12)))
        plain = " ".join(f"+w{rng.randrange(5000)}:{rng.uniform(0, 3):.2f}" for _ in range(10))
        found.append(StoryPoint(i + 1, i % 50, 0, NOW + timedelta(seconds=i), NOW,
                                f"{anchors} {plain}", vectors.pack(vectors_[i])))
    return found


def full_collection_ms(runs: int = 7) -> float:
    """The median time of a full collection, in milliseconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        gc.collect()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


@dataclass(slots=True)
class _Plain:
    """A story held the plain way: one object, its names in a dict and a set."""

    id: int
    feed_id: int
    cluster_id: int
    anchors: dict[str, float]
    headline: frozenset[str]
    plain: dict[str, float]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, nargs="+", default=[22_000, 140_000])
    args = parser.parse_args()
    gc.collect()
    gc.freeze()  # as the bot does once its parts are built
    rows: list[tuple[object, ...]] = []
    for count in args.stories:
        held = [_Plain(p.id, p.feed_id, p.cluster_id, decode(p.anchors),
                       frozenset(headline_names(p.anchors)), decode_plain(p.anchors))
                for p in points(count)]
        plain_ms = full_collection_ms()
        del held
        stories = points(count)
        index = StoryIndex(capacity=count)
        for start in range(0, count, 500):
            index.add(stories[start:start + 500])
        del stories
        index_ms = full_collection_ms()
        rows.append((f"{count:,}", f"{plain_ms:.1f}", f"{index_ms:.1f}",
                     f"{index_ms / plain_ms:.2f}"))
        del index
        gc.collect()
    table("Full garbage collection with the stories in memory (median of 7, ms)",
          ("stories", "one object each (baseline)", "story index", "ratio"), rows)


if __name__ == "__main__":
    main()
