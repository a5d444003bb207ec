"""The judged story sets of tests/eval, run through the real enrichment, store and Stories.

Shared by the quality tests and by tests/eval/tune.py (which fits the thresholds on the
tuning half only). Articles are fed as a poller would: each outlet one feed, each poll of a
feed one batch, enriched by the same code the worker runs, stored in a real SQLite file.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from bot.enrich.pipeline import enrich_entries
from bot.enrich.stories import Stories
from bot.model import Entry, FeedSpec
from bot.store.store import Store, open_store

EVAL = Path(__file__).parent / "eval"
SETS = ("stories_real.json", "stories_invented_a.json", "stories_invented_b.json",
        "stories_invented_c.json", "stories_invented_d.json", "stories_invented_e.json")


@dataclass(frozen=True, slots=True)
class JudgedArticle:
    """One article of a judged set, with the event it reports and its topics."""

    id: str
    feed: str
    title: str
    text: str
    url: str
    published: datetime
    categories: tuple[str, ...]
    event: str
    topics: tuple[str, ...]
    split: str


@dataclass(frozen=True, slots=True)
class Query:
    """A related-stories query (an article id or words) with its judged answers."""

    id: str
    article: str
    words: str
    relevant: frozenset[str]
    unrelated: frozenset[str]


@dataclass(frozen=True, slots=True)
class Judged:
    """A split of the judged sets: its articles and queries."""

    articles: tuple[JudgedArticle, ...]
    queries: tuple[Query, ...]

    def multi_article_events(self) -> dict[str, list[JudgedArticle]]:
        """Events reported by two or more outlets."""
        events: dict[str, list[JudgedArticle]] = defaultdict(list)
        for article in self.articles:
            events[article.event].append(article)
        return {e: arts for e, arts in events.items() if len({a.feed for a in arts}) > 1}


def load(split: str, sets: Iterable[str] = SETS) -> Judged:
    """The articles and queries of one split ("tune" or "holdout") of the judged sets."""
    articles: list[JudgedArticle] = []
    queries: list[Query] = []
    for name in sets:
        data: dict[str, Any] = json.loads((EVAL / name).read_text("utf-8"))
        mine = [_article(a) for a in data["articles"] if a["split"] == split]
        ids = {a.id for a in mine}
        articles.extend(mine)
        for q in data["queries"]:
            subject = q["query"].get("article", "")
            targets = set(q["relevant"]) | {subject} - {""}
            if targets <= ids:
                queries.append(Query(q["id"], subject, q["query"].get("words", ""),
                                     frozenset(q["relevant"]), frozenset(q["unrelated"])))
    return Judged(tuple(articles), tuple(queries))


def _article(raw: dict[str, Any]) -> JudgedArticle:
    return JudgedArticle(
        id=raw["id"], feed=raw["feed"], title=raw["title"], text=raw["text"], url=raw["url"],
        published=datetime.fromisoformat(raw["published"]).astimezone(UTC),
        categories=tuple(raw.get("categories", ())), event=raw["event"],
        topics=tuple(raw.get("topics", ())), split=raw["split"])


def entry(article: JudgedArticle) -> Entry:
    """The judged article as its feed's parser would give it."""
    return Entry(dedup_key=article.id, url=article.url, title=article.title,
                 content_html=article.text, categories=article.categories,
                 published=article.published, lang="en")


