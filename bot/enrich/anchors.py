"""What a story is about, as weighted keys: the names it mentions, its numbers, its rare words.

Two outlets that report one event word it differently, but they name the same people, places
and organisations and quote the same figures (34 homes, €410m, a 6.8 magnitude): these
anchors, weighted by how rare they are, are what same-story and related-story matching compare.
Stored with them, apart ("+" keys), are the plain words of the headline and lede ("talks",
"strike", "airport"): two one-sentence takes of one event often share little else.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.enrich.language import Language
from bot.enrich.names import Name, story_names
from bot.enrich.wordlists import CALENDAR
from bot.enrich.words import bare, fold_phrase, is_word, tokens

MAX_ANCHORS = 40
TITLE_BOOST = 1.5
TERM_SHARE = 0.4  # a rare common noun tells less than a name or a figure
RARE_WORD = 4.2  # Zipf: a lowercase word rarer than this says what the story is about
TEXT_CHARS = 1500  # names, figures and words are read from the top of the story
LEDE_CHARS = 600  # plain words are read from the headline and first paragraph or two
PLAIN = "+"  # the key prefix of a plain word
_LOWER_WORD = re.compile(r"(?<![\w'’-])[^\W\d_A-Z]{4,}(?![\w'’-])")
_PLAIN_WORD = re.compile(r"[^\W\d_]{3,}")
_COMMON = 6.5  # Zipf: a plain word this common (or more) tells nothing
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "bn": 1e9,
          "billion": 1e9, "tn": 1e12, "trillion": 1e12}
_NUMBER = re.compile(
    r"(?<![\w.,:/-])(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<dec>\d+))?"
    r"(?:\s?(?P<unit>%|per ?cent\b|percent\b|k\b|thousand\b|mn?\b|million\b|bn\b|billion\b"
    r"|tn\b|trillion\b))?(?![\w:/]|[.,]\d)",
    re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Anchor:
    """One key of what a story is about, and how much sharing it says (rarer = more)."""

    key: str
    weight: float
    headline: bool = False  # a name the headline gives: what the story is about


def story_anchors(title: str, text: str, lang: Language,
                  names: Sequence[Name] | None = None) -> tuple[Anchor, ...]:
    """The story's anchors, heaviest first, at most MAX_ANCHORS (`names`: the story's
    names, when already read)."""
    text = text[:TEXT_CHARS]
    weights: dict[str, float] = {}
    headline: set[str] = set()
    for name in story_names(title, text, lang) if names is None else names:
        boost = TITLE_BOOST if name.in_title else 1.0
        for key in name.keys:
            weights[key] = max(weights.get(key, 0.0), _rarity(key, lang) * boost)
            if name.in_title:
                headline.add(key)
    for boost, source in ((TITLE_BOOST, title), (1.0, text)):
        for key, weight in (*_numbers(source), *_terms(source, lang)):
            weights[key] = max(weights.get(key, 0.0), weight * boost)
    ranked = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_ANCHORS]
    return tuple(Anchor(key, round(weight, 2), key in headline) for key, weight in ranked)


def plain_words(title: str, text: str, lang: Language) -> tuple[Anchor, ...]:
    """The lowercase words of the headline and lede, stemmed, as "+" keys weighted by how
    uncommon they are (none for a language without word data)."""
    if not lang.known:
        return ()
    weights: dict[str, float] = {}
    for word in set(_PLAIN_WORD.findall(f"{title} {text[:LEDE_CHARS]}")):
        if not word.islower() or word in lang.stopwords:
            continue
        weight = round(_COMMON - lang.zipf(word), 2)
        if weight > 0:
            key = PLAIN + lang.stem(word)
            weights[key] = max(weights.get(key, 0.0), weight)
    return tuple(Anchor(key, weight) for key, weight in sorted(weights.items()))


def encode(anchors: Iterable[Anchor]) -> str:
    """Anchors as stored: "ishiba:6.75^ nato:3.74^ #4.1e+08:4.5" (^: a headline name)."""
    return " ".join(f"{a.key}:{a.weight:g}{'^' if a.headline else ''}" for a in anchors)


def decode(stored: str) -> dict[str, float]:
    """Stored anchors -> key -> weight, without the plain words (malformed parts are
    skipped)."""
    return _decode(part for part in stored.split() if not part.startswith(PLAIN))


def decode_plain(stored: str) -> dict[str, float]:
    """The plain words among stored anchors -> key -> weight."""
    return _decode(part for part in stored.split() if part.startswith(PLAIN))


def _decode(parts: Iterable[str]) -> dict[str, float]:
    found: dict[str, float] = {}
    for part in parts:
        key, _, weight = part.rpartition(":")
        try:
            found[key] = float(weight.rstrip("^"))
        except ValueError:
            continue
    return found


def headline_names(stored: str) -> tuple[str, ...]:
    """The keys of the names a story's headline gives, from its stored anchors, once each (a
    tuple of strings: the garbage collector stops tracking it, as it can't a set)."""
    return tuple(dict.fromkeys(part.rpartition(":")[0] for part in stored.split()
                               if part.endswith("^")))


