"""What every benchmark shares: the corpus, CPU and memory readings, loop lag, tables."""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
# The small corpus every clone has: the test suite's real-world feed files.
SHIPPED_CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
TICKS = os.sysconf("SC_CLK_TCK")


def corpus_folder(text: str) -> Path:
    """The `--corpus` folder; without one, ../shared/corpus/feeds if present, else the feeds
    shipped in tests/fixtures, saying so in one line."""
    folder = Path(text)
    if folder.is_dir():
        return folder
    if folder != DEFAULT_CORPUS:
        raise argparse.ArgumentTypeError(f"{folder}: no such folder (give a folder of feed "
                                         ".xml/.json/.rss/.atom files)")
    print(f"corpus: {DEFAULT_CORPUS} not found; using the small corpus in {SHIPPED_CORPUS} "
          "(point --corpus DIR at a folder of feed files for real figures)", file=sys.stderr)
    return SHIPPED_CORPUS


def add_corpus_argument(parser: argparse.ArgumentParser) -> None:
    """`--corpus DIR`, defaulting as corpus_folder says."""
    parser.add_argument("--corpus", type=corpus_folder, default=str(DEFAULT_CORPUS),
                        metavar="DIR", help="a folder of feed files (default: "
                        "../shared/corpus/feeds, else tests/fixtures)")


def load_corpus(corpus: Path) -> list[tuple[str, bytes]]:
    """Every feed file of the corpus as (name, bytes)."""
    return [(p.name, p.read_bytes()) for p in sorted(corpus.iterdir())
            if p.suffix in (".xml", ".json", ".rss", ".atom")]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    """Live processes below `pid` (worker processes under a forkserver included)."""
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds() -> float:
    """CPU seconds of this process and its live descendants (parse workers)."""
    total = time.process_time()
    for pid in descendants(os.getpid()):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_peak_rss_mb() -> float:
    """The largest peak resident memory among live descendants, in MB."""
    peaks = [0.0]
    for pid in descendants(os.getpid()):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return max(peaks)


@dataclass
class LoopLag:
    """Measures how late the event loop runs a 5 ms timer: the longest block wins."""

    worst_ms: float = 0.0
    samples: list[float] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LoopLag:
        self._task = asyncio.create_task(self._watch())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()

    async def _watch(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.005)
            late = (time.perf_counter() - start - 0.005) * 1000
            self.samples.append(late)
            self.worst_ms = max(self.worst_ms, late)


class LoopSteps:
    """The CPU time each step of the event loop (one callback or task step) takes on its
    own thread: what the loop itself blocks on, apart from waiting for a CPU or for the
    interpreter lock; and the longest garbage collection (in any thread), which every
    thread waits for. Measurement only: it wraps asyncio's callback runner while active."""

    def __init__(self) -> None:
        self.longest_ms = 0.0
        self.longest_gc_ms = 0.0
        self._run: Callable[[asyncio.Handle], None] | None = None
        self._gc_start = 0.0

    def _collecting(self, phase: str, _: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.thread_time()
        else:
            took = (time.thread_time() - self._gc_start) * 1000
            self.longest_gc_ms = max(self.longest_gc_ms, took)

    def __enter__(self) -> LoopSteps:
        gc.callbacks.append(self._collecting)
        run = self._run = asyncio.Handle._run

        def timed(handle: asyncio.Handle) -> None:
            start = time.thread_time()
            run(handle)
            self.longest_ms = max(self.longest_ms, (time.thread_time() - start) * 1000)

        asyncio.Handle._run = timed  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *_: object) -> None:
        assert self._run is not None
        gc.callbacks.remove(self._collecting)
        asyncio.Handle._run = self._run  # type: ignore[method-assign,assignment]


def table(title: str, header: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    """Print an aligned table."""
    cells = [tuple(_cell(v) for v in row) for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                    for i, (h, w) in enumerate(zip(header, widths, strict=True))))
    for row in cells:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths, strict=True))))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def percentile(values: list[float], share: float) -> float:
    """The `share` percentile (0..1) of values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


class ServedFeeds:
    """tests.fakes.FeedServer run in a process of its own, so that the bot a benchmark runs
    in-process shares its interpreter lock and garbage collector with nothing but itself
    (in production the feeds are served by other machines)."""

    def __init__(self, folder: Path) -> None:
        import multiprocessing

        self._parent, child = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_serve_feeds, args=(folder, child), daemon=True)
        self.port = 0

    def __enter__(self) -> ServedFeeds:
        self._process.start()
        self.port = self._parent.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._parent.send(None)
        self._process.join(10)

    def url(self, name: str) -> str:
        """The URL of a served path."""
        return f"http://127.0.0.1:{self.port}/{name}"

    def update(self, bodies: dict[str, bytes], without_validators: set[str] | None = None,
               ) -> None:
        """Serve these bodies (by path) from now on; paths in `without_validators` are
        served with no ETag or Last-Modified."""
        self._parent.send((bodies, without_validators or set()))
        self._parent.recv()


def _serve_feeds(folder: Path, conn: Connection) -> None:
    """The served process: a FeedServer whose bodies the parent sets, until told to stop."""
    from tests.fakes.feed_server import FeedServer

    with FeedServer(folder) as server:
        conn.send(server.port)
        while (message := conn.recv()) is not None:
            bodies, without = message
            server.bodies.update(bodies)
            server.without_validators |= without
            conn.send(True)