@dataclass
class Clock:
    """A clock the evaluation moves forward as polls happen."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Ingested:
    """The judged articles as stored: eval id <-> article id."""

    ids: dict[str, int] = field(default_factory=dict)
    back: dict[int, str] = field(default_factory=dict)

    def eval_id(self, article_id: int) -> str:
        return self.back[article_id]


async def ingest(store: Store, stories: Stories, clock: Clock,
                 articles: Sequence[JudgedArticle], poll_hours: float | None) -> Ingested:
    """Store and cluster the articles feed by feed: all at once (a first `newsbot fetch`)
    when `poll_hours` is None, else in polls every `poll_hours` as a running bot would."""
    feeds = sorted({a.feed for a in articles})
    await store.feeds.sync_config_feeds(
        [FeedSpec(url=f"https://eval.example/{i}", name=name) for i, name in enumerate(feeds)])
    feed_ids = {f.name: f.id for f in await store.feeds.active_feeds()}
    ingested = Ingested()
    for when, batch in _polls(articles, poll_hours):
        clock.now = when
        for feed in feeds:
            mine = [a for a in batch if a.feed == feed]
            if not mine:
                continue
            new = enrich_entries([entry(a) for a in mine], (), {})
            await store.articles.add_articles(feed_ids[feed], new, when)
            stored = await store.articles.by_keys(feed_ids[feed], [a.id for a in mine])
            await stories.assign(stored)
            by_url = {a.url: a.id for a in mine}
            for article in stored:
                ingested.ids[by_url[article.url]] = article.id
                ingested.back[article.id] = by_url[article.url]
    return ingested


def _polls(articles: Sequence[JudgedArticle],
           poll_hours: float | None) -> list[tuple[datetime, list[JudgedArticle]]]:
    latest = max(a.published for a in articles) + timedelta(hours=1)
    if poll_hours is None:
        return [(latest, list(articles))]
    step = timedelta(hours=poll_hours)
    moment = min(a.published for a in articles)  # the first poll sees the first article
    polls: list[tuple[datetime, list[JudgedArticle]]] = []
    while moment - step < latest:
        polls.append((moment, [a for a in articles if moment - step < a.published <= moment]))
        moment += step
    return polls


@dataclass(frozen=True, slots=True)
class Grouping:
    """How well same-story clusters match the judged events (counts add up across sets)."""

    together_right: int  # article pairs of one event (other outlets) put in one story
    together_wrong: int  # pairs put in one story that are not one event
    apart_wrong: int  # pairs of one event (other outlets) left in different stories
    stories: int  # events with several outlets
    one_item: int  # ... shown as exactly one digest item
    wrong_merges: tuple[tuple[str, str], ...]  # pairs merged but not one event
    split_events: tuple[str, ...]  # events not shown as one item

    @property
    def pair_precision(self) -> float:
        """Of the article pairs put in one story, the share that truly is one event."""
        merged = self.together_right + self.together_wrong
        return self.together_right / merged if merged else 1.0

    @property
    def pair_recall(self) -> float:
        """Of the pairs that are one event (other outlets), the share put together."""
        same = self.together_right + self.apart_wrong
        return self.together_right / same if same else 1.0

    @property
    def story_recall(self) -> float:
        """Of the events several outlets covered, the share shown as exactly one item."""
        return self.one_item / self.stories if self.stories else 1.0

    def __add__(self, other: Grouping) -> Grouping:
        return Grouping(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


async def grouping(store: Store, judged: Judged, ingested: Ingested) -> Grouping:
    """Compare the stored clusters with the judged events."""
    rows = await store.db.fetchall("SELECT id, cluster_id FROM articles")
    back = ingested.back
    return score_grouping(judged, {back[r["id"]]: r["cluster_id"] or -r["id"]
                                   for r in rows if r["id"] in back})


def score_grouping(judged: Judged, story: dict[str, int]) -> Grouping:
    """Compare stories (eval id -> story key, as a digest shows them) with the judged events."""
    by_id = {a.id: a for a in judged.articles}
    tp = fp = fn = 0
    wrong: list[tuple[str, str]] = []
    for a, b in itertools.combinations(sorted(story), 2):
        together = story[a] == story[b]
        same = by_id[a].event == by_id[b].event and by_id[a].feed != by_id[b].feed
        tp += together and same
        fn += same and not together
        if together and by_id[a].event != by_id[b].event:
            fp += 1
            wrong.append((a, b))
    events = judged.multi_article_events()
    split_events = [event for event, members in events.items()
                    if not _one_item(members, story)]
    return Grouping(tp, fp, fn, len(events), len(events) - len(split_events), tuple(wrong),
                    tuple(split_events))


def _one_item(members: list[JudgedArticle], story: dict[str, int]) -> bool:
    """Every outlet's take is in one story that holds nothing else."""
    stories = {story[a.id] for a in members}
    if len(stories) != 1:
        return False
    [only] = stories
    return sum(1 for s in story.values() if s == only) == len(members)


