"""Word lists no library has: junk categories, calendar words, titles before names."""

from __future__ import annotations


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of a word-list literal."""
    return frozenset(text.split())


JUNK_CATEGORIES: frozenset[str] = word_set(
    """
    uncategorized uncategorised general misc miscellaneous other others none default main
    home news blog blogs post posts article articles story stories rss feed feeds latest
    topstories top featured frontpage headlines headline update updates
    """
)
"""Category keys that say nothing about a story: a CMS's defaults and a site's sections."""

CALENDAR: frozenset[str] = word_set(
    """
    monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs
    fri sat sun january february march april may june july august september october november
    december jan feb mar apr jun jul aug sep sept oct nov dec
    """
)
"""Names of days and months (and their abbreviations): never a tag, never a story term."""

HONORIFICS: frozenset[str] = word_set(
    """
    mr mrs ms miss dr prof sir dame lord lady president vice prime minister secretary foreign
    chancellor king queen prince princess pope sheikh judge justice chief leader general gen
    senator sen representative rep governor gov mayor ceo chairman chairwoman commissioner
    ambassador envoy spokesperson spokesman spokeswoman premier former late interim acting
    defence defense interior finance state deputy opposition supreme rev reverend pm mp fm vp
    mep mla cfo coo cto congressman congresswoman
    """
)
"""Words that precede a name ("President Donald Trump") and are dropped from its tag."""

TITLE_ACRONYMS: frozenset[str] = word_set("pm mp fm vp mep mla ceo cfo coo cto")
"""Titles written as acronyms ("Bangladesh's PM"): a title even in capitals, never a name."""

OF_HEADS: frozenset[str] = word_set(
    """
    house bank university republic kingdom ministry department bureau council court church
    museum institute college school academy society association organisation organization
    federation union league alliance coalition commission committee board office chamber party
    state states city county province isle isles island islands gulf bay strait sea lake cape
    port duke duchess prince princess king queen archbishop bishop emirate sultanate
    commonwealth order day festival battle treaty declaration bill statue tower cup year horn
    constitution confederation
    """
)
"""Words that take "of" inside a name ("Bank of England", "Strait of Hormuz"); after any
other word "of" ends the name ("Tucson, Arizona of Nancy Guthrie" is two names)."""