def headline_conflict(mine: Collection[str], anchors: Mapping[str, float],
                      theirs: Collection[str], other: Mapping[str, float]) -> float:
    """How much of what either headline is about the other story never mentions (0..1):
    "Albanese to miss NATO summit" against a story on Lee missing it (both name NATO)."""
    def missing(names: Collection[str], weights: Mapping[str, float],
                elsewhere: Mapping[str, float]) -> float:
        total = sum(weights.get(k, 0.0) for k in names)
        gone = sum(weights.get(k, 0.0) for k in names if k not in elsewhere)
        return gone / total if total else 0.0

    return min(missing(mine, anchors, other), missing(theirs, other, anchors))


def query_anchors(text: str, lang: Language) -> dict[str, float]:
    """A user's words as anchors: each word as a name and as a rare word, each figure (a
    query is too short to tell names by their capitals)."""
    found: dict[str, float] = {}
    for token in tokens(text):
        word = bare(token).casefold()
        if not is_word(token) or word in lang.stopwords or word in CALENDAR:
            continue
        for key in fold_phrase([token]):
            found[key] = max(found.get(key, 0.0), _rarity(key, lang))
        found[f"~{lang.stem(word)}"] = TERM_SHARE * min(max(5.5 - lang.zipf(word), 0.5), 2.5)
    for key, weight in _numbers(text):
        found[key] = weight
    return found


@dataclass(frozen=True, slots=True)
class Overlap:
    """What two stories' anchors share: names, figures and rare words (each as log(1 +
    the weight shared)), and the shared weight over all of it."""

    names: float
    figures: float
    words: float
    jaccard: float


def overlap(a: Mapping[str, float], b: Mapping[str, float]) -> Overlap:
    """How much two stories' anchors overlap, by kind."""
    shared = {"": 0.0, "#": 0.0, "~": 0.0}
    for key, weight in a.items():
        other = b.get(key)
        if other is not None:
            shared[key[0] if key[0] in "#~" else ""] += min(weight, other)
    total = sum(shared.values())
    union = sum(a.values()) + sum(b.values()) - total
    return Overlap(math.log1p(shared[""]), math.log1p(shared["#"]), math.log1p(shared["~"]),
                   total / union if union else 0.0)


def shared_plain(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """log(1 + the weight of the plain words two stories share)."""
    return math.log1p(sum(min(a[key], b[key]) for key in a.keys() & b.keys()))


def _rarity(key: str, lang: Language) -> float:
    """How much sharing this name says: 1 for "US" or "John", 4.5 for "Ishiba"."""
    return min(max(6.5 - lang.zipf(key), 1.0), 4.5)


def _numbers(source: str) -> list[tuple[str, float]]:
    """Figures worth matching: "€410m" and "410 million euros" give one key; dates, times
    and small counts give none."""
    found: list[tuple[str, float]] = []
    for match in _NUMBER.finditer(source):
        before = source[max(0, match.start() - 12):match.start()].split()
        after = source[match.end():match.end() + 12].split()
        if _is_month(before[-1] if before else "") or _is_month(after[0] if after else ""):
            continue  # "17 February", "Feb 17": a date, shared by the day's news
        key, weight = _number_key(match)
        if key:
            found.append((key, weight))
    return found


def _is_month(word: str) -> bool:
    return word.strip(".,;:").casefold() in CALENDAR


def _number_key(match: re.Match[str]) -> tuple[str, float]:
    digits = match["int"].replace(",", "")
    value = float(f"{digits}.{match['dec']}" if match["dec"] else digits)
    unit = (match["unit"] or "").casefold().replace(" ", "")
    if unit == "%" or unit.startswith("per"):
        return f"#{value:g}%", 3.0
    if unit:
        return f"#{value * _SCALE[unit]:.3g}", 3.0
    if not match["dec"] and 1900 <= value <= 2100:
        return f"#{value:g}", 0.8  # a year: shared by much of the news
    if not match["dec"] and value < 10:
        return "", 0.0
    return f"#{value:.6g}", 3.0 if match["dec"] or value >= 100 else 2.0


def _terms(source: str, lang: Language) -> list[tuple[str, float]]:
    """Rare lowercase words, stemmed ("tremors" -> "~tremor"): what, not who."""
    if not lang.known:
        return []
    found: list[tuple[str, float]] = []
    for word in set(_LOWER_WORD.findall(source)):
        if not word.islower():
            continue
        zipf = lang.zipf(word)
        if zipf < RARE_WORD and word not in lang.stopwords:
            found.append((f"~{lang.stem(word)}", TERM_SHARE * min(max(5.5 - zipf, 0.5), 2.5)))
    return sorted(found)