@dataclass(frozen=True, slots=True)
class Relatedness:
    """Precision at 3 of related stories over the judged queries (counts add up)."""

    hits: int  # results judged relevant
    shown: int  # results shown
    queries: int
    first_unrelated: tuple[str, ...]  # queries whose first result was judged clearly unrelated
    misses: tuple[tuple[str, tuple[str, ...]], ...]  # (query, results not judged relevant)

    @property
    def precision(self) -> float:
        return self.hits / self.shown if self.shown else 0.0

    @property
    def results_per_query(self) -> float:
        return self.shown / self.queries if self.queries else 0.0

    def __add__(self, other: Relatedness) -> Relatedness:
        return Relatedness(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


async def relatedness(stories: Stories, store: Store, judged: Judged,
                      ingested: Ingested, k: int = 3) -> Relatedness:
    """Run every judged query as /related would and score its top `k`."""
    answers: dict[str, list[str]] = {}
    for query in judged.queries:
        if query.article:
            [article] = await store.articles.by_ids([ingested.ids[query.article]])
            found = await stories.related_to(article, k=k)
        else:
            found = await stories.related_to_words(query.words, k=k)
        answers[query.id] = [ingested.back[a.id] for a in found]
    return score_related(judged, answers, k)


def score_related(judged: Judged, answers: dict[str, list[str]], k: int = 3) -> Relatedness:
    """Precision at `k` of the answers (query id -> eval ids shown, best first)."""
    hits = shown = 0
    first_unrelated: list[str] = []
    misses: list[tuple[str, tuple[str, ...]]] = []
    for query in judged.queries:
        top = answers[query.id][:k]
        hits += sum(1 for r in top if r in query.relevant)
        shown += len(top)
        if top and top[0] in query.unrelated:
            first_unrelated.append(query.id)
        wrong = [r for r in top if r not in query.relevant]
        if wrong or len(top) < k:
            misses.append((query.id, (*wrong, *["-"] * (k - len(top)))))
    return Relatedness(hits, shown, len(judged.queries), tuple(first_unrelated), tuple(misses))


async def measure(split: str, poll_hours: float | None) -> tuple[Grouping, Relatedness]:
    """Grouping and related scores of one split, each judged set in a store of its own
    (its own days: the sets are weeks and months apart)."""
    groups: Grouping | None = None
    found: Relatedness | None = None
    for name in SETS:
        judged = load(split, [name])
        if not judged.articles:
            continue
        with tempfile.TemporaryDirectory() as folder:
            async with open_store(Path(folder) / "eval.db") as store:
                clock = Clock(judged.articles[0].published)
                stories = Stories(store.articles, clock)
                ingested = await ingest(store, stories, clock, judged.articles, poll_hours)
                mine = await grouping(store, judged, ingested)
                answered = await relatedness(stories, store, judged, ingested)
        groups = mine if groups is None else groups + mine
        found = answered if found is None else found + answered
    assert groups is not None and found is not None
    return groups, found


def write_feeds(articles: Sequence[JudgedArticle], folder: Path) -> dict[str, str]:
    """One RSS 2.0 file per outlet in `folder`, as the outlet would serve its items;
    returns outlet -> file name."""
    names: dict[str, str] = {}
    for number, feed in enumerate(sorted({a.feed for a in articles})):
        mine = sorted((a for a in articles if a.feed == feed), key=lambda a: a.published)
        items = "".join(_rss_item(a) for a in mine)
        names[feed] = f"outlet{number}.xml"
        (folder / names[feed]).write_text(
            f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>{escape(feed)}</title><link>https://eval.example/</link>"
            f"<description>judged set</description>{items}</channel></rss>\n", "utf-8")
    return names


def _rss_item(article: JudgedArticle) -> str:
    categories = "".join(f"<category>{escape(c)}</category>" for c in article.categories)
    return (f"<item><title>{escape(article.title)}</title><link>{escape(article.url)}</link>"
            f"<guid>{escape(article.url)}</guid>"
            f"<pubDate>{format_datetime(article.published)}</pubDate>{categories}"
            f"<description>{escape(article.text)}</description></item>")
