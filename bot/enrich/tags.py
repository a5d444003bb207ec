"""Tags: normalization, display form and extraction from an entry."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from bot.enrich.stopwords import CALENDAR, GENERIC_TAGS, HONORIFICS, STOPWORDS

_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)
_NO_ALIASES: Mapping[str, str] = MappingProxyType({})
_MAX_CATEGORY = 40
_MAX_PHRASE_WORDS = 4
# Tokens: dotted acronyms ("U.S."), words with inner apostrophes or hyphens, and a stop mark.
_TOKEN = re.compile(r"(?:[^\W\d_]\.){2,}|[^\W_]+(?:['’-][^\W_]+)*|[^\w\s]")
_CONNECTORS = frozenset({"of", "the", "de", "del", "da", "al", "bin", "van", "von"})
_STOPS = frozenset('.!?:;|"“”‘()[]—–-')


def tag_key(tag: str) -> str:
    """The identity of a tag: `World News`, `world-news` and `#WorldNews` are one key."""
    return _NON_ALNUM.sub("", tag).casefold()


def display_tag(raw: str) -> str:
    """CamelCase display form without '#': "world news" -> "WorldNews", "AI" stays "AI"."""
    words = [w for w in _NON_ALNUM.split(raw.replace("'", "").replace("’", "")) if w]
    return "".join(_display_word(w) for w in words)


def _display_word(word: str) -> str:
    """One word of a tag: acronyms kept, shouted words calmed, the rest capitalized."""
    if word.isupper() and len(word) > 4:
        return word[0] + word[1:].lower()
    return word[0].upper() + word[1:]


def hashtag(tag: str) -> str:
    """A tag as shown in chat: "world news" -> "#WorldNews" ("" for an empty tag)."""
    shown = display_tag(tag)
    return f"#{shown}" if shown else ""


def extract_tags(
    title: str,
    text: str,
    categories: Sequence[str],
    feed_tags: Sequence[str],
    aliases: Mapping[str, str] = _NO_ALIASES,
    limit: int = 5,
) -> tuple[str, ...]:
    """At most `limit` display tags, most specific first; the feed's own tags always fit."""
    alias_of = {tag_key(k): v for k, v in aliases.items()}
    reserved = _unique(_usable(t, generic_ok=True) for t in feed_tags)
    reserved = _normalized(reserved, alias_of)[:limit]
    specific = [
        *(_usable(c) for c in categories),
        *_proper_nouns(title, text),
        *_salient_words(title, text),
    ]
    taken = {tag_key(t) for t in reserved}
    picked = [t for t in _normalized(_unique(specific), alias_of) if tag_key(t) not in taken]
    return tuple(picked[: limit - len(reserved)] + reserved)


def _usable(raw: str, generic_ok: bool = False) -> str:
    """A category or configured tag, or "" when it is junk (URL, number, too long, generic)."""
    raw = raw.strip().lstrip("#")
    key = tag_key(raw)
    if not key or len(raw) > _MAX_CATEGORY or key.isdigit():
        return ""
    if "://" in raw or raw.lower().startswith("www."):
        return ""
    if not generic_ok and (key in GENERIC_TAGS or key in CALENDAR):
        return ""
    return raw


def _normalized(raws: Iterable[str], alias_of: Mapping[str, str]) -> list[str]:
    """Display forms with aliases applied, deduplicated by key, first occurrence wins."""
    seen: set[str] = set()
    shown: list[str] = []
    for raw in raws:
        display = display_tag(raw)
        display = alias_of.get(tag_key(display), display)
        key = tag_key(display)
        if key and key not in seen:
            seen.add(key)
            shown.append(display)
    return shown


def _unique(items: Iterable[str]) -> list[str]:
    """Non-empty items in first-seen order, without repeats."""
    return list(dict.fromkeys(i for i in items if i))


def _proper_nouns(title: str, text: str) -> list[str]:
    """Capitalized phrases ("European Union", "Donald Trump"): the title's first, then by count."""
    in_text = _phrases(text)
    counts = Counter(phrase for phrase, _ in in_text)
    body = [p for p, mid in in_text if mid or counts[p] > 1]
    body.sort(key=lambda p: -counts[p])  # stable: first occurrence breaks ties
    phrases = _unique([*_title_phrases(title, in_text), *body])
    return _unique(_longest_form(p, phrases) for p in phrases)


