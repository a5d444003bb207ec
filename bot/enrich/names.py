"""The names a story mentions: people, places, organisations, read from capitalization.

A capitalized word is surely a name when it does not merely start a sentence: mid-sentence,
part of a run ("Shigeru Ishiba"), an acronym, or a word the story also capitalizes
mid-sentence or repeats alone. A common word that starts a sentence ("Explore Turkey ...",
"Rescuers dug ...") is not surely one: tags leave it out, story matching (where a common
word weighs little) keeps it. Titles such as "Prime Minister" are cut off. A Title Case
Headline capitalizes everything, so there only rare words, acronyms and the text's own names
count. Languages that capitalize every noun (German) need a lone name to be rare too.
Scripts without capitals give no names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from bot.enrich.language import Language
from bot.enrich.wordlists import CALENDAR, HONORIFICS, OF_HEADS, TITLE_ACRONYMS
from bot.enrich.words import bare, fold_phrase, is_acronym, is_capitalized, is_word, tokens

COMMON = 3.5  # Zipf: a capitalized word this common at a sentence start is not surely a name
VERY_COMMON = 5.5  # ... nor, this common, when it starts several sentences ("Use", "The")
_CONNECTORS = frozenset({"of", "the", "de", "del", "da", "al", "bin", "van", "von", "der",
                         "la", "le", "du", "&"})
_PARTICLES = _CONNECTORS - {"of", "the", "&"}  # lowercase words only names have inside
_CONTRACTIONS = ("n't", "n’t")  # "Don’t Die": a verb, never a name
_TITLE_CASE_TEXT = 12  # words of text from which a Title Case headline's names must recur
_BOUNDARIES = frozenset('.!?:;|"“”‘’—–()[]«»')
_NOUNS_CAPITALIZED = frozenset({"de", "lb"})  # languages that capitalize every noun

Run = tuple[list[str], bool]  # capitalized words, and whether they start a sentence


@dataclass(frozen=True, slots=True)
class Name:
    """One mention of a name: its words as written, whether the headline has it, and
    whether its first word may only be capitalized because a sentence starts there."""

    words: tuple[str, ...]
    in_title: bool
    doubtful_first: bool = False

    @property
    def sure_words(self) -> tuple[str, ...]:
        """The words that surely belong to the name ("Explore Turkey" -> ("Turkey",))."""
        if not self.doubtful_first:
            return self.words
        rest = self.words[1:]
        while rest and rest[0].casefold() in _CONNECTORS:
            rest = rest[1:]
        return rest

    @property
    def keys(self) -> list[str]:
        """The comparable keys of its words ("Japanese" -> "japan", "U.S." -> "us")."""
        return fold_phrase(list(self.words))


def story_names(title: str, text: str, lang: Language) -> list[Name]:
    """Every mention of a name, the headline's first, in order of appearance."""
    title_case = is_title_case(title)
    title_runs = _runs(title)
    text_runs = _runs(text)
    mid = _mid_sentence(text_runs) | (set() if title_case else _mid_sentence(title_runs))
    known = _Known(mid, _repeated(title_runs + text_runs, f"{title}\n{text}", lang))
    # With text enough to name them, a Title Case headline's names are the text's names.
    names_in_text = mid | known.repeated if title_case and len(tokens(text)) >= \
        _TITLE_CASE_TEXT else None
    found = _names(title_runs, True, title_case, known, lang, names_in_text)
    if title_case and names_in_text is not None and not found:  # none it names: rare words
        found = _names(title_runs, True, title_case, known, lang, None)
    return found + _names(text_runs, False, False, known, lang, None)


def _names(runs: list[Run], in_title: bool, title_case: bool, known: _Known, lang: Language,
           names_in_text: set[str] | None) -> list[Name]:
    """The names of the runs of a headline or a text."""
    found: list[Name] = []
    for run, at_start in runs:
        for words, doubtful in _split(run, at_start and not title_case, known, lang):
            if title_case:
                found += [Name(tuple(w), True)
                          for w in _standing_out(words, known.mid, lang, names_in_text)]
            else:
                found.append(Name(tuple(words), in_title, doubtful))
    return found


def surely_named(stories: Iterable[Sequence[Name]]) -> frozenset[tuple[str, ...]]:
    """The names that these stories (a feed's batch) surely give, whole."""
    return frozenset(name.words for names in stories for name in names
                     if not name.doubtful_first)


def settled(names: Sequence[Name], elsewhere: frozenset[tuple[str, ...]],
            lowercase: Callable[[], frozenset[str]]) -> list[Name]:
    """The names, those starting a sentence made sure where another story surely gives the
    same name ("Sri Lanka's mass graves ..." from a feed that writes "... storm, Sri Lanka
    is ..."), a lone word only if no story writes it in lowercase (`lowercase`: the words
    they do): "India gets ..." is sure, "Police identify ..." and "Today ..." are not."""
    return [replace(name, doubtful_first=False)
            if name.doubtful_first and name.words in elsewhere and (
                len(name.words) > 1 or name.words[0].casefold() not in lowercase())
            else name for name in names]


def lowercase_words(texts: Iterable[str]) -> frozenset[str]:
    """The words these texts write in lowercase."""
    return frozenset(token for text in texts for token in tokens(text) if token[:1].islower())


