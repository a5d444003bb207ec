"""Same-story detection across outlets: weighted term overlap of titles and ledes."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.enrich.stopwords import CALENDAR, NEWS_DF, NEWS_DOCUMENTS, STOPWORDS

# Chosen on the tuning half of tests/eval/same_story_pairs.json (precision first).
SAME_STORY_THRESHOLD = 0.28
_TITLE_SHARE = 0.5  # weight of the title-only score against the title+lede score
_TITLE_BOOST = 1.6
_NAME_BOOST = 1.3

_TOKEN = re.compile(r"(?:[^\W\d_]\.){2,}|[^\W_]+(?:['’][^\W_]+)*")
_DEMONYMS = {
    "afghan": "afghanistan", "america": "us", "american": "us", "australian": "australia",
    "austrian": "austria", "bangladeshi": "bangladesh", "brazilian": "brazil", "britain": "uk",
    "british": "uk", "canadian": "canada", "chinese": "china", "colombian": "colombia",
    "cuban": "cuba", "egyptian": "egypt", "european": "europe", "filipino": "philippines",
    "french": "france", "german": "germany", "hungarian": "hungary", "indian": "india",
    "iranian": "iran", "iraqi": "iraq", "israeli": "israel", "italian": "italy",
    "japanese": "japan", "kenyan": "kenya", "korean": "korea", "lebanese": "lebanon",
    "mexican": "mexico", "nigerian": "nigeria", "pakistani": "pakistan",
    "palestinian": "palestine", "peruvian": "peru", "philippine": "philippines",
    "polish": "poland", "russian": "russia", "spanish": "spain", "sudanese": "sudan",
    "swedish": "sweden", "syrian": "syria", "taiwanese": "taiwan", "turkish": "turkey",
    "ukrainian": "ukraine", "venezuelan": "venezuela", "vietnamese": "vietnam",
    "eurozone": "euro", "quake": "earthquake",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class StorySketch:
    """What same-story detection looks at: headline, lede (the summary), link and time."""

    title: str
    lede: str
    url: str
    when: datetime  # published, else first seen; aware UTC


def similarity(a: StorySketch, b: StorySketch) -> float:
    """0..1: how much two stories share their distinctive words, titles counting double."""
    full = _weighted_jaccard(_weights(a.title, a.lede), _weights(b.title, b.lede))
    titles = _weighted_jaccard(_weights(a.title, ""), _weights(b.title, ""))
    return (1 - _TITLE_SHARE) * full + _TITLE_SHARE * titles


def is_same_story(a: StorySketch, b: StorySketch, window: timedelta = timedelta(hours=48)) -> bool:
    """Same canonical URL, or similar enough and published within `window` of each other."""
    if a.url and a.url == b.url:
        return True
    return abs(a.when - b.when) <= window and similarity(a, b) >= SAME_STORY_THRESHOLD


def story_terms(title: str, lede: str) -> tuple[str, ...]:
    """The 3-6 most distinctive lowercase words of a story, most distinctive first.

    Surface words (not stems) so a full-text index can match them in other outlets' titles;
    names and rare title words rank first.
    """
    scored: dict[str, float] = {}
    for boost, text in ((_TITLE_BOOST, title), (1.0, lede)):
        for index, token in enumerate(_TOKEN.findall(text)):
            word = token.replace(".", "").casefold() if _is_acronym(token) else token.casefold()
            if not _is_content(word, token) or "'" in word or "’" in word:
                continue
            name = _NAME_BOOST if token[0].isupper() and index > 0 else 1.0
            weight = _idf(_stem(word)) * boost * name
            scored[word] = max(scored.get(word, 0.0), weight)
    ranked = sorted(scored, key=lambda w: (-scored[w], w))
    return tuple(ranked[:6])


def _weights(title: str, lede: str) -> dict[str, float]:
    """Stemmed terms of a story weighted by rarity, title and capitalization."""
    weights: dict[str, float] = {}
    for boost, text in ((1.0, lede), (_TITLE_BOOST, title)):
        for index, token in enumerate(_TOKEN.findall(text)):
            name = _NAME_BOOST if token[0].isupper() and index > 0 else 1.0
            for term in _token_terms(token):
                weights[term] = max(weights.get(term, 0.0), _idf(term) * boost * name)
    return weights


def _terms(text: str) -> list[str]:
    """Stemmed content terms of `text`, in order (also used to build the frequency table)."""
    return [term for token in _TOKEN.findall(text) for term in _token_terms(token)]


def _token_terms(token: str) -> list[str]:
    """The stemmed terms one token contributes ("U.S." -> "us", "peace-talks" -> two)."""
    acronym = _is_acronym(token)
    word = token.replace(".", "").casefold() if acronym else token.casefold()
    if not _is_content(word, token):
        return []
    parts = (_stem(p) for p in re.split(r"[-‑]", _stem(word)))
    return [p for p in parts if p and (acronym or p not in STOPWORDS)]


def _is_content(word: str, token: str) -> bool:
    """A word that can tell stories apart: no stopword (bar acronyms), date or short number."""
    if word in CALENDAR or (word.isdigit() and len(word) < 2):
        return False
    return _is_acronym(token) or word not in STOPWORDS


def _is_acronym(token: str) -> bool:
    """ "US", "U.S.", "NATO": all capitals, two letters or more."""
    letters = token.replace(".", "")
    return len(letters) > 1 and letters.isupper()


def _stem(word: str) -> str:
    """A light English stemmer: plurals, -ing, -ed and demonyms fold to one term."""
    word = word.removesuffix("'s").removesuffix("’s")
    if word in _DEMONYMS:
        return _DEMONYMS[word]
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 4 and word.endswith("ed"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return _DEMONYMS.get(word, word)


def _idf(term: str) -> float:
    """Inverse document frequency of a stemmed term in a background news sample."""
    return math.log((NEWS_DOCUMENTS + 1) / (NEWS_DF.get(term, 0) + 1))


def _weighted_jaccard(a: dict[str, float], b: dict[str, float]) -> float:
    """Sum of shared minimum weights over the sum of maximum weights."""
    shared = sum(min(a[t], b[t]) for t in a.keys() & b.keys())
    union = sum(max(a.get(t, 0.0), b.get(t, 0.0)) for t in a.keys() | b.keys())
    return shared / union if union else 0.0
