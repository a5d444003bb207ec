"""Tags: normalization, display form and extraction from an entry."""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from bot.enrich.language import Language, language
from bot.enrich.names import Name, story_names
from bot.enrich.wordlists import CALENDAR, JUNK_CATEGORIES
from bot.enrich.words import DEMONYMS, PHRASES, fold, fold_phrase, is_acronym, tokens
from bot.model import NON_ALNUM, tag_key

_NO_ALIASES: Mapping[str, str] = MappingProxyType({})
_MAX_CATEGORY = 40
_MAX_NAME_WORDS = 4
_NAME_CANDIDATES = 12  # names considered for the five tags
_RARE = 3.2  # Zipf: a lowercase headline word rarer than this may be a tag ("sourdough")
_SHORT_FORMS = frozenset({*PHRASES.values(), "us", "uk", "eu", "un", "uae"})


def display_tag(raw: str) -> str:
    """CamelCase display form without '#': "world news" -> "WorldNews", "AI" stays "AI"."""
    words = [w for w in NON_ALNUM.split(raw.replace("'", "").replace("’", "")) if w]
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
    lang: Language | None = None,
    names: Sequence[Name] | None = None,
) -> tuple[str, ...]:
    """At most `limit` display tags: the publisher's categories as given, then the names
    the story is about, then a rare headline word; the feed's configured tags always fit,
    last. One tag per thing: "Japanese" and "Japan", "US" and "United States" are one."""
    words = lang or language("en")
    alias_of = {tag_key(k): v for k, v in aliases.items()}
    reserved = _distinct([(t, _concept(t)) for t in _normalized(feed_tags, alias_of)])[:limit]
    wanted = [(c, _concept(c)) for c in _normalized(
        (c for c in categories if _is_usable(c)), alias_of)]
    found = story_names(title, text, words) if names is None else names
    wanted += [(alias_of.get(tag_key(shown), shown), keys) for shown, keys in _name_tags(found)]
    wanted += [(w.capitalize(), {w}) for w in _rare_headline_words(title, text, words)]
    taken = [keys for _, keys in reserved]
    picked = [t for t, _ in _distinct(wanted, taken)]
    return tuple(picked[: limit - len(reserved)] + [t for t, _ in reserved])


def _is_usable(raw: str) -> bool:
    """A publisher's category, unless junk: a URL, a number, a date word, far too long, a
    word that says nothing ("Uncategorized", "News") or an internal flag."""
    raw = raw.strip().lstrip("#")
    key = tag_key(raw)
    if not key or len(raw) > _MAX_CATEGORY or key.isdigit():
        return False
    if "://" in raw or raw.lower().startswith("www."):
        return False
    if raw.lower().startswith("internal-"):  # "internal-open-access-from-nl": a flag for
        return False  # the publisher's own systems, not a topic ("Internal Affairs" is one)
    return key not in JUNK_CATEGORIES and key not in CALENDAR


def _normalized(raws: Iterable[str], alias_of: Mapping[str, str]) -> list[str]:
    """Display forms with aliases applied, empty ones dropped; an entity a feed escaped twice
    ("Culture &amp; Life" inside CDATA) is read as the character it stands for."""
    shown = (display_tag(html.unescape(raw).strip().lstrip("#")) for raw in raws)
    return [alias_of.get(tag_key(s), s) for s in shown if tag_key(s)]


def _concept(tag: str) -> set[str]:
    """What a tag stands for, as name keys: "Japanese" -> {japan}, "UnitedStates" -> {us}."""
    words = [w for w in re.split(r"(?<=[a-z])(?=[A-Z])|[\W_]+", tag) if w]
    return set(fold_phrase(words)) | {tag_key(tag)}


def _distinct(tags: Iterable[tuple[str, set[str]]],
              taken: Iterable[set[str]] = ()) -> list[tuple[str, set[str]]]:
    """Tags in order, each dropped when what it stands for is already there."""
    seen = [set(keys) for keys in taken]
    kept: list[tuple[str, set[str]]] = []
    for tag, keys in tags:
        if keys and not any(keys <= other or tag_key(tag) in other for other in seen):
            kept.append((tag, keys))
            seen.append(keys)
    return kept


def _name_tags(names: Sequence[Name]) -> list[tuple[str, set[str]]]:
    """Names as tags, the headline's first, then the text's by how often they come up;
    a name is shown in its fullest form ("Ishiba" -> "ShigeruIshiba") and a people's
    adjective as its country ("Japanese" -> "Japan")."""
    sure = [n for n in names if n.sure_words]
    counts = Counter(n.sure_words for n in sure if not n.in_title)
    order = list(dict.fromkeys(n.sure_words for n in sure if n.in_title))
    order += sorted(dict.fromkeys(n.sure_words for n in sure if not n.in_title),
                    key=lambda w: -counts[w])
    tags: list[tuple[str, set[str]]] = []
    for words in order[:_NAME_CANDIDATES]:
        if len(words) > _MAX_NAME_WORDS:
            continue  # cut short it would be a fragment ("Area C of the")
        full = _fullest(words, order)
        tags.append((_name_display(full), set(Name(full, False).keys)))
    return tags


def _fullest(words: tuple[str, ...], names: list[tuple[str, ...]]) -> tuple[str, ...]:
    """The longest name among `names` that ends with `words` ("Jerí" -> "José Jerí")."""
    longer = [n for n in names if _MAX_NAME_WORDS >= len(n) > len(words)
              and n[-len(words):] == words]
    return max(longer, key=len) if longer else words


def _name_display(words: tuple[str, ...]) -> str:
    """A name as a tag; a lone people's adjective becomes its country ("Japanese" -> Japan)."""
    if len(words) == 1 and fold(words[0]) != words[0].casefold():
        key = fold(words[0])
        return key.upper() if key in _SHORT_FORMS else display_tag(key)
    return display_tag(" ".join(words))


def _rare_headline_words(title: str, text: str, lang: Language) -> list[str]:
    """At most one uncommon lowercase headline word that the text repeats ("sourdough")."""
    if not lang.known:
        return []
    rare = [w for w in dict.fromkeys(tokens(title)) if w.isalpha() and w.islower()
            and len(w) > 4 and lang.zipf(w) < _RARE and w not in DEMONYMS
            and not is_acronym(w)]
    if not rare:
        return []  # most headlines: no need to read the text
    body = Counter(w for w in tokens(text) if w in rare)
    return sorted((w for w in rare if body[w] > 0), key=lambda w: -body[w])[:1]
