"""The names a story mentions: people, places, organisations, read from capitalization.

A capitalized word is a name when it does not merely start a sentence: mid-sentence, part of
a run ("Shigeru Ishiba"), an acronym, or a word the story also capitalizes mid-sentence. A
common word that starts a sentence ("Explore Turkey ...", "Rescuers dug ...") is not one.
Titles such as "Prime Minister" are cut off. A Title Case Headline capitalizes everything,
so there only rare words, acronyms and the text's own names count. Languages that capitalize
every noun (German) need a name to be rare too. Scripts without capitals give no names.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bot.enrich.language import Language
from bot.enrich.wordlists import CALENDAR, HONORIFICS
from bot.enrich.words import bare, fold_phrase, is_acronym, is_capitalized, is_word, tokens

COMMON = 3.5  # Zipf: a capitalized word this common at a sentence start is not a name
VERY_COMMON = 5.5  # ... nor, this common, when it starts several sentences ("Use", "The")
_CONNECTORS = frozenset({"of", "the", "de", "del", "da", "al", "bin", "van", "von", "der",
                         "la", "le", "du", "&"})
_BOUNDARIES = frozenset('.!?:;|"“”‘’—–()[]«»')
_NOUNS_CAPITALIZED = frozenset({"de", "lb"})  # languages that capitalize every noun


@dataclass(frozen=True, slots=True)
class Name:
    """One mention of a name: its words as written, and whether the headline has it."""

    words: tuple[str, ...]
    in_title: bool

    @property
    def keys(self) -> list[str]:
        """The comparable keys of its words ("Japanese" -> "japan", "U.S." -> "us")."""
        return fold_phrase(list(self.words))


def story_names(title: str, text: str, lang: Language, *, loose: bool = False) -> list[Name]:
    """Every mention of a name, the headline's first, in order of appearance.

    `loose` also takes a capitalized word that starts a sentence ("Iran says ..."): right
    for matching stories (a common word weighs little there), wrong for tags.
    """
    title_case = is_title_case(title)
    mid = _mid_sentence_capitals(text) | (set() if title_case else _mid_sentence_capitals(title))
    known = _Known(mid, _repeated_capitals(f"{title}\n{text}", lang), loose)
    found = [Name(tuple(words), True) for words in _names(title, title_case, known, lang)]
    found += [Name(tuple(words), False) for words in _names(text, False, known, lang)]
    return found


def is_title_case(title: str) -> bool:
    """Whether a headline capitalizes every longer word ("Quake Kills Dozens In Turkey")."""
    words = [w for w in tokens(title) if is_word(w) and len(w) > 3]
    capitals = sum(1 for w in words if is_capitalized(w))
    return len(words) >= 3 and capitals >= 0.8 * len(words)


@dataclass(frozen=True, slots=True)
class _Known:
    """Words the story shows to be names: capitalized mid-sentence, or alone and repeated."""

    mid: set[str]
    repeated: set[str]
    loose: bool  # any capitalized word that is not a function word


def _names(source: str, title_case: bool, known: _Known,
           lang: Language) -> list[list[str]]:
    found: list[list[str]] = []
    for line in source.splitlines():
        for run, at_start in _capitalized_runs(tokens(line)):
            for name in _split_at_honorifics(run, at_start and not title_case, known, lang):
                found.extend(_standing_out(name, known.mid, lang) if title_case else [name])
    return found


def _mid_sentence_capitals(source: str) -> set[str]:
    """Capitalized words of `source` that do not start a sentence (bare forms)."""
    return {bare(word) for line in source.splitlines()
            for run, at_start in _capitalized_runs(tokens(line))
            for word in run[1 if at_start else 0:] if is_capitalized(word)}


def _repeated_capitals(source: str, lang: Language) -> set[str]:
    """Lone capitalized words that come up more than once, never in lowercase and are not
    among the language's most common words ("Iran says ... Iran will ..."; not "Use ...
    Use ..."): names, even where each mention starts a sentence."""
    words = [bare(t) for t in tokens(source) if is_word(t)]
    lower = {w for w in words if w.islower()}
    counts = Counter(w for w in words if is_capitalized(w) and not w.isupper())
    return {w for w, n in counts.items() if n > 1 and w.casefold() not in lower
            and lang.zipf(w.casefold()) < VERY_COMMON}