def _longest_form(phrase: str, phrases: list[str]) -> str:
    """The fullest name among `phrases` that ends with `phrase` ("Jerí" -> "José Jerí")."""
    longer = [p for p in phrases if p.endswith(" " + phrase)]
    return max(longer, key=len) if longer else phrase


def _title_phrases(title: str, in_text: list[tuple[str, bool]]) -> list[str]:
    """Proper nouns of the title; a Title Case Headline is read through the text's phrases."""
    text_words = {w.lower() for phrase, _ in in_text for w in phrase.split()}
    if _is_title_case(title):
        title_words = {w.lower() for phrase, _ in _phrases(title) for w in phrase.split()}
        from_text = [p for p, _ in in_text if {w.lower() for w in p.split()} <= title_words]
        acronyms = [p for p, _ in _phrases(title) if all(_acronym(w) for w in p.split())]
        return _unique([*acronyms, *from_text])
    return [
        phrase
        for phrase, mid in _phrases(title)
        if mid or {w.lower() for w in phrase.split()} <= text_words
    ]  # a run is "mid" when mid-sentence, possessive or several words long


def _is_title_case(title: str) -> bool:
    """Whether a headline capitalizes every content word ("Trump Bets on Diplomacy")."""
    words = [w for w in _TOKEN.findall(title) if w[0].isalpha()]
    lowercase_content = any(w.islower() and len(w) > 3 and w not in STOPWORDS for w in words)
    return not lowercase_content and sum(1 for w in words if w[0].isupper()) >= 3


def _phrases(text: str) -> list[tuple[str, bool]]:
    """Capitalized runs of `text` split at honorifics, each with whether it is surely a name.

    A run is surely a name when it is mid-sentence, possessive ("Japan's") or several words.
    """
    found: list[tuple[str, bool]] = []
    run: list[str] = []
    run_mid = False
    sentence_start = True
    for token in [*_TOKEN.findall(text), "."]:
        possessive = token.endswith(("'s", "’s"))
        if _is_capitalized(token):
            run_mid = run_mid or not sentence_start or possessive or bool(run)
            run.append(token.removesuffix("'s").removesuffix("’s"))
            if not possessive:
                sentence_start = False
                continue
        elif run and token in _CONNECTORS:
            run.append(token)
            continue
        if run:
            found.extend(_split_run(run, run_mid))
            run, run_mid = [], False
        sentence_start = token in _STOPS
    return found


def _is_capitalized(token: str) -> bool:
    """A word that starts with a capital letter, or an acronym ("US", "U.S.")."""
    return token[0].isupper() and token[0].isalpha()


def _split_run(run: list[str], mid: bool) -> list[tuple[str, bool]]:
    """The names in a capitalized run: "Japanese Prime Minister Sanae Takaichi" gives two."""
    phrases: list[tuple[str, bool]] = []
    words: list[str] = []
    for word in [*run, "."]:
        key = word.lower().rstrip(".")
        if word != "." and not (key in HONORIFICS and not _acronym(word)):
            words.append(word)
            continue
        while words and (words[-1] in _CONNECTORS or _is_plain(words[-1])):
            words.pop()
        while words and (words[0] in _CONNECTORS or _is_plain(words[0])):
            words.pop(0)
        if words:
            phrases.append((" ".join(words[:_MAX_PHRASE_WORDS]), mid))
        words = []
        mid = True
    return phrases


def _acronym(word: str) -> bool:
    """ "US", "NATO", "U.S.": short all-capital words."""
    letters = word.replace(".", "")
    return 2 <= len(letters) <= 5 and letters.isupper()


def _is_plain(word: str) -> bool:
    """A word that cannot be a tag on its own: stopword, generic, calendar, honorific."""
    if _acronym(word):
        return False
    key = word.lower().rstrip(".")
    return key in STOPWORDS or key in GENERIC_TAGS or key in CALENDAR or key in HONORIFICS


def _salient_words(title: str, text: str) -> list[str]:
    """Up to two longer lowercase words of the title that the text repeats."""
    text_words = Counter(w for w in _TOKEN.findall(text) if w.isalpha() and w.islower())
    title_words = _unique(w for w in _TOKEN.findall(title) if w.isalpha() and w.islower())
    salient = [w for w in title_words if len(w) > 4 and text_words[w] > 0 and not _is_plain(w)]
    return sorted(salient, key=lambda w: (-text_words[w], title_words.index(w)))[:2]
