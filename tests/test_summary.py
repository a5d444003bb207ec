"""Tests for bot.enrich.summary: sentence splitting and extractive summaries."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.enrich.summary import split_sentences, summarize
from bot.enrich.text import html_to_text

STORY = (
    "The Bank of Japan raised its policy rate to 0.75% on Friday, the highest since 1995. "
    "Governor Kazuo Ueda said wage gains justified the move. "
    "The yen rose 0.4% against the dollar after the decision. "
    "Analysts at Nomura said another rate increase could come by summer. "
    "The bank's next meeting is in March."
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "U.S. President Donald Trump announced 25% tariffs. Markets fell.",
            ["U.S. President Donald Trump announced 25% tariffs.", "Markets fell."],
        ),
        (
            "Growth slowed to 3.5 percent. Exports fell 1.2%.",
            ["Growth slowed to 3.5 percent.", "Exports fell 1.2%."],
        ),
        (
            "Mr. Ishiba said. Then he left.",
            ["Mr. Ishiba said.", "Then he left."],
        ),
        (
            "J. R. R. Tolkien wrote books. He lived in Oxford.",
            ["J. R. R. Tolkien wrote books.", "He lived in Oxford."],
        ),
        (
            '"We will win," he said. "We will win!" she shouted.',
            ['"We will win," he said.', '"We will win!" she shouted.'],
        ),
        (
            "He moved to the U.S. The next day he left.",
            ["He moved to the U.S.", "The next day he left."],
        ),
        (
            "Dr. Smith met Gen. Jones at No. 10 Downing St. on Monday. They talked.",
            ["Dr. Smith met Gen. Jones at No. 10 Downing St. on Monday.", "They talked."],
        ),
        ("Apple Inc. said profits rose.", ["Apple Inc. said profits rose."]),
        ("Is it over? Yes! It is.", ["Is it over?", "Yes!", "It is."]),
        ("東京は晴れ。大阪は雨。", ["東京は晴れ。", "大阪は雨。"]),
        ("Headline line\nBody sentence.", ["Headline line", "Body sentence."]),
        ("", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    """Sentences split at real ends, not at abbreviations, initials, decimals or quotes."""
    assert split_sentences(text) == expected


def test_summary_keeps_the_lede_first() -> None:
    """The first sentence leads when it carries the title's story."""
    summary = summarize(STORY, title="Bank of Japan raises rates to 30-year high")
    assert summary.startswith("The Bank of Japan raised its policy rate to 0.75% on Friday")


def test_summary_fits_max_chars_with_whole_sentences() -> None:
    """A summary is whole sentences from the text, within the character budget."""
    summary = summarize(STORY, title="Bank of Japan raises rates", max_chars=200)
    assert len(summary) <= 200
    assert summary.endswith(".")
    assert all(s in STORY for s in split_sentences(summary))


def test_summary_keeps_original_order() -> None:
    """Chosen sentences appear in the order the text gives them."""
    summary = summarize(STORY, title="Bank of Japan raises rates", max_chars=400)
    positions = [STORY.index(s) for s in split_sentences(summary)]
    assert positions == sorted(positions)


def test_summary_has_at_most_three_sentences() -> None:
    """Never more than three sentences, however much room there is."""
    summary = summarize(STORY, title="Bank of Japan raises rates", max_chars=2000)
    assert 1 <= len(split_sentences(summary)) <= 3


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("", "Jesse Jackson dies aged 84"),
        ("   \n\n ", ""),
        ("Jesse Jackson dies aged 84", "Jesse Jackson dies aged 84"),
        ("Jesse Jackson dies, aged 84.", "Jesse Jackson dies aged 84"),
        ("https://www.dawn.com/news/1973802", "Intermittent fasting hype not backed by evidence"),
        ("[allAfrica]", "Africa: All of Africa Today"),
    ],
)
def test_no_invented_summary(text: str, title: str) -> None:
    """Empty text, the title again, or a bare link gives no summary at all."""
    assert summarize(text, title) == ""


def test_one_long_sentence_is_cut_at_a_word_with_ellipsis() -> None:
    """A single sentence longer than the budget is cut at a word boundary and marked."""
    text = "Officials said " + " ".join(["negotiations continued"] * 40) + "."
    summary = summarize(text, max_chars=100)
    assert len(summary) <= 100
    assert summary.endswith("…")
    assert summary.removesuffix("…").split()[-1] in {"negotiations", "continued"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "By Jane Doe\n\nThe storm made landfall near Osaka on Sunday.",
            "The storm made landfall near Osaka on Sunday.",
        ),
        (
            "KHARTOUM: A drone attack on a market in central Sudan killed 28 people.",
            "A drone attack on a market in central Sudan killed 28 people.",
        ),
        (
            "LONDON (Reuters) - Britain's economy grew 0.3% in the fourth quarter.",
            "Britain's economy grew 0.3% in the fourth quarter.",
        ),
        (
            "[Capital FM] Nairobi -- Aviation workers have suspended their strike.",
            "Aviation workers have suspended their strike.",
        ),
    ],
)
def test_bylines_datelines_and_source_tags_are_dropped(text: str, expected: str) -> None:
    """A byline sentence, a dateline or a "[Source]" prefix is not part of the summary."""
    assert summarize(text, title="Unrelated headline words") == expected


