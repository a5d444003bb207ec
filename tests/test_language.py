"""Tests for bot.enrich.language: detection and each language's word data."""

from __future__ import annotations

import pytest

from bot.enrich.language import detect_language, language, primary


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
