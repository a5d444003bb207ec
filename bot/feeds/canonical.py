"""Canonical story links: the form a link is stored, deduplicated and looked up in."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

_TRACKING = re.compile(r"utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|_ga|_gl|"
                       r"ocid|cmpid|at_medium|at_campaign|__twitter_impression", re.IGNORECASE)


def canonical_url(url: str, base: str = "") -> str:
    """Absolute http(s) URL without fragment, default port or tracking parameters."""
    if not url.strip():
        return ""
    url = urljoin(base, url.strip()) if base else url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.hostname.lower()
    if parts.port and parts.port != {"http": 80, "https": 443}[parts.scheme.lower()]:
        host = f"{host}:{parts.port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not _TRACKING.fullmatch(k)])
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", query, ""))