@given(st.text(), st.text(max_size=80), st.integers(min_value=0, max_value=400))
def test_summary_property(text: str, title: str, max_chars: int) -> None:
    """Any text: within max_chars, deterministic, and never ending in a cut word."""
    summary = summarize(text, title, max_chars)
    assert len(summary) <= max_chars
    assert summary == summarize(text, title, max_chars)
    if summary.endswith("…"):
        kept = summary.removesuffix("…")
        last = kept.split()[-1]
        words = text.split()
        assert any(w.startswith(last) and not w[len(last) :].isalnum() for w in words) or (
            last in words
        )


@given(st.lists(st.sampled_from(["Mr.", "U.S.", "3.5", "said.", "He", "left!", "“Yes,”", "a"])))
def test_split_sentences_keeps_every_word(words: list[str]) -> None:
    """Splitting never loses or invents text: the pieces rejoin to the input's words."""
    text = " ".join(words)
    assert " ".join(split_sentences(text)).split() == text.split()


HN_FEEDS = (
    # news.ycombinator.com/rss: the item's whole body is one link to the comments.
    ('<a href="https://news.ycombinator.com/item?id=42">Comments</a>', "Show HN: A tiny database"),
    # hnrss.org: labelled links and counts, no prose.
    ('<p>Article URL: <a href="https://db.example/">https://db.example/</a></p>'
     '<p>Comments URL: <a href="https://news.ycombinator.com/item?id=42">'
     "https://news.ycombinator.com/item?id=42</a></p><p>Points: 312</p><p># Comments: 97</p>",
     "Show HN: A tiny database"),
)


@pytest.mark.parametrize(("html", "title"), HN_FEEDS, ids=["hn-comments-link", "hnrss-labels"])
def test_link_only_items_get_no_invented_summary(html: str, title: str) -> None:
    """An item whose body is only a "Comments" link, or labelled links and counts, has no
    summary: the link text is not the story."""
    assert summarize(html_to_text(html), title) == ""


BLOG = (
    "<p>Acme has launched Forge, a new venture that seeks to</p>"
    "<p>It seeks to disrupt the way small shops buy their tools. Acme raised $4m from "
    "local investors for the venture.</p>"
)


def test_a_paragraph_that_stops_mid_sentence_is_not_spliced_to_the_next() -> None:
    """A block that ends without a sentence end is never joined to the sentence after it."""
    summary = summarize(html_to_text(BLOG), "Acme launches Forge")
    assert "seeks to It" not in summary
    assert summary == ("It seeks to disrupt the way small shops buy their tools. Acme raised $4m "
                       "from local investors for the venture.")


def test_text_without_any_sentence_end_is_still_summarized() -> None:
    """Fragments are used when the text has nothing else (a feed that omits periods)."""
    assert summarize("Officials met in Geneva to discuss the truce", "Truce talks") == (
        "Officials met in Geneva to discuss the truce")


QUOTE = ("The minister told reporters on Tuesday that “we will not accept any deal that "
         + "leaves our farmers worse off, " * 12 + "whatever Brussels says,” before leaving.")


def test_a_cut_never_lands_inside_a_quotation() -> None:
    """A long sentence is cut before a quotation it would otherwise cut in two."""
    summary = summarize(QUOTE, "Minister rejects deal", max_chars=200)
    assert summary == "The minister told reporters on Tuesday that…"


def test_a_whole_sentence_is_preferred_to_a_cut_quotation() -> None:
    """When the best sentence would be cut inside a quote, a shorter whole one that also
    carries the story is used instead."""
    text = QUOTE + " The minister rejected the deal after talks with farmers' unions."
    summary = summarize(text, "Minister rejects deal", max_chars=200)
    assert summary == "The minister rejected the deal after talks with farmers' unions."


@pytest.mark.parametrize(
    "text",
    [
        "Der Minister sagte am Dienstag: „Wir werden keinem Abkommen zustimmen, "
        + "das unseren Bauern schadet, " * 10 + "egal was Brüssel sagt.“",
        "The minister said ‘we won’t sign a deal that " + "hurts our farmers, " * 15 + "ever’.",
    ],
    ids=["german-quotes", "single-quotes-with-apostrophe"],
)
def test_cuts_respect_each_language_quotation_marks(text: str) -> None:
    """German „…“ and British ‘…’ quotations (with apostrophes inside) are never cut."""
    summary = summarize(text, max_chars=120)
    assert summary.endswith("…")
    assert not any(mark in summary for mark in "„‘")
