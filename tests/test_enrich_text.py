"""Tests for bot.enrich.text: feed HTML to readable plain text."""

from __future__ import annotations

import unicodedata
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.enrich.pipeline import enrich_entries, entry_body
from bot.enrich.tags import extract_tags
from bot.enrich.text import MAX_MARKS, html_to_text, split_tag_line
from bot.model import Entry

WORDPRESS = (
    "<p>The city council approved the budget on Tuesday after a six-hour debate.</p>\n"
    '<p>The post <a rel="nofollow" href="https://example.org/budget/">Council approves budget'
    '</a> appeared first on <a rel="nofollow" href="https://example.org">Example Times</a>.</p>'
)
FEEDBURNER = (
    "Apple released a security update for iOS.<br/><br/>"
    '<div class="feedflare"><a href="http://feeds.feedburner.com/~ff/Example?a=abc">'
    '<img src="http://feeds.feedburner.com/~ff/Example?d=yIl2AUoC8zA" border="0"></img></a>'
    '</div><img src="http://feeds.feedburner.com/~r/Example/~4/xyz" height="1" width="1" '
    'alt=""/>'
)
WIDGETS = (
    '<div class="entry"><p>Rescuers searched for 10 missing skiers.</p>'
    '<div class="sharedaddy sd-sharing-enabled"><h3>Share this:</h3><ul><li>'
    '<a href="https://twitter.com/share">Twitter</a></li></ul></div>'
    '<div id="jp-relatedposts" class="jp-relatedposts"><h3>Related</h3></div>'
    '<div class="newsletter-signup">Subscribe to our newsletter</div>'
    '<div class="ad-slot">Advertisement</div></div>'
)
SCRIPTS = (
    '<figure><img src="a.jpg" alt="A photo"/><figcaption>Photo: AP</figcaption></figure>'
    "<script>window.dataLayer = [];</script><style>p { color: red }</style>"
    "<p>Kenya&rsquo;s main airport resumed operations &amp; flights left on time.</p>"
    '<iframe src="https://www.youtube.com/embed/x"></iframe><noscript>Enable JS</noscript>'
)


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        pytest.param(
            WORDPRESS,
            "The city council approved the budget on Tuesday after a six-hour debate.",
            id="wordpress-trailer",
        ),
        pytest.param(FEEDBURNER, "Apple released a security update for iOS.", id="feedburner"),
        pytest.param(WIDGETS, "Rescuers searched for 10 missing skiers.", id="share-widgets"),
        pytest.param(
            SCRIPTS,
            "Kenya’s main airport resumed operations & flights left on time.",
            id="scripts-images-entities",
        ),
        pytest.param(
            "Tributes poured in from politicians who described Jackson as an agent of change.",
            "Tributes poured in from politicians who described Jackson as an agent of change.",
            id="bbc-one-sentence",
        ),
        pytest.param(
            "<h2>Markets</h2><p>Stocks rose.</p><ul><li>Oil fell</li><li>Gold rose</li></ul>",
            "Markets\n\nStocks rose.\n\nOil fell\n\nGold rose",
            id="blocks-become-paragraphs",
        ),
        pytest.param("<p>Line one<br>Line two</p>", "Line one\nLine two", id="br-is-newline"),
        pytest.param(
            '<p>Officials met in Geneva &#8230; <a class="more-link" href="x">Continue reading'
            ' <span class="screen-reader-text">Talks</span></a></p>',
            "Officials met in Geneva …",
            id="continue-reading",
        ),
        pytest.param(
            "Prices rose again in March [&#8230;]", "Prices rose again in March", id="ellipsis"
        ),
        pytest.param("Prices rose again [...]", "Prices rose again", id="dots-in-brackets"),
        pytest.param(
            "The storm hit the coast…read more", "The storm hit the coast…", id="read-more"
        ),
        pytest.param(
            "<p>They read more reports than anyone.</p>",
            "They read more reports than anyone.",
            id="read-more-inside-a-sentence-kept",
        ),
        pytest.param(
            "<p>Quake hits.</p><p>The post Quake hits first appeared on Site News.</p>",
            "Quake hits.",
            id="first-appeared-on",
        ),
        pytest.param(
            "<p>The post office closed early. Staff went home.</p>",
            "The post office closed early. Staff went home.",
            id="the-post-office-kept",
        ),
        pytest.param("", "", id="empty"),
    ],
)
def test_html_to_text_cleans_feed_markup(html: str, expected: str) -> None:
    """Real-looking feed bodies come out as clean text without widgets or trailers."""
    assert html_to_text(html) == expected


