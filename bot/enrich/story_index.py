"""The recent stories in memory: their vectors as one matrix, their anchors, feeds and clusters.

Same-story matching compares each new article with everything seen in the last days, and
related stories rank recent ones by meaning: both need the recent vectors at hand, not a
database query per article. The index only grows from the store (ids above the last one
loaded) and forgets the oldest when full or past its window.

It holds its articles in columns, not an object each: their numbers in one numpy table, their
names in three lists of dicts and tuples of strings, which the garbage collector does not
track. Its full passes, which stop the event loop, grow far more slowly with the index
(benchmarks/gc_index.py).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.enrich.anchors import decode, decode_plain, headline_names
from bot.enrich.vectors import DIM, Matrix, unpack
from bot.model import StoryPoint

HEAVY = 2.0  # anchors at least this heavy (names, figures) find candidates without vectors
_ROW = struct.Struct("<q")  # a row number in a posting list
_ROWS = np.dtype("<i8")  # ... as numpy reads a whole list
# An indexed article's numbers: its id, cluster, first seen (unix seconds) and whether it has
# a vector (its time and feed, which every match scans, are arrays of their own)
_COLUMNS = np.dtype([("id", "i8"), ("cluster", "i8"), ("seen", "f8"), ("vector", "?")])
Table = npt.NDArray[np.void]
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Indexed:
    """One article in the index as it stood when asked for (its cluster may change as
    stories form: ask the index again after set_story)."""

    id: int
    feed_id: int
    cluster_id: int
    when: float  # unix seconds, published else first seen
    seen: float  # unix seconds, first seen
    anchors: dict[str, float]
    headline: tuple[str, ...]  # the names its headline gives
    plain: dict[str, float]  # the plain words of its headline and lede
    has_vector: bool
    row: int  # its place in the index since it was created (rows of forgotten ones count)

    @property
    def story(self) -> int:
        """The story it belongs to: its cluster, or itself while alone (negative id)."""
        return self.cluster_id or -self.id


@dataclass(frozen=True, slots=True)
class Cosines:
    """The cosines of a batch of indexed articles with every article in the index."""

    product: Matrix | None  # the batch's articles with a vector x index rows
    columns: dict[int, int]  # article id -> its column

    def of(self, item: Indexed) -> Matrix | None:
        """The cosines of `item` with every indexed article, if it has a vector."""
        column = self.columns.get(item.id)
        return None if column is None or self.product is None else self.product[column]


class StoryIndex:
    """Recent articles, in id order, with a matrix of their unit vectors."""

    def __init__(self, capacity: int = 50_000) -> None:
        self._capacity = capacity
        self._count = 0  # articles held, in id order (position = row - self._forgotten)
        self._table: Table = np.zeros(1024, dtype=_COLUMNS)  # their numbers
        self._whens: Floats = np.zeros(1024)  # unix seconds, published else first seen
        self._feeds: Ints = np.zeros(1024, dtype=np.int64)
        self._buffer: Matrix = np.zeros((1024, DIM), dtype=np.float32)  # their vectors
        # ... and what they name: untracked dicts and tuples in three lists
        self._anchors: list[dict[str, float]] = []
        self._headlines: list[tuple[str, ...]] = []
        self._plains: list[dict[str, float]] = []
        self._rows: dict[int, int] = {}  # article id -> row
        self._forgotten = 0  # rows dropped from the front so far
        # heavy anchor -> rows of the articles with it, as int64s numpy reads without
        # copying; bytes, not lists: the garbage collector never walks them
        self._postings: dict[str, bytearray] = {}
        self._stories: dict[int, set[int]] = {}  # cluster id -> ids of its indexed articles
        self.last_id = 0

    def __len__(self) -> int:
        return self._count

    @property
    def _matrix(self) -> Matrix:
        return self._buffer[:self._count]

    def get(self, article_id: int) -> Indexed | None:
        """The indexed article with this id, if it is in the index."""
        row = self._rows.get(article_id)
        return None if row is None else self._at(row - self._forgotten)

    def _at(self, position: int) -> Indexed:
        article_id, cluster_id, seen, has_vector = self._table.item(position)
        return Indexed(article_id, int(self._feeds[position]), cluster_id,
                       float(self._whens[position]), seen, self._anchors[position],
                       self._headlines[position], self._plains[position], bool(has_vector),
                       self._forgotten + position)

    def add(self, points: Sequence[StoryPoint]) -> None:
        """Append newly stored articles (ids above every id already held)."""
        fresh = [p for p in points if p.id > self.last_id]
        if not fresh:
            return
        matrix, present = unpack([p.vector for p in fresh])
        self.reserve(len(fresh))
        start, end = self._count, self._count + len(fresh)
        self._buffer[start:end] = matrix
        self._table[start:end] = [(p.id, p.cluster_id, p.seen.timestamp(), has_vector)
                                  for p, has_vector in zip(fresh, present, strict=True)]
        self._whens[start:end] = [p.when.timestamp() for p in fresh]
        self._feeds[start:end] = [p.feed_id for p in fresh]
        for row, point in enumerate(fresh, self._forgotten + start):
            anchors = decode(point.anchors)
            self._anchors.append(anchors)
            self._headlines.append(headline_names(point.anchors))
            self._plains.append(decode_plain(point.anchors))
            self._rows[point.id] = row
            if point.cluster_id:
                self._stories.setdefault(point.cluster_id, set()).add(point.id)
            for key, weight in anchors.items():
                if weight >= HEAVY:
                    self._postings.setdefault(key, bytearray()).extend(_ROW.pack(row))
        self._count = end
        self.last_id = fresh[-1].id
        if self._count > self._capacity:
            self._keep_from(self._count - self._capacity)

    def reserve(self, more: int) -> None:
        """Make room for `more` articles (growing copies every vector: numpy alone, so it
        can run beside the loop)."""
        size = self._count + more
        if size <= len(self._buffer):
            return
        grown = max(size, 2 * len(self._buffer))
        buffer = np.zeros((grown, DIM), dtype=np.float32)
        buffer[:self._count] = self._matrix
        table = np.zeros(grown, dtype=_COLUMNS)
        table[:self._count] = self._table[:self._count]
        whens, feeds = np.zeros(grown), np.zeros(grown, dtype=np.int64)
        whens[:self._count] = self._whens[:self._count]
        feeds[:self._count] = self._feeds[:self._count]
        self._buffer, self._table, self._whens, self._feeds = buffer, table, whens, feeds

    def forget_seen_before(self, moment: float) -> None:
        """Drop articles first seen before `moment` (unix seconds)."""
        later = np.nonzero(self._table["seen"][:self._count] >= moment)[0]
        cut = int(later[0]) if len(later) else self._count
        if cut:
            self._keep_from(cut)

    def _keep_from(self, start: int) -> None:
        for position in range(start):
            number, row = self._table[position], self._forgotten + position
            article_id = int(number["id"])
            del self._rows[article_id]
            self._stories.get(int(number["cluster"]), set()).discard(article_id)
            for key in self._anchors[position]:
                rows = self._postings.get(key)  # in order: the oldest comes first
                if rows and _ROW.unpack_from(rows)[0] == row:
                    del rows[:_ROW.size]
                    if not rows:
                        del self._postings[key]
        kept = self._count - start
        self._buffer[:kept] = self._buffer[start:self._count]
        self._table[:kept] = self._table[start:self._count]
        self._whens[:kept] = self._whens[start:self._count]
        self._feeds[:kept] = self._feeds[start:self._count]
        for column in (self._anchors, self._headlines, self._plains):
            del column[:start]
        self._count = kept
        self._forgotten += start

    def set_story(self, article_ids: Iterable[int], cluster_id: int) -> None:
        """Record that these articles now belong to `cluster_id`."""
        clusters = self._table["cluster"]
        for article_id in article_ids:
            row = self._rows.get(article_id)
            if row is not None:
                position = row - self._forgotten
                self._stories.get(int(clusters[position]), set()).discard(article_id)
                clusters[position] = cluster_id
                self._stories.setdefault(cluster_id, set()).add(article_id)

    def members(self, story: int) -> list[Indexed]:
        """The indexed articles of a story (a cluster id, or minus a lone article's id)."""
        if story < 0:
            item = self.get(-story)
            return [item] if item is not None else []
        return [self._at(self._rows[i] - self._forgotten)
                for i in sorted(self._stories.get(story, ()))]

    def cosines(self, items: Sequence[Indexed]) -> Cosines:
        """Every cosine between the index and those of `items` that have a vector: one
        matrix product, numpy alone (it releases the interpreter lock: run it beside the
        loop while the index holds still)."""
        with_vector = [item for item in items if item.has_vector]
        product = (self._buffer[[i.row - self._forgotten for i in with_vector]] @ self._matrix.T
                   if with_vector else None)
        return Cosines(product, {item.id: column for column, item in enumerate(with_vector)})

    def near_stories(self, item: Indexed, window_s: float, floor: float, cosines: Cosines,
                     ) -> set[int]:
        """The stories of the other outlets' articles within `window_s` of `item` that may
        tell its story: close in meaning (cosine at least `floor`) or sharing a heavy anchor.
        `cosines` come from `cosines` on a batch holding `item`, with the index unchanged
        since. Numpy alone: an article near hundreds of others costs no object each."""
        column = cosines.of(item)
        count = self._count
        in_window = np.abs(self._whens[:count] - item.when) <= window_s
        wanted = column >= floor if column is not None else np.zeros(count, dtype=bool)
        posted = [self._postings[key] for key, weight in item.anchors.items()
                  if weight >= HEAVY and key in self._postings]
        if posted:  # postings hold rows since the index began: the forgotten are below zero
            rows = np.concatenate([np.frombuffer(rows, dtype=_ROWS) for rows in posted]
                                  ) - self._forgotten
            wanted[rows[rows >= 0]] = True
        wanted &= in_window
        wanted &= self._feeds[:count] != item.feed_id
        found = self._table[np.nonzero(wanted)[0]]
        stories = np.where(found["cluster"] != 0, found["cluster"], -found["id"])
        return set(stories.tolist())

    def closest(self, vector: Matrix, k: int) -> list[tuple[Indexed, float]]:
        """Up to `k` articles closest in meaning to `vector`, with their cosines."""
        if not self._count or k <= 0:
            return []
        cosines = self._matrix @ vector
        k = min(k, self._count)
        best = np.argpartition(-cosines, k - 1)[:k]
        has_vector = self._table["vector"]
        return [(self._at(position), float(cosines[position])) for position in best.tolist()
                if has_vector[position]]

    def vector_of(self, article_id: int) -> Matrix | None:
        """The unit vector of an indexed article, if it has one."""
        row = self._rows.get(article_id)
        if row is None or not self._table["vector"][row - self._forgotten]:
            return None
        vector: Matrix = self._buffer[row - self._forgotten]
        return vector
