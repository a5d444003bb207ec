"""Render a digest or reply as JSON for scripts: stories with their other outlets and links."""

from __future__ import annotations

from typing import Any

from bot.model import Digest, DigestItem, Link, Reply


def render_json(subject: Digest | Reply) -> dict[str, Any]:
    """The digest's (or reply's) stories as plain data; text stays as stored."""
    found: dict[str, Any] = {"items": [_item(item) for item in subject.items]}
    if isinstance(subject, Digest):
        found = {"channel": subject.channel_id, "title": subject.title,
                 "created": subject.created.isoformat(), **found, "more": subject.more,
                 "more_from": [{"source": name, "count": count}
                               for name, count in subject.more_from]}
    else:
        found = {"text": subject.text, **found}
    return found


def _item(item: DigestItem) -> dict[str, Any]:
    article = item.article
    return {"title": article.title, "url": article.url, "source": article.feed_name,
            "published": article.when.isoformat(), "summary": article.summary,
            "tags": list(article.tags), "lang": article.lang,
            "also": [_link(link) for link in item.also],
            "related": [_link(link) for link in item.related]}


def _link(link: Link) -> dict[str, str]:
    return {"title": link.title, "url": link.url, "source": link.source}
