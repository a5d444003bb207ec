"""The addresses of a published channel's pages and feeds, built from the public URL."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

STYLE = "/style.css"
ICON = "/icon.svg"


class Links:
    """Paths and full links under the configured public URL (which may carry a path prefix:
    `https://example.org/news` serves `https://example.org/news/c/<token>/`)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.prefix = urlsplit(self.base_url).path.rstrip("/")

    def channel(self, token: str) -> str:
        """The path of the channel's page (its latest digest)."""
        return f"{self.prefix}/c/{quote(token, safe='')}/"

    def digest(self, token: str, digest_id: int) -> str:
        """The permanent path of one past digest."""
        return f"{self.channel(token)}d/{digest_id}"

    def story(self, token: str, article_id: int) -> str:
        """The path of one story's page."""
        return f"{self.channel(token)}s/{article_id}"

    def search(self, token: str) -> str:
        """The path of the channel's search (GET ?q=)."""
        return f"{self.channel(token)}search"

    def atom(self, token: str) -> str:
        """The path of the channel's Atom feed."""
        return f"{self.channel(token)}feed.atom"

    def json_feed(self, token: str) -> str:
        """The path of the channel's JSON Feed."""
        return f"{self.channel(token)}feed.json"

    @property
    def style(self) -> str:
        """The path of the style sheet."""
        return f"{self.prefix}{STYLE}"

    @property
    def icon(self) -> str:
        """The path of the page icon (without one, browsers ask for /favicon.ico)."""
        return f"{self.prefix}{ICON}"

    def full(self, path: str) -> str:
        """A path made absolute with the public URL's scheme and host."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}{path}"

    def page_link(self, token: str) -> str:
        """The full link to the channel's page (what `/publish on` answers)."""
        return self.full(self.channel(token))


def safe_href(url: str) -> str | None:
    """The URL when it is an absolute http(s) link, else None (no href at all)."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() in ("http", "https") and parts.netloc and not any(
            ch in url for ch in "\x00\r\n\t"):
        return url.strip()
    return None