@pytest.mark.parametrize(
    ("plain", "expected"),
    [
        ("No tags here.", "No tags here."),
        ("  Spaces   inside \t and\nwrapped  line ", "Spaces inside and wrapped line"),
        ("First paragraph.\n\n\nSecond paragraph.", "First paragraph.\n\nSecond paragraph."),
        ("Growth of 3 > 2 is modest.", "Growth of 3 > 2 is modest."),
    ],
)
def test_plain_text_changes_only_whitespace(plain: str, expected: str) -> None:
    """Text without tags comes back as it was, with whitespace normalized."""
    assert html_to_text(plain) == expected


def test_source_newlines_in_html_are_spaces() -> None:
    """Line breaks in the HTML source are not paragraph breaks."""
    assert html_to_text("<p>One\ntwo\n   three</p>") == "One two three"


def test_header_class_is_not_mistaken_for_an_ad() -> None:
    """Only whole "ad" class tokens mark an advert; "header" or "shadow" do not."""
    html = '<div class="header">Kept one</div><div class="shadow">Kept two</div>'
    assert html_to_text(html) == "Kept one\n\nKept two"


@pytest.mark.slow
@given(st.text())
def test_html_to_text_never_raises(html: str) -> None:
    """Any string, however broken, gives a string."""
    assert isinstance(html_to_text(html), str)


@pytest.mark.slow
@given(st.text(alphabet=st.sampled_from(list("<>/ap &;#x\"'=bdivscript\n"))))
def test_html_to_text_never_raises_on_tag_soup(html: str) -> None:
    """Tag soup made of markup characters gives a string."""
    assert isinstance(html_to_text(html), str)


def test_invisible_characters_are_removed() -> None:
    """Zero-width spaces, soft hyphens and stray joiners do not survive into the text."""
    assert html_to_text("<p>Geneva\u200b talks\u00ad began with \u200ca loaded agenda</p>") == (
        "Geneva talks began with a loaded agenda"
    )


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        pytest.param('<a href="https://news.ycombinator.com/item?id=42">Comments</a>', "",
                     id="hn-whole-body-is-a-comments-link"),
        pytest.param('<p>Body text.</p><p><a href="https://x.example/c">Comments (3)</a> | '
                     '<a href="https://x.example/p">Permalink</a></p>', "Body text.",
                     id="footer-of-link-labels"),
        pytest.param('<p>Read <a href="https://x.example/c">12 comments</a> on the vote.</p>',
                     "Read 12 comments on the vote.", id="a-label-inside-prose-stays"),
    ],
)
def test_links_that_only_label_themselves_are_dropped(html: str, expected: str) -> None:
    """A block holding only link labels ("Comments", "Permalink") is no text; the same words
    inside a sentence are kept."""
    assert html_to_text(html) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The council met.\n\nTags: budget · city hall · taxes",
         ("The council met.", ("budget", "city hall", "taxes"))),
        ("The council met. Filed under: Politics, Local", ("The council met.",
                                                           ("Politics", "Local"))),
        ("The council met.\nTagged with: budget | taxes.", ("The council met.",
                                                            ("budget", "taxes"))),
        ("Tags: are worn by luggage that has travelled further than its owners ever will",
         ("Tags: are worn by luggage that has travelled further than its owners ever will", ())),
        ("The council met to discuss tags: a, b.", ("The council met to discuss tags: a, b.", ())),
    ],
    ids=["middots", "filed-under", "pipes", "prose-not-tags", "mid-sentence"],
)
def test_closing_tag_line_is_split_off(text: str, expected: tuple[str, tuple[str, ...]]) -> None:
    """A closing "Tags: a · b · c" line leaves the text and its items are returned."""
    assert split_tag_line(text) == expected


