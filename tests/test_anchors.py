"""Tests for bot.enrich.names and bot.enrich.anchors: what a story is about, as keys."""

from __future__ import annotations

import pytest

from bot.enrich.anchors import (
    decode,
    decode_plain,
    encode,
    overlap,
    plain_words,
    query_anchors,
    shared_plain,
    story_anchors,
)
from bot.enrich.language import language
from bot.enrich.names import story_names

ENGLISH = language("en")


def names(title: str, text: str = "", lang: str = "en") -> list[str]:
    """The names a story surely mentions (what tags are made of)."""
    return [" ".join(n.sure_words) for n in story_names(title, text, language(lang))
            if n.sure_words]


def keys(title: str, text: str = "") -> set[str]:
    return {a.key for a in story_anchors(title, text, ENGLISH)}


def test_titles_before_names_are_cut_off() -> None:
    """ "Prime Minister Shigeru Ishiba" names Shigeru Ishiba."""
    assert "Shigeru Ishiba" in names("", "Japan's Prime Minister Shigeru Ishiba said no.")


@pytest.mark.parametrize(
    ("title", "text", "absent"),
    [
        ("Explore Turkey with our guide", "Explore Turkey this summer.", "Explore"),
        ("", "Rescuers dug through the rubble all night.", "Rescuers"),
        ("", "Use a starter instead of yeast. Use it daily.", "Use"),
    ],
)
def test_a_common_word_that_starts_a_sentence_is_no_name(title: str, text: str,
                                                          absent: str) -> None:
    """Capitalized only because a sentence began: not a name."""
    assert not any(absent in n.split() for n in names(title, text))


def test_a_name_that_starts_every_sentence_is_still_a_name() -> None:
    """ "Iran says ... Iran will ...": a repeated lone capital is a name."""
    assert "Iran" in names("Iran says talks went well", "Iran will meet again next week.")


def test_matching_keeps_a_capitalized_first_word_a_tag_would_not() -> None:
    """ "Kenya: aviation workers ...": for matching stories the first word still counts."""
    assert "kenya" in keys("Kenya: aviation workers suspend strike")
    assert "Kenya" not in names("Kenya: aviation workers suspend strike")


def test_title_case_headlines_only_give_rare_words_and_known_names() -> None:
    """ "Quake Kills Dozens In Eastern Turkey": only Malatya (named in the text) counts."""
    found = names("Quake Kills Dozens Near Malatya", "The quake struck near Malatya.")
    assert found.count("Malatya") == 2
    assert "Kills" not in " ".join(found)


def test_german_common_nouns_are_not_names() -> None:
    """In German every noun is capitalized: only rare ones are taken for names."""
    found = names("", "Der Minister sagte, das Gesetz komme. Robert Habeck verteidigte es.",
                  "de")
    assert "Robert Habeck" in found
    assert "Gesetz" not in found


def test_anchors_hold_names_figures_and_rare_words() -> None:
    """Names fold to one key ("Japanese" -> japan), figures to one form, rare words stem."""
    found = keys("Japanese car exports slump",
                 "Exports to the United States fell 24.7% as a €410m subsidy ended.")
    assert {"japan", "us", "#24.7%", "#4.1e+08", "~export"} <= found


@pytest.mark.parametrize(
    ("text", "key"),
    [("a €410m package", "#4.1e+08"), ("410 million euros", "#4.1e+08"),
     ("$1.2bn deal", "#1.2e+09"), ("1.2 billion dollars", "#1.2e+09"),
     ("34 homes", "#34"), ("magnitude 6.8", "#6.8"), ("3.5 per cent", "#3.5%")],
)
def test_one_figure_written_two_ways_is_one_key(text: str, key: str) -> None:
    """Outlets write figures differently; the key is the same."""
    assert key in keys("", text)


@pytest.mark.parametrize("text", ["on 17 February", "Feb 17", "at 10:30", "two people", "5 cars"])
def test_dates_times_and_small_counts_are_no_figures(text: str) -> None:
    """What every story of the day shares is not an anchor."""
    assert not any(k.startswith("#") for k in keys("", text))


def test_rare_names_weigh_more_than_common_ones() -> None:
    """Sharing "Ishiba" says more than sharing "US"."""
    found = {a.key: a.weight for a in story_anchors("", "Ishiba met US officials.", ENGLISH)}
    assert found["ishiba"] > found["us"]


def test_encoding_round_trips() -> None:
    """Stored anchors decode to the same keys and weights; junk parts are skipped."""
    anchors = story_anchors("Ishiba skips NATO summit", "Ishiba stays in Tokyo.", ENGLISH)
    assert decode(encode(anchors)) == {a.key: a.weight for a in anchors}
    assert decode("ok:1.5 broken:x") == {"ok": 1.5}


def test_overlap_by_kind() -> None:
    """Shared names, figures and rare words are measured apart."""
    shared = overlap({"ishiba": 4.0, "#34": 3.0, "~tariff": 1.0, "us": 1.0},
                     {"ishiba": 4.0, "#34": 3.0, "nato": 3.0})
    assert shared.names > 0 and shared.figures > 0 and shared.words == 0
    assert 0 < shared.jaccard < 1


def test_query_words_become_anchors_without_capitals() -> None:
    """A lowercase query still names things: "ishiba nato tariffs"."""
    found = query_anchors("ishiba nato tariffs", ENGLISH)
    assert {"ishiba", "nato", "~tariff"} <= set(found)


def test_plain_words_are_the_lowercase_words_of_headline_and_lede() -> None:
    """Plain words are stemmed "+" keys; function words, capitalized words and what follows
    the lede are left out, and a rarer word weighs more."""
    found = {a.key: a.weight for a in plain_words(
        "Kenya airport reopens", "At the Nairobi airport, workers ended their strike. "
        + "x" * 600 + " tsunami", ENGLISH)}
    assert {"+airport", "+reopen", "+worker", "+strike"} <= set(found)
    assert not {"+the", "+kenya", "+nairobi", "+tsunami"} & set(found)
    assert found["+strike"] > found["+worker"]


def test_plain_words_need_word_data() -> None:
    """A language without word frequencies has no plain words (every word would weigh
    the most)."""
    assert plain_words("", "les travailleurs ont mis fin à la grève", language("xx")) == ()


def test_plain_words_are_stored_apart_from_the_anchors() -> None:
    """Stored together, the plain words decode apart: anchors never include them."""
    stored = encode((*story_anchors("Ishiba skips summit", "Ishiba stays home.", ENGLISH),
                     *plain_words("Ishiba skips summit", "Ishiba stays home.", ENGLISH)))
    assert "ishiba" in decode(stored) and not any(k.startswith("+") for k in decode(stored))
    assert set(decode_plain(stored)) == {"+skip", "+summit", "+stay", "+home"}


def test_shared_plain_words_add_up() -> None:
    """Sharing more plain words, or rarer ones, measures more."""
    strike = {"+strike": 1.8, "+airport": 1.7, "+end": 1.2}
    assert shared_plain(strike, {"+strike": 1.8, "+airport": 1.7}) > shared_plain(
        strike, {"+strike": 1.8}) > shared_plain(strike, {"+end": 1.2}) > shared_plain(
        strike, {"+vote": 1.9}) == 0.0
