"""Story intelligence measured on HELD-OUT judged news (tests/eval, split "holdout"):
same-story grouping and related stories, through the functions and end to end through
`newsbot fetch`, `newsbot digest --json` and `newsbot related --json`.

Thresholds were chosen on the tuning half only (tests/eval/tune.py); nothing here tunes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.feeds.canonical import canonical_url
from tests.fakes.feed_server import FeedServer
from tests.story_eval import (
    SETS,
    Grouping,
    Judged,
    Relatedness,
    load,
    measure,
    score_grouping,
    score_related,
    write_feeds,
)

ROOT = Path(__file__).parent.parent
HOLDOUT = load("holdout")
# Floors: what the held-out half measured when the thresholds were chosen, less a margin
# (see README "Same story, related stories"); the issue's own floors are in the note.
PAIR_PRECISION = 0.91
PAIR_RECALL = 0.61
ONE_ITEM = 0.58  # share of several-outlet events shown as exactly one digest item
RELATED_PRECISION = 0.8
# Grouping more takes as one story leaves fewer other stories to answer with (a story's other
# outlets are never related answers): `newsbot fetch` runs measured 2.48 to 2.53 per query,
# varying with the order feeds arrive in.
RESULTS_PER_QUERY = 2.45


def test_the_judged_sets_are_large_enough() -> None:
    """At least 40 several-outlet stories and 60 related queries, in two halves."""
    tune = load("tune")
    stories = len(tune.multi_article_events()) + len(HOLDOUT.multi_article_events())
    assert stories >= 40
    assert len(tune.queries) + len(HOLDOUT.queries) >= 60
    assert len(HOLDOUT.multi_article_events()) >= 20 and len(HOLDOUT.queries) >= 30


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("poll_hours", [None, 6.0], ids=["first-fetch", "polled"])
async def test_held_out_quality_meets_the_floors(poll_hours: float | None) -> None:
    """Grouping precision and recall and related precision@3 (with enough answers) hold
    on news the thresholds never saw, fetched at once or polled as a running bot does."""
    groups, found = await measure("holdout", poll_hours)
    _meets_the_floors(groups, found, related=poll_hours is None)


def _meets_the_floors(groups: Grouping, found: Relatedness, related: bool = True) -> None:
    """Print the held-out scores and assert the floors (related ones only if `related`)."""
    print(f"\npairs P {groups.pair_precision:.3f} R {groups.pair_recall:.3f}; one item "
          f"{groups.one_item}/{groups.stories}; related P@3 {found.precision:.3f}, "
          f"{found.results_per_query:.2f} per query")
    assert groups.pair_precision >= PAIR_PRECISION
    assert groups.pair_recall >= PAIR_RECALL
    assert groups.story_recall >= ONE_ITEM
    assert not found.first_unrelated
    if related:
        assert found.precision >= RELATED_PRECISION
        assert found.results_per_query >= RESULTS_PER_QUERY


def _posted(database: Path, urls: list[str]) -> None:
    """Record these stories as delivered to the console, as the bot's outbox would."""
    with sqlite3.connect(database) as db:
        digest = db.execute("INSERT INTO digests (channel_id, slot, title, created, done) "
                            "VALUES ('console', 0, 'eval', 0, 0)").lastrowid
        db.executemany(
            "INSERT INTO deliveries (channel_id, article_id, digest_id, position, sent) "
            "SELECT 'console', id, ?, 0, 0 FROM articles WHERE url = ?",
            [(digest, url) for url in urls])


@dataclass(frozen=True, slots=True)
class Fetched:
    """One judged set fetched by `newsbot fetch` into a fresh database."""

    judged: Judged
    config: Path
    urls: dict[str, str]  # article URL -> eval id


def _newsbot(config: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "bot", "-c", str(config), *args],
                          capture_output=True, text=True, timeout=240, check=False,
                          cwd=ROOT, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout


def _fetch(name: str, folder: Path) -> Fetched:
    """One held-out set served as one feed per outlet and fetched by the CLI."""
    judged = load("holdout", [name])
    names = write_feeds(judged.articles, folder)
    with FeedServer(folder) as server:
        feeds = "".join(f'[[feeds]]\nurl = "{server.url(file)}"\nname = "{outlet}"\n'
                        for outlet, file in names.items())
        config = folder / "config.toml"
        config.write_text('[fetch]\nallow_private_addresses = true\nmax_entries = 1000\n'
                          f'{feeds}[[channels]]\nid = "console"\nmax_items = 50\n',
                          encoding="utf-8")
        _newsbot(config, "fetch")
    return Fetched(judged, config, {canonical_url(a.url): a.id for a in judged.articles})


def _digests(fetched: Fetched) -> Grouping:
    """Digest after digest, as posted, until every article was shown."""
    story: dict[str, int] = {}
    while len(story) < len(fetched.judged.articles):
        items = json.loads(_newsbot(fetched.config, "digest", "--json"))["items"]
        assert items
        shown = [[item["url"], *(link["url"] for link in item["also"])] for item in items]
        for urls in shown:
            story.update(dict.fromkeys((fetched.urls[url] for url in urls), len(story)))
        _posted(fetched.config.parent / "newsbot.db", [u for urls in shown for u in urls])
    return score_grouping(fetched.judged, story)


def _related(fetched: Fetched, capsys: pytest.CaptureFixture[str]) -> Relatedness:
    """Every judged query asked of `newsbot related --json`."""
    answers: dict[str, list[str]] = {}
    by_id = {a.id: a for a in fetched.judged.articles}
    for query in fetched.judged.queries:
        target = by_id[query.article].url if query.article else query.words
        assert main(["-c", str(fetched.config), "related", "--json", target]) == 0
        reply = json.loads(capsys.readouterr().out)
        answers[query.id] = [fetched.urls[item["url"]] for item in reply["items"]]
    return score_related(fetched.judged, answers)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_end_to_end_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                    ) -> None:
    """As a user sees it: the digest shows each event as one item with "also" links, and
    `newsbot related` answers the judged queries, on held-out news (every held-out set,
    each fetched into a database of its own)."""
    groups: Grouping | None = None
    found: Relatedness | None = None
    for name in (s for s in SETS if load("holdout", [s]).articles):
        folder = tmp_path / name.removesuffix(".json")
        folder.mkdir()
        fetched = _fetch(name, folder)
        mine, answered = _digests(fetched), _related(fetched, capsys)
        groups = mine if groups is None else groups + mine
        found = answered if found is None else found + answered
    assert groups is not None and found is not None
    with capsys.disabled():
        _meets_the_floors(groups, found)
