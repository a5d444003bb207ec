"""Tests for bot.enrich.tags: tag identity, display form and extraction."""

from __future__ import annotations

import pytest

from bot.enrich.tags import display_tag, extract_tags, hashtag
from bot.model import tag_key

ALIASES = {"us": "UnitedStates", "usa": "UnitedStates", "unitedstates": "UnitedStates"}


@pytest.mark.parametrize(
    ("raw", "key"),
    [("World News", "worldnews"), ("world-news", "worldnews"), ("#WorldNews", "worldnews")],
)
def test_tag_key(raw: str, key: str) -> None:
    """Spacing, punctuation, case and '#' do not change a tag's identity."""
    assert tag_key(raw) == key


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("world news", "WorldNews"),
        ("world-news", "WorldNews"),
        ("#WorldNews", "WorldNews"),
        ("AI", "AI"),
        ("covid-19", "Covid19"),
        ("U.S.", "US"),
        ("BREAKING NEWS", "BreakingNEWS"),
        ("São Paulo", "SãoPaulo"),
        ("東京 ニュース", "東京ニュース"),
        ("Rock'n'roll", "Rocknroll"),
        ("", ""),
    ],
)
def test_display_tag(raw: str, shown: str) -> None:
    """Display tags are CamelCase words without '#', acronyms and other scripts kept."""
    assert display_tag(raw) == shown


@pytest.mark.parametrize(("raw", "shown"), [("world news", "#WorldNews"), ("  ", "")])
def test_hashtag(raw: str, shown: str) -> None:
    """A hashtag is '#' and the display form; an empty tag has none."""
    assert hashtag(raw) == shown


def test_categories_come_first_and_feed_tags_last() -> None:
    """Explicit categories lead, extracted names follow, the feed's tags close the list."""
    tags = extract_tags(
        "Takaichi will be reappointed as Japan's prime minister",
        "Japanese Prime Minister Sanae Takaichi last week won a landslide election.",
        categories=["Politics"],
        feed_tags=["world"],
    )
    assert tags[0] == "Politics"
    assert tags[-1] == "World"
    assert {"SanaeTakaichi", "Japan"} <= set(tags)


@pytest.mark.parametrize(
    "junk",
    [
        "https://example.org/category/world",
        "2026",
        "Uncategorized",
        "News",
        "Blog",
        "February",
        "a category name that is far too long to be a useful tag",
        "internal-open-access-from-nl",
    ],
)
def test_junk_categories_are_dropped(junk: str) -> None:
    """URLs, numbers, generic words, month names, very long categories and a publisher's
    internal flags never become tags."""
    assert extract_tags("", "", [junk, "Earthquakes"], []) == ("Earthquakes",)


def test_sections_that_start_like_a_flag_stay() -> None:
    """Only a publisher's "internal-..." slug is a flag; "International" is a section."""
    assert extract_tags("", "", ["International", "Internal Affairs"], []) == (
        "International", "InternalAffairs")


def test_proper_nouns_from_title_and_text() -> None:
    """Names in the title and repeated capitalized phrases in the text become tags."""
    tags = extract_tags(
        "European Union fines Apple over App Store rules",
        "The European Union said on Monday that Apple broke competition law. "
        "Apple said it would appeal the decision of the European Commission.",
        categories=[],
        feed_tags=[],
    )
    assert tags[:2] == ("EuropeanUnion", "Apple")
    assert "Monday" not in tags


def test_honorifics_are_dropped_from_names() -> None:
    """A name after a title such as "President" tags without it: "DonaldTrump"."""
    tags = extract_tags(
        "Trump says Colombia will accept deportees",
        "President Donald Trump said on Sunday that Colombia agreed to accept deportees.",
        categories=[],
        feed_tags=[],
    )
    assert tags[:2] == ("DonaldTrump", "Colombia")


def test_aliases_merge_tags() -> None:
    """Aliases map a key to one display tag, and duplicates collapse into it."""
    tags = extract_tags(
        "U.S. and Iran reach deal",
        "The US and Iran agreed on principles, the U.S. envoy said.",
        categories=["USA"],
        feed_tags=[],
        aliases=ALIASES,
    )
    assert tags.count("UnitedStates") == 1
    assert tags[0] == "UnitedStates"
    assert "Iran" in tags


def test_limit_keeps_feed_tags() -> None:
    """The limit is respected and the feed's configured tags always fit in it."""
    tags = extract_tags(
        "Japan, China, Korea and Taiwan leaders meet in Tokyo",
        "Leaders of Japan, China, Korea and Taiwan met in Tokyo with India and Vietnam.",
        categories=["Asia", "Diplomacy"],
        feed_tags=["world", "politics"],
        limit=4,
    )
    assert len(tags) == 4
    assert tags[-2:] == ("World", "Politics")


