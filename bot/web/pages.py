"""HTML pages from Jinja2 templates, everything escaped: feed text is never markup, links
are only http(s)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.digest.local_time import format_local
from bot.model import Article
from bot.store.deliveries import PastDigest
from bot.web.links import Links, safe_href
from bot.web.reader import PageDigest, Published, StoryPage
from bot.web.syndication import SITE_TITLE


class Pages:
    """Renders each page to a string."""

    def __init__(self, links: Links) -> None:
        self._links = links
        self._env = Environment(loader=PackageLoader("bot.web", "templates"),
                                autoescape=select_autoescape(default=True,
                                                             default_for_string=True),
                                undefined=StrictUndefined, trim_blocks=True,
                                lstrip_blocks=True)
        self._env.filters["href"] = safe_href

    def _render(self, name: str, page: Published | None, **values: Any) -> str:
        zone = page.channel.timezone if page else "UTC"
        return self._env.get_template(name).render(
            links=self._links, page=page, token=page.token if page else "",
            title=SITE_TITLE,
            when=lambda moment: _when(moment, zone), **values)

    def channel(self, page: Published, latest: PageDigest | None,
                earlier: Sequence[PastDigest]) -> str:
        """The channel's front page: its latest digest, earlier ones listed, the search."""
        return self._render("channel.html", page, digest=latest, earlier=earlier)

    def digest(self, page: Published, digest: PageDigest, older: int | None,
               newer: int | None) -> str:
        """One past digest at its permanent address."""
        return self._render("digest.html", page, digest=digest, older=older, newer=newer)

    def story(self, page: Published, story: StoryPage) -> str:
        """One story with its other outlets and related stories."""
        return self._render("story.html", page, story=story)

    def search(self, page: Published, query: str, found: Sequence[Article],
               refused: str = "") -> str:
        """The search form with what it found (or why it didn't search)."""
        return self._render("search.html", page, query=query, found=found, refused=refused)

    def error(self, status: int, reason: str) -> str:
        """A plain error page (404, 405, 413, 429, 500...)."""
        return self._render("error.html", None, status=status, reason=reason)


def _when(moment: datetime, zone: str) -> str:
    return format_local(moment, zone)
