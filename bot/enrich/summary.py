"""Extractive summaries: split text into sentences, keep the 1-3 that carry the story."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.enrich.language import Language, language
from bot.enrich.wordlists import word_set

ELLIPSIS = "…"
MAX_SENTENCES = 15  # a summary comes from the top of a story; scoring is quadratic in this

# A boundary candidate: terminal punctuation, optional closing quotes/brackets, whitespace.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+|[。！？]+[」』”’)]*\s*|\n+")
_OPENER = re.compile(r"[\"'“‘«(\[]*(?:[^\W\d_]|\d)")
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")
_TOKEN_WINDOW = 64  # how far back the word before a period is looked for
# A bare link, perhaps labelled ("Article URL: https://..."), or a labelled count ("Points: 12").
_URL_ONLY = re.compile(
    r"\A\W*(?:[^\W\d_][\w ]{0,24}:\s*)?(?:https?://|www\.)\S*\W*\Z", re.IGNORECASE)
_LABELLED_COUNT = re.compile(r"\A\W*[^\W\d_]+(?: [^\W\d_]+){0,2}\s*:\s*[\d.,]+\W*\Z")
_COMPLETE = re.compile(r"[.!?…。！？][\"'”’»)\]」』]*\Z")  # a sentence's end, not a fragment's
_OPENERS = {"\"": "\"", "“": "”", "«": "»", "„": "“", "‘": "’"}  # quotation marks, with closers
_BYLINE = re.compile(r"\A(?:by|posted by|written by)\s+[^\W\d_][^.!?]{0,60}\Z", re.IGNORECASE)
_SOURCE_PREFIX = re.compile(r"\A\[[^\]\n]{1,40}\]\s*")
_DATELINE = re.compile(
    r"\A(?:[A-Z][A-Z'’-]{2,}(?: [A-Z][A-Z'’-]+){0,3}(?:, [A-Z][A-Za-z.]+)?"
    r"(?: \([A-Za-z .&]{2,20}\))?\s*(?::|--|—|–|-)|[A-Z][a-z]+(?: [A-Z][a-z]+)? --)"
    r"\s+(?=[A-Z\"“])"
)

# Abbreviations after which a period never ends a sentence (a name or number follows).
_NEVER_END = word_set(
    """
    mr mrs ms dr prof sr jr st mt ft gen col lt sgt capt cmdr adm maj gov sen rep rev fr hon
    pres supt insp no nos vol vols fig figs pp p ch sec art para vs v cf approx est dept
    jan feb mar apr jun jul aug sep sept oct nov dec
    """
)
# Abbreviations that may end a sentence; they do when a typical sentence opener follows.
_MAYBE_END = word_set("inc ltd co corp plc llc bros etc al a.m p.m am pm")
_SENTENCE_OPENERS = word_set(
    """
    the a an he she it they we i you his her its their our this that these those there here
    but and so yet or in on at for from after before when while as if since although though
    meanwhile however officials police some many most both one two three mr mrs ms dr
    """
)


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, robust to abbreviations, initials, decimals and quotes."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if "\n" in match.group() or _is_boundary(text, match.start(), end):
            piece = text[start:end].strip()
            if piece:
                sentences.append(piece)
            start = end
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _is_boundary(text: str, stop: int, after: int) -> bool:
    """Whether the punctuation at `stop` ends a sentence, given what comes at `after`."""
    if after >= len(text):
        return True
    following = text[after:]
    if not _OPENER.match(following) or following[:1].islower():
        return False
    if text[stop] != ".":
        return True
    words_before = text[max(0, stop - _TOKEN_WINDOW):stop].split()
    if not words_before:
        return True
    token = words_before[-1].lstrip("\"'“‘«([").casefold()
    next_word = _WORD.match(following.lstrip("\"'“‘«(["))
    opener = next_word.group().casefold() if next_word else ""
    if token in _NEVER_END or (len(token) == 1 and token.isalpha()):
        return False
    if token in _MAYBE_END or _is_dotted_acronym(token):
        return opener in _SENTENCE_OPENERS
    return True


def _is_dotted_acronym(token: str) -> bool:
    """ "u.s", "u.k", "e.u": letters separated by single periods."""
    parts = token.split(".")
    return len(parts) > 1 and all(len(p) == 1 and p.isalpha() for p in parts)


@dataclass(frozen=True, slots=True)
class _Sentence:
    """A sentence with its position and content words."""

    index: int
    text: str
    words: frozenset[str]


def content_words(text: str, stopwords: frozenset[str]) -> frozenset[str]:
    """Lowercased words of `text` that carry meaning (no stopwords, no bare numbers)."""
    words = {w.casefold().removesuffix("'s").removesuffix("’s") for w in _WORD.findall(text)}
    return frozenset(w for w in words if w not in stopwords and not w.isdigit() and len(w) > 1)


def summarize(text: str, title: str = "", max_chars: int = 300,
              lang: Language | None = None) -> str:
    """At most `max_chars` of whole sentences from `text` that tell its story, in order;
    words are weighed with the story's language's stopwords (English by default)."""
    stopwords = (lang or language("en")).stopwords
    sentences = _candidates(text, title, stopwords)[:MAX_SENTENCES]
    if not sentences or max_chars < 2:
        return ""
    title_words = content_words(title, stopwords)
    scores = {s.index: _score(s, sentences, title_words) for s in sentences}
    ranked = sorted(sentences, key=lambda s: (-scores[s.index], s.index))
    lede = sentences[0]
    if _lede_carries_story(lede, scores, title_words):
        ranked = [lede, *(s for s in ranked if s is not lede)]
    complete = [s for s in ranked if _COMPLETE.search(s.text)]
    # A fragment (a paragraph that stops mid-sentence, a heading) is never joined to the
    # sentence after it; only text without any sentence end is summarized from fragments.
    chosen = _fit(complete or ranked, scores, max_chars)
    if not chosen:
        return _shortened(complete or ranked, scores, max_chars)
    return " ".join(s.text for s in sorted(chosen, key=lambda s: s.index))


def _candidates(text: str, title: str, stopwords: frozenset[str]) -> list[_Sentence]:
    """Sentences worth considering: no bylines, bare links or restatements of the title."""
    text = _DATELINE.sub("", _SOURCE_PREFIX.sub("", text.strip()))
    title_words = content_words(title, stopwords)
    found: list[_Sentence] = []
    for raw in split_sentences(text):
        words = content_words(raw, stopwords)
        if not words or _URL_ONLY.match(raw) or _LABELLED_COUNT.match(raw) or _BYLINE.match(raw):
            continue
        if title_words and words <= title_words and len(words) >= len(title_words) - 1:
            continue  # the title again, perhaps with a word dropped
        found.append(_Sentence(len(found), raw, words))
    return found


def _score(sentence: _Sentence, sentences: list[_Sentence], title_words: frozenset[str]) -> float:
    """Centrality: overlap with the title and with the other sentences, favouring early ones."""
    title_part = len(sentence.words & title_words) / len(title_words) if title_words else 0.0
    others = [o for o in sentences if o is not sentence]
    shared = sum(_jaccard(sentence.words, o.words) for o in others)
    centrality = shared / len(others) if others else 0.0
    complete = 1.0 if sentence.text[-1] in ".!?…\"'”’)" else 0.6
    position = 1.0 / (1.0 + 0.15 * sentence.index)
    too_short = 0.5 if len(sentence.words) < 3 else 1.0
    return (2.0 * title_part + centrality + 0.5 * position) * complete * too_short


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a & b| / |a | b|, without building the union."""
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def _lede_carries_story(
    lede: _Sentence, scores: dict[int, float], title_words: frozenset[str]
) -> bool:
    """The first sentence leads unless it is short, off the title's topic, or weak."""
    if len(lede.words) < 3:
        return False
    if title_words and lede.words & title_words:
        return True
    best = max(scores.values())
    return scores[lede.index] >= 0.5 * best


