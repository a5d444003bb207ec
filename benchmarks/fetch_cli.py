"""Whole-CLI `newsbot fetch` of the corpus served on loopback, against stock feedparser.

Baseline in the same run: one process that runs stock `feedparser.parse` on every corpus file
(read from disk, no HTTP, no store). Timed as whole processes, start to exit: `newsbot fetch`
into an empty database (the first fetch), then again with every feed unchanged (the re-fetch:
304s, or 200s with the same body). Rounds are interleaved so that a busy machine slows them
alike; figures are medians. Python's bytecode cache is on (PYTHONDONTWRITEBYTECODE is dropped,
as in a deployment) and one untimed round warms it. Peak memory is the largest resident
size of the process and of any process it waited for (not the parse workers).
Usage: uv run python benchmarks/fetch_cli.py [--corpus DIR] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: tests.fakes

from benchmarks.common import add_corpus_argument, load_corpus, table
from tests.fakes.feed_server import FeedServer

ROOT = Path(__file__).resolve().parents[1]
STOCK = ("import sys, feedparser\nfrom pathlib import Path\n"
         "print(sum(len(feedparser.parse(Path(p).read_bytes()).entries) for p in sys.argv[1:]))")


def write_config(folder: Path, urls: list[str]) -> Path:
    """A config listing every served feed; one loopback host, so per_host = concurrency."""
    feeds = "".join(f'[[feeds]]\nurl = "{url}"\n' for url in urls)
    config = folder / "config.toml"
    config.write_text(
        '[bot]\ndatabase = "bench.db"\nlog_level = "ERROR"\n'
        "[fetch]\nallow_private_addresses = true\nper_host = 16\n"
        '[[channels]]\nid = "console"\nfeeds = ["*"]\n' + feeds, encoding="utf-8")
    return config


def run_once(argv: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """(seconds from start to exit, peak resident MB) of one whole process."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    assert process.stderr is not None
    errors = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in ok:
        raise SystemExit(f"{' '.join(argv)} failed ({process.returncode}): {errors}")
    return elapsed, usage.ru_maxrss / 1024


def measure(corpus: Path, runs: int) -> None:
    """Interleave baseline, first fetch and re-fetch `runs` times; print medians and ratios."""
    paths = [str(corpus / name) for name, _ in load_corpus(corpus)]
    names = [Path(p).name for p in paths]
    times: dict[str, list[tuple[float, float]]] = {"stock": [], "first": [], "again": []}
    with FeedServer(corpus) as server, tempfile.TemporaryDirectory() as folder:
        config = write_config(Path(folder), [server.url(n) for n in names])
        fetch = [sys.executable, "-m", "bot", "-c", str(config), "fetch"]
        database = Path(folder) / "bench.db"
        for _ in range(runs + 1):
            times["stock"].append(run_once([sys.executable, "-c", STOCK, *paths]))
            for suffix in ("", "-wal", "-shm"):
                Path(f"{database}{suffix}").unlink(missing_ok=True)
            times["first"].append(run_once(fetch, ok=(0, 1)))  # a few corpus files are broken
            times["again"].append(run_once(fetch, ok=(0, 1)))
    times = {k: v[1:] for k, v in times.items()}  # the first round only warmed the caches
    median = {k: statistics.median(t for t, _ in v) for k, v in times.items()}
    peak = {k: max(m for _, m in v) for k, v in times.items()}
    table(f"Whole processes on {os.cpu_count()} CPUs, {len(paths)} feeds, median of {runs} (s)",
          ("process", "seconds", "peak MB", "speed x stock"), [
              ("stock feedparser.parse, one process (baseline)", median["stock"],
               peak["stock"], 1.0),
              ("newsbot fetch, empty database", median["first"], peak["first"],
               median["stock"] / median["first"]),
              ("newsbot fetch again, every feed unchanged", median["again"], peak["again"],
               median["stock"] / median["again"])])


def main() -> None:
    """Parse arguments and run."""
    args = argparse.ArgumentParser(description=__doc__)
    add_corpus_argument(args)
    args.add_argument("--runs", type=int, default=3)
    options = args.parse_args()
    measure(options.corpus, options.runs)


if __name__ == "__main__":
    main()
