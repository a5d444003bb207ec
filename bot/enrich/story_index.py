"""The recent stories in memory: their vectors as one matrix, their anchors, feeds and clusters.

Same-story matching compares each new article with everything seen in the last days, and
related stories rank recent ones by meaning: both need the recent vectors at hand, not a
database query per article. The index only grows from the store (ids above the last one
loaded) and forgets the oldest when full or past its window.
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

Floats = npt.NDArray[np.float64]
HEAVY = 2.0  # anchors at least this heavy (names, figures) find candidates without vectors
_ROW = struct.Struct("<q")  # a row number in a posting list
_ROWS = np.dtype("<i8")  # ... as numpy reads a whole list


@dataclass(slots=True)
class Indexed:
    """One article in the index (its cluster may change as stories form)."""

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

    product: Matrix | None  # index rows x the batch's articles with a vector
    columns: dict[int, int]  # article id -> its column

    def of(self, item: Indexed) -> Matrix | None:
        """The cosines of `item` with every indexed article, if it has a vector."""
        column = self.columns.get(item.id)
        return None if column is None or self.product is None else self.product[:, column]


class StoryIndex:
    """Recent articles, in id order, with a matrix of their unit vectors."""

    def __init__(self, capacity: int = 50_000) -> None:
        self._capacity = capacity
        self._items: list[Indexed] = []
        self._by_id: dict[int, Indexed] = {}
        self._buffer: Matrix = np.zeros((1024, DIM), dtype=np.float32)
        self._whens: Floats = np.zeros(1024)
        self._forgotten = 0  # rows dropped from the front so far
        # heavy anchor -> rows of the articles with it, as int64s numpy reads without
        # copying; bytes, not lists: the garbage collector never walks them
        self._postings: dict[str, bytearray] = {}
        self._stories: dict[int, set[int]] = {}  # cluster id -> ids of its indexed articles
        self.last_id = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def _matrix(self) -> Matrix:
        return self._buffer[:len(self._items)]

    def get(self, article_id: int) -> Indexed | None:
        """The indexed article with this id, if it is in the index."""
        return self._by_id.get(article_id)

    def add(self, points: Sequence[StoryPoint]) -> None:
        """Append newly stored articles (ids above every id already held)."""
        fresh = [p for p in points if p.id > self.last_id]
        if not fresh:
            return
        matrix, present = unpack([p.vector for p in fresh])
        self.reserve(len(fresh))
        start = len(self._items)
        self._buffer[start:start + len(fresh)] = matrix
        self._whens[start:start + len(fresh)] = [p.when.timestamp() for p in fresh]
        for offset, (point, has_vector) in enumerate(zip(fresh, present, strict=True)):
            item = Indexed(point.id, point.feed_id, point.cluster_id, point.when.timestamp(),
                           point.seen.timestamp(), decode(point.anchors),
                           headline_names(point.anchors), decode_plain(point.anchors),
                           bool(has_vector),
                           self._forgotten + start + offset)
            self._items.append(item)
            self._by_id[item.id] = item
            if item.cluster_id:
                self._stories.setdefault(item.cluster_id, set()).add(item.id)
            for key, weight in item.anchors.items():
                if weight >= HEAVY:
                    self._postings.setdefault(key, bytearray()).extend(_ROW.pack(item.row))
        self.last_id = fresh[-1].id
        if len(self._items) > self._capacity:
            self._keep_from(len(self._items) - self._capacity)

    def reserve(self, more: int) -> None:
        """Make room for `more` articles (growing copies every vector: numpy alone, so it
        can run beside the loop)."""
        size = len(self._items) + more
        if size <= len(self._buffer):
            return
        grown = max(size, 2 * len(self._buffer))
        buffer = np.zeros((grown, DIM), dtype=np.float32)
        buffer[:len(self._items)] = self._matrix
        whens = np.zeros(grown)
        whens[:len(self._items)] = self._whens[:len(self._items)]
        self._buffer, self._whens = buffer, whens

    def forget_seen_before(self, moment: float) -> None:
        """Drop articles first seen before `moment` (unix seconds)."""
        cut = next((i for i, item in enumerate(self._items) if item.seen >= moment),
                   len(self._items))
        if cut:
            self._keep_from(cut)

    def _keep_from(self, start: int) -> None:
        for item in self._items[:start]:
            del self._by_id[item.id]
            self._stories.get(item.cluster_id, set()).discard(item.id)
            for key in item.anchors:
                rows = self._postings.get(key)  # in order: the oldest comes first
                if rows and _ROW.unpack_from(rows)[0] == item.row:
                    del rows[:_ROW.size]
                    if not rows:
                        del self._postings[key]
        kept = len(self._items) - start
        self._buffer[:kept] = self._buffer[start:len(self._items)]
        self._whens[:kept] = self._whens[start:len(self._items)]
        self._items = self._items[start:]
        self._forgotten += start

    def set_story(self, article_ids: Iterable[int], cluster_id: int) -> None:
        """Record that these articles now belong to `cluster_id`."""
        for article_id in article_ids:
            item = self._by_id.get(article_id)
            if item is not None:
                self._stories.get(item.cluster_id, set()).discard(item.id)
                item.cluster_id = cluster_id
                self._stories.setdefault(cluster_id, set()).add(item.id)

    def members(self, story: int) -> list[Indexed]:
        """The indexed articles of a story (a cluster id, or minus a lone article's id)."""
        if story < 0:
            item = self._by_id.get(-story)
            return [item] if item is not None else []
        return [self._by_id[i] for i in sorted(self._stories.get(story, ()))]

    def cosines(self, items: Sequence[Indexed]) -> Cosines:
        """Every cosine between the index and those of `items` that have a vector: one
        matrix product, numpy alone (it releases the interpreter lock: run it beside the
        loop while the index holds still)."""
        with_vector = [item for item in items if item.has_vector]
        product = (self._matrix @ self._buffer[[i.row - self._forgotten for i in with_vector]].T
                   if with_vector else None)
        return Cosines(product, {item.id: column for column, item in enumerate(with_vector)})

    def near(self, item: Indexed, window_s: float, floor: float, cosines: Cosines,
             ) -> list[tuple[Indexed, float | None]]:
        """The other articles within `window_s` of `item` that may tell its story: close in
        meaning (cosine at least `floor`) or sharing a heavy anchor; each with its cosine
        (None where either side has no vector). `cosines` come from `cosines` on a batch
        holding `item`, with the index unchanged since."""
        column = cosines.of(item)
        count = len(self._items)
        in_window = np.abs(self._whens[:count] - item.when) <= window_s
        wanted = column >= floor if column is not None else np.zeros(count, dtype=bool)
        posted = [self._postings[key] for key, weight in item.anchors.items()
                  if weight >= HEAVY and key in self._postings]
        if posted:  # postings hold rows since the index began: the forgotten are below zero
            rows = np.concatenate([np.frombuffer(rows, dtype=_ROWS) for rows in posted]
                                  ) - self._forgotten
            wanted[rows[rows >= 0]] = True
        wanted &= in_window
        wanted[item.row - self._forgotten] = False
        found: list[tuple[Indexed, float | None]] = []
        for row in np.nonzero(wanted)[0].tolist():
            other = self._items[row]
            found.append((other, float(column[row]) if column is not None and other.has_vector
                          else None))
        return found

    def closest(self, vector: Matrix, k: int) -> list[tuple[Indexed, float]]:
        """Up to `k` articles closest in meaning to `vector`, with their cosines."""
        if not self._items or k <= 0:
            return []
        cosines = self._matrix @ vector
        k = min(k, len(self._items))
        best = np.argpartition(-cosines, k - 1)[:k]
        return [(self._items[row], float(cosines[row])) for row in best
                if self._items[row].has_vector]

    def vector_of(self, article_id: int) -> Matrix | None:
        """The unit vector of an indexed article, if it has one."""
        item = self._by_id.get(article_id)
        if item is None or not item.has_vector:
            return None
        vector: Matrix = self._buffer[item.row - self._forgotten]
        return vector
