"""News de-duplication across sources by normalized URL and normalized title."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode, urlsplit

from tradebot.domain import NewsItem

# Query parameters that track the reader, not identify the article.
_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|mc_cid|mc_eid|cmpid|ref|src|soc_src|soc_trk|guccounter|taid)$", re.I)
# NewsAPI titles end in " - Publisher"; Alpaca's do not. Only capitalised short tails count as a
# publisher, so "Apple Q3 - iPhone sales up" keeps its tail and does not collide with other stories.
_PUBLISHER_SUFFIX = re.compile(r"\s+[-|\u2013\u2014]\s+(?:[A-Z0-9][\w.&']*\s?){1,5}$")
_NON_WORD = re.compile(r"[^\w\s]")
_SPACE = re.compile(r"\s+")


def normalize_url(url: str) -> str:
    """Return a comparable form of url: no scheme, www, fragment, tracking params or trailing slash."""
    if not url.strip():
        return ""
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.").removesuffix(":443").removesuffix(":80")
    if host.startswith(("m.", "amp.")):
        host = host.split(".", 1)[1]
    path = re.sub(r"/(amp|index\.html?)/?$", "", parts.path).rstrip("/")
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not _TRACKING.match(k)))
    return f"{host}{path}" + (f"?{query}" if query else "")


def normalize_title(title: str) -> str:
    """Return a comparable form of title: folded case and accents, no publisher suffix or punctuation."""
    text = _PUBLISHER_SUFFIX.sub("", title.strip())
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _SPACE.sub(" ", _NON_WORD.sub(" ", text.casefold())).strip()


def dedupe_news(items: Iterable[NewsItem]) -> list[NewsItem]:
    """Collapse items that share a normalized URL or title into the earliest-published one.

    The kept item keeps its own published_at and ingested_at (so the no-lookahead rule still holds)
    and gains the union of the group's symbols; output is ordered by published_at.
    """
    groups: list[list[NewsItem]] = []
    by_key: dict[str, int] = {}
    for item in items:
        keys = [k for k in (f"u:{normalize_url(item.url)}", f"t:{normalize_title(item.headline)}")
                if k not in ("u:", "t:")]
        found = {by_key[k] for k in keys if k in by_key}
        if not found:
            index = len(groups)
            groups.append([item])
        else:
            # An item can bridge two groups (same URL as one, same title as the other): merge them.
            index, *others = sorted(found)
            groups[index].append(item)
            for other in others:
                groups[index].extend(groups[other])
                groups[other] = []
                for k, v in list(by_key.items()):
                    if v == other:
                        by_key[k] = index
        for k in keys:
            by_key[k] = index
    out = []
    for group in groups:
        if not group:
            continue
        keep = min(group, key=lambda n: (n.published_at, n.ingested_at, n.source, n.id))
        symbols = tuple(dict.fromkeys(s for n in sorted(group, key=lambda n: n is not keep) for s in n.symbols))
        out.append(replace(keep, symbols=symbols) if symbols != keep.symbols else keep)
    return sorted(out, key=lambda n: (n.published_at, n.id))