def _capitalized_runs(toks: list[str]) -> list[tuple[list[str], bool]]:
    """Runs of capitalized words (joined by connectors), each with whether it starts a
    sentence."""
    runs: list[tuple[list[str], bool]] = []
    run: list[str] = []
    run_start = False
    sentence_start = True
    for token in [*toks, "."]:
        if is_word(token) and is_capitalized(token):
            if not run:
                run_start = sentence_start
            run.append(token)
        elif run and token.casefold() in _CONNECTORS:
            run.append(token)
            continue
        else:
            if run:
                runs.append((_trim(run), run_start))
                run = []
            sentence_start = token in _BOUNDARIES
            continue
        sentence_start = False
        if token.endswith(("'s", "’s")):  # "Japan's Ishiba": the possessive ends a name
            runs.append((_trim(run), run_start and not _is_possessive_name(run)))
            run = []
    return [(r, start) for r, start in runs if r]


def _is_possessive_name(run: list[str]) -> bool:
    """ "Peru's Congress": one capitalized word owning something starts with a name."""
    return len(run) == 1


def _trim(run: list[str]) -> list[str]:
    while run and run[-1].casefold() in _CONNECTORS:
        run = run[:-1]
    return run


def _split_at_honorifics(run: list[str], at_start: bool, known: _Known,
                         lang: Language) -> list[list[str]]:
    """The names in a run: "Prime Minister Shigeru Ishiba" -> ["Shigeru", "Ishiba"]; a common
    word that merely starts the sentence is not part of one ("Explore Turkey" -> Turkey)."""
    names: list[list[str]] = []
    words: list[str] = []
    surely = not at_start
    for word in [*run, ""]:
        key = bare(word).casefold()
        if word and not (key in HONORIFICS and not is_acronym(word)) and key not in CALENDAR:
            words.append(word)
            continue
        while words and (words[0].casefold() in _CONNECTORS or _is_plain(words[0], lang)):
            words = words[1:]
        first = bare(words[0]) if words else ""
        if not (surely or known.loose) and words and first not in known.mid and not is_acronym(
                first) and (_is_common(words[0], lang) and _is_common(words[1], lang)
                            if len(words) > 1 else first not in known.repeated):
            words = words[1:]  # "Rescuers", "Explore": capitalized because a sentence began
            # (but "Robert Habeck": a common first word before a rare one is a first name)
        if words and _is_name(words, lang):
            names.append([bare(w) for w in words])
        words, surely = [], True
    return names


def _is_name(words: list[str], lang: Language) -> bool:
    """In languages that capitalize nouns, a lone common noun is not a name."""
    if lang.code not in _NOUNS_CAPITALIZED or len(words) > 1 or is_acronym(words[0]):
        return True
    return lang.zipf(bare(words[0]).casefold()) < COMMON


def _is_common(word: str, lang: Language) -> bool:
    return not is_acronym(word) and lang.zipf(bare(word).casefold()) >= COMMON


def _is_plain(word: str, lang: Language) -> bool:
    key = bare(word).casefold()
    return not is_acronym(word) and (key in lang.stopwords or key in CALENDAR)


def _standing_out(run: list[str], mid: set[str], lang: Language) -> list[list[str]]:
    """A Title Case headline capitalizes everything: its names are the runs of words that
    are rare, acronyms or names in the text ("Quake Kills Dozens Near Malatya" -> Malatya)."""
    names: list[list[str]] = []
    current: list[str] = []
    for word in [*run, ""]:
        if word and (is_acronym(word) or word in mid or lang.zipf(word.casefold()) < COMMON):
            current.append(word)
        elif current:
            names.append(current)
            current = []
    return names