def test_duplicate_spellings_are_one_tag() -> None:
    """Categories and feed tags that differ only in spelling are one tag."""
    tags = extract_tags("", "", ["World News", "world-news", "#WorldNews"], ["world news"])
    assert tags == ("WorldNews",)


def test_extraction_is_deterministic() -> None:
    """The same entry always gets the same tags in the same order."""
    args = (
        "Peru's Congress removes interim President Jerí",
        "Peru's Congress voted to remove interim President José Jerí from office.",
        ["Americas"],
        ["world"],
    )
    assert extract_tags(*args) == extract_tags(*args)
    assert extract_tags(*args)[:3] == ("Americas", "Peru", "Congress")


def test_title_case_headline_reads_names_from_text() -> None:
    """In a Title Case Headline only phrases the text also names count as names."""
    tags = extract_tags(
        "Trump Bets on Diplomacy Without Diplomats",
        "President Trump's most trusted envoys, Steve Witkoff and Jared Kushner, are at the "
        "center of the Iran and Ukraine negotiations.",
        categories=[],
        feed_tags=[],
    )
    assert tags[0] == "Trump"
    assert "Diplomacy" not in tags
    assert {"SteveWitkoff", "JaredKushner"} <= set(tags)


@pytest.mark.parametrize(("title", "text", "wanted", "unwanted"), [
    ("Nancy Guthrie case continues to captivate the public",
     "Everyone is talking about the disappearance in Tucson, Arizona of Nancy Guthrie, the "
     "mother of Savannah Guthrie.", {"NancyGuthrie", "Arizona"}, {"ArizonaOfNancyGuthrie"}),
    ("Palestinians see de facto annexation",
     "The plan restarts a land registration process in Area C of the West Bank.",
     {"WestBank"}, {"AreaCOfThe", "AreaCOfTheWestBank"}),
    ("Samba schools honor Black Brazilian authors",
     "Rio de Janeiro's Carnival is using samba parades to spotlight writers.",
     {"RioDeJaneiro"}, {"DeJaneiro"}),
    ("Tarique Rahman sworn in as Bangladesh’s PM after landslide",
     "BNP leader Tarique Rahman was sworn in as prime minister on Tuesday.",
     {"TariqueRahman", "Bangladesh"}, {"PM"}),
    ("Film reviews: ‘Wuthering Heights’ and ‘Good Luck, Have Fun, Don’t Die’",
     "Wuthering Heights is Emerald Fennell’s dumbest movie, said a critic.",
     {"WutheringHeights"}, {"Dont"}),
    ("Climber on trial for leaving girlfriend to die on Austria's highest mountain",
     "Kerstin G's boyfriend is accused of leaving her close to the summit.",
     {"KerstinG", "Austria"}, {"KerstinGs"}),
    ("Hamas says Trump’s ‘Board of Peace’ must act", "Hamas spoke on Tuesday.",
     {"BoardOfPeace"}, {"OfPeace", "Peace"}),
    ("Welcome to North Korea’s Benidorm",
     "The country is building a vast seaside resort for its own holidaymakers and for "
     "tourists it hopes will come.", {"Benidorm"}, set()),
    ("Strait of Hormuz closed as the Bank of England weighs rates",
     "Shipping slowed in the Strait of Hormuz.", {"StraitOfHormuz", "BankOfEngland"}, set()),
])
def test_names_are_whole_and_never_fragments(title: str, text: str, wanted: set[str],
                                             unwanted: set[str]) -> None:
    """"of" joins a name only after a word that takes it (Bank of England), a name too
    long for a tag is not cut into a fragment, a doubtful first word leaves no dangling
    connector, titles written as acronyms (PM) and contractions (Don't) are no names."""
    tags = set(extract_tags(title, text, categories=[], feed_tags=[]))
    assert wanted <= tags
    assert not unwanted & tags


def test_title_case_headline_words_must_be_names_in_the_text() -> None:
    """Given a text that names its subject, a Title Case headline's rare words ("Unrepentant
    Bigot", "Lawmaker") are not names; the ones the text also names are."""
    tags = extract_tags(
        '"Unrepentant Bigot": Democrats Slam US Lawmaker Over Anti-Muslim Remarks',
        "Rights advocates and multiple Democrats on Tuesday condemned anti-Muslim comments by "
        "US Representative Randy Fine, who said the choice was not a difficult one.",
        categories=[], feed_tags=[])
    assert {"Democrats", "US", "RandyFine"} <= set(tags)
    assert not {"UnrepentantBigot", "USLawmaker", "Lawmaker"} & set(tags)


def test_category_escaped_twice_reads_as_its_character() -> None:
    """A category whose entity a feed escaped twice ("Culture &amp; Life" in CDATA) is the
    publisher's "Culture & Life", not #CultureAmpLife."""
    tags = extract_tags("A thrilling foodie city", "", ["Culture &amp; Life"], [])
    assert tags[0] == "CultureLife"