def _fit(ranked: list[_Sentence], scores: dict[int, float], max_chars: int) -> list[_Sentence]:
    """Up to three sentences, in rank order, that together fit `max_chars`."""
    chosen: list[_Sentence] = []
    used = -1  # the joining space before the first sentence is not paid
    floor = 0.35 * scores[ranked[0].index]
    for sentence in ranked:
        if len(chosen) == 3:
            break
        if chosen and scores[sentence.index] < floor:
            continue
        cost = used + 1 + len(sentence.text)
        if cost <= max_chars:
            chosen.append(sentence)
            used = cost
        elif not chosen:
            return []
    return chosen


def _shortened(ranked: list[_Sentence], scores: dict[int, float], max_chars: int) -> str:
    """The best sentence cut to fit, unless the cut falls inside a quotation: then a whole
    sentence that fits and still carries the story, else the best one cut before the quote."""
    best = ranked[0]
    cut, inside_quote = _truncate(best.text, max_chars)
    if not inside_quote:
        return cut
    floor = 0.35 * scores[best.index]
    whole = next((s for s in ranked if len(s.text) <= max_chars and scores[s.index] >= floor),
                 None)
    return whole.text if whole else cut


def _truncate(text: str, max_chars: int) -> tuple[str, bool]:
    """`text` cut at a word boundary so that it and an ellipsis fit `max_chars`, never inside
    a quotation (the cut moves before it); and whether the cut had to move for one."""
    cut = text[:max_chars]
    space = cut.rfind(" ")
    kept = text[:space] if space > 0 else ""
    quote = _open_quote(kept)
    if quote >= 0:
        kept = kept[:quote]
    kept = kept.rstrip(" ,;:-–—([{\"'“‘„«")
    return (kept + ELLIPSIS if kept else ""), quote >= 0


def _open_quote(text: str) -> int:
    """Where the quotation still open at the end of `text` starts, or -1 when none is.

    A ’ inside a word is an apostrophe, not the end of a ‘quote’.
    """
    start, closer = -1, ""
    for index, char in enumerate(text):
        if start < 0 and char in _OPENERS and (char != "‘" or _starts_quote(text, index)):
            start, closer = index, _OPENERS[char]
        elif start >= 0 and char == closer and not _inside_word(text, index):
            start = -1
    return start


def _starts_quote(text: str, index: int) -> bool:
    """A ‘ opens a quotation at the start or after a space or an opening bracket."""
    return index == 0 or text[index - 1] in " \n([—–-"


def _inside_word(text: str, index: int) -> bool:
    """The character at `index` sits between two letters (an apostrophe: don’t, O’Brien)."""
    return (0 < index < len(text) - 1 and text[index - 1].isalpha()
            and text[index + 1].isalpha())
