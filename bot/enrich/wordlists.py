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
    defence defense interior finance state deputy opposition supreme
    """
)
"""Words that precede a name ("President Donald Trump") and are dropped from its tag."""