def test_tag_line_becomes_categories_and_tags_not_summary() -> None:
    """A blog post's "Tags:" line is not in the text the summary reads; its items join the
    entry's categories (once each) and so become the story's tags."""
    entry = Entry(dedup_key="k", url="https://blog.example/p", title="Council passes budget",
                  content_html="<p>The council passed the budget after a long debate.</p>"
                               "<p>Tags: Budget · City Hall · taxes</p>",
                  categories=("budget",))
    enriched, text = entry_body(entry)
    assert text == "The council passed the budget after a long debate."
    assert enriched.categories == ("budget", "City Hall", "taxes")
    tags = extract_tags(enriched.title, text, enriched.categories, (), {})
    assert tags == ("Budget", "CityHall", "Taxes")


ZALGO = "Z" + "\u0336\u0301\u0316" * 30 + "algo h\u0337\u0337\u0337\u0337\u0337\u0337e"


def _longest_mark_run(text: str) -> int:
    """The most combining marks in a row in `text`."""
    longest = run = 0
    for ch in text:
        run = run + 1 if unicodedata.category(ch).startswith("M") else 0
        longest = max(longest, run)
    return longest


def test_zalgo_marks_are_capped_per_letter() -> None:
    """A title piling dozens of combining marks on a letter keeps at most MAX_MARKS of them."""
    text = html_to_text(f"<p>{ZALGO}</p>")
    assert _longest_mark_run(text) == MAX_MARKS
    assert text.startswith("Z") and "algo h" in text and text.endswith("e")


@pytest.mark.parametrize("text", [
    "Tiếng Việt có dấu", "हिन्दी भाषा और क्षेत्र", "שָׁלוֹם בְּרֵאשִׁית", "ﬁrst café",
])
@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_real_scripts_keep_their_marks(text: str, form: Literal["NFC", "NFD"]) -> None:
    """Vietnamese, Hindi vowel signs and Hebrew points, composed or not, are left as they are."""
    normalized = unicodedata.normalize(form, text)
    assert html_to_text(normalized) == normalized


def _item(key: str, title: str, text: str) -> Entry:
    return Entry(dedup_key=key, url=f"https://weekly.example/{key}", title=title,
                 content_html=f"<p>{text}</p>", lang="en")


def test_a_feed_batch_settles_names_that_start_a_headline() -> None:
    """A name that only starts a headline is a name where the feed's other items give it
    mid-sentence ("... a storm, Sri Lanka is ..."); a common word they write in lowercase
    ("police") stays doubtful."""
    batch = [
        _item("a", "Sri Lanka's mass graves need proper investigation",
              "The recent past was vicious and ugly, but the country must face up to it."),
        _item("b", "Led by a Marxist, battered by a storm, Sri Lanka is doing better",
              "Its neighbour's growing involvement is one factor, say the police."),
        _item("c", "Police identify suspect in ice rink shooting",
              "Officers named him on Monday after a search of his home."),
        _item("d", "Rink reopens", "A statement from Police said the rink is safe."),
    ]
    [alone] = enrich_entries(batch[:1], (), {})
    together = enrich_entries(batch, (), {})
    assert "Lanka" in alone.tags and "SriLanka" not in alone.tags
    assert "SriLanka" in together[0].tags and "Lanka" not in together[0].tags
    assert "Police" not in together[2].tags
    [shooting, _] = enrich_entries(batch[2:], (), {})  # no item writes "police" lowercase:
    assert "Police" in shooting.tags  # then d's "from Police" makes it a name
