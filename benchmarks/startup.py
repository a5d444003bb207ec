"""Start-up time: whole `newsbot` processes that never chat, against a bare `python -c pass`.

Baseline in the same run: `python -c pass` with the same interpreter. Runs are interleaved
(one of each command per round) so that a busy machine slows them alike; the figures are
medians. Python's bytecode cache is on (PYTHONDONTWRITEBYTECODE is dropped) and every command
runs once to warm it up before timing. The commands read the example config from a
temporary folder, with the (empty) database that the warm-up `status` creates.
Usage: uv run python benchmarks/startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script

from benchmarks.common import table

ROOT = Path(__file__).resolve().parents[1]


def commands(config: Path) -> dict[str, list[str]]:
    """The processes to time, by name; the first is the baseline."""
    newsbot = [sys.executable, "-m", "bot"]
    return {"python -c pass": [sys.executable, "-c", "pass"],
            "newsbot --help": [*newsbot, "--help"],
            "newsbot check": [*newsbot, "-c", str(config), "check"],
            "newsbot status": [*newsbot, "-c", str(config), "status"],
            "newsbot digest": [*newsbot, "-c", str(config), "digest"],
            "newsbot search": [*newsbot, "-c", str(config), "search", "climate"],
            "newsbot related": [*newsbot, "-c", str(config), "related", "climate talks"]}


def run_once(argv: list[str], env: dict[str, str]) -> float:
    """Seconds the whole process takes, from start to exit; a failure stops the benchmark."""
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode(errors='replace')}")
    return elapsed


def measure(runs: int) -> None:
    """Warm up, time `runs` interleaved rounds, print the medians against the baseline."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["COLUMNS"] = "120"
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.toml"
        shutil.copy(ROOT / "config.example.toml", config)
        timed = commands(config)
        times: dict[str, list[float]] = {name: [] for name in timed}
        for name in ("newsbot status", *timed):  # status first: it makes the database
            run_once(timed[name], env)
        for _ in range(runs):
            for name, argv in timed.items():
                times[name].append(run_once(argv, env))
    medians = {name: statistics.median(values) for name, values in times.items()}
    bare = medians["python -c pass"]
    table(f"Whole processes, median of {runs} runs on {os.cpu_count()} CPUs (s)",
          ("command", "median", "- bare python", "x bare python"),
          [(name, median, median - bare, median / bare) for name, median in medians.items()])


def main() -> None:
    """Parse arguments and run."""
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--runs", type=int, default=10)
    measure(args.parse_args().runs)


if __name__ == "__main__":
    main()