def is_title_case(title: str) -> bool:
    """Whether a headline capitalizes every longer word ("Quake Kills Dozens In Turkey")."""
    words = [w for w in tokens(title) if len(w) > 3 and is_word(w)]
    capitals = sum(1 for w in words if is_capitalized(w))
    return len(words) >= 3 and capitals >= 0.8 * len(words)


@dataclass(frozen=True, slots=True)
class _Known:
    """Words the story shows to be names: capitalized mid-sentence, or alone and repeated."""

    mid: set[str]
    repeated: set[str]


def _runs(source: str) -> list[Run]:
    """The capitalized runs of every line of `source`."""
    return [run for line in source.splitlines() for run in _capitalized_runs(tokens(line))]


def _mid_sentence(runs: list[Run]) -> set[str]:
    """Capitalized words that do not start a sentence (bare forms)."""
    return {bare(word) for run, at_start in runs for word in run[1 if at_start else 0:]
            if is_capitalized(word)}


def _repeated(runs: list[Run], source: str, lang: Language) -> set[str]:
    """Lone capitalized words that come up more than once, never in lowercase and are not
    among the language's most common words ("Iran says ... Iran will ..."; not "Use ...
    Use ..."): names, even where each mention starts a sentence."""
    counts = Counter(bare(word) for run, _ in runs for word in run
                     if is_capitalized(word) and not word.isupper())
    lower = source.casefold() if counts else ""
    return {w for w, n in counts.items() if n > 1 and lang.zipf(w.casefold()) < VERY_COMMON
            and lower.count(w.casefold()) == source.count(w)}  # never written in lowercase


def _capitalized_runs(toks: list[str]) -> list[Run]:
    """Runs of capitalized words (joined by connectors), each with whether it starts a
    sentence."""
    runs: list[Run] = []
    run: list[str] = []
    run_start = False
    sentence_start = True
    for token in [*toks, "."]:
        if token[0].isupper() and is_word(token) and not token.endswith(_CONTRACTIONS):
            if not run:
                run_start = sentence_start
            run.append(token)
        elif run and _joins(token.casefold(), run[-1]):
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
            runs.append((_trim(run), run_start and len(run) > 1))  # "Peru's Congress": a name
            run = []
    return [(r, start) for r, start in runs if r]


def _joins(connector: str, before: str) -> bool:
    """Whether a lowercase connector continues a name: "of" only after a word that takes it
    ("Bank of England", not "Arizona of Nancy Guthrie"), "the" only after such an "of"."""
    if connector == "of":
        return bare(before).casefold() in OF_HEADS
    if connector == "the":
        return before == "of"
    return connector in _CONNECTORS


def _trim(run: list[str]) -> list[str]:
    while run and run[-1].casefold() in _CONNECTORS:
        run = run[:-1]
    return run


def _split(run: list[str], at_start: bool, known: _Known,
           lang: Language) -> list[tuple[list[str], bool]]:
    """The names in a run, each with whether its first word is doubtful: "Prime Minister
    Shigeru Ishiba" -> Shigeru Ishiba; "Explore Turkey", starting a sentence -> (Explore)
    Turkey. A common first word before a rare one is a first name ("Robert Habeck")."""
    names: list[tuple[list[str], bool]] = []
    words: list[str] = []
    surely = not at_start
    for word in [*run, ""]:
        key = bare(word).casefold()
        title = key in HONORIFICS and (not is_acronym(word) or key in TITLE_ACRONYMS)
        if word and not title and key not in CALENDAR:
            words.append(word)
            continue
        while words and (words[0].casefold() in _CONNECTORS or _is_plain(words[0], lang)):
            words = words[1:]
        if words and _is_name(words, lang):
            names.append(([bare(w) for w in words],
                          not surely and _is_doubtful(words, known, lang)))
        words, surely = [], True
    return names


def _is_doubtful(words: list[str], known: _Known, lang: Language) -> bool:
    """Whether a sentence's first word may be capitalized only because it starts it."""
    first = bare(words[0])
    if first in known.mid or is_acronym(first):
        return False
    if any(w.casefold() in _PARTICLES for w in words[1:]):
        return False  # "Rio de Janeiro", "Ursula von der Leyen": a particle marks a name
    if len(words) > 2 and words[1] == "of":
        return False  # "Board of Peace": "of" joined it to a word that takes one
    rest = [w for w in words[1:] if w.casefold() not in _CONNECTORS]
    if rest:  # "Head of Mission": the next word that is not a connector decides
        return _is_common(words[0], lang) and _is_common(rest[0], lang)
    return first not in known.repeated


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


def _standing_out(run: list[str], mid: set[str], lang: Language,
                  names_in_text: set[str] | None) -> list[list[str]]:
    """A Title Case headline capitalizes everything: its names are the runs of words that
    are acronyms or names in the text, or, where the text is too short to tell, rare words
    ("Quake Kills Dozens Near Malatya" -> Malatya; "Democrats Slam US Lawmaker" with a text
    that names the Democrats -> Democrats, US)."""
    names: list[list[str]] = []
    current: list[str] = []
    for word in [*run, ""]:
        if word and (is_acronym(word) or word in mid or (
                lang.zipf(word.casefold()) < COMMON if names_in_text is None
                else bare(word) in names_in_text)):
            current.append(word)
        elif current:
            names.append(current)
            current = []
    return names
