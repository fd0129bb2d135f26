"""Data-quality gate for news items: plain Python, since batches are small and rules are per item."""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from tradebot.domain.news import NewsItem
from tradebot.quality.outcome import ExpectationOutcome, GateOutcome

log = logging.getLogger(__name__)

REQUIRED = ("id", "source", "headline", "url", "published_at")
RULE_NAMES: tuple[str, ...] = (
    *(f"{f}_present" for f in REQUIRED),
    "published_at_tz_aware",
    "published_at_not_future",
    "url_valid",
    "not_duplicate",
)
MAX_LISTED = 10
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize_url(url: str) -> str:
    """Return the URL's identity for de-duplication: lowercase host and path, no query/fragment/slash."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    # Scheme and default ports are dropped: http:// and https:// copies of a story are one story.
    port = f":{parts.port}" if parts.port not in (None, 80, 443) else ""
    return f"{host}{port}{parts.path.rstrip('/')}"


def normalize_title(title: str) -> str:
    """Return the headline's identity for de-duplication: casefolded words, punctuation dropped."""
    text = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(_NON_WORD.sub(" ", text).split())


def _url_ok(url: str) -> bool:
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(host) and not any(ch.isspace() for ch in host or "")


def _present(value: object) -> bool:
    if value is None:
        return False
    return bool(value.strip()) if isinstance(value, str) else True


def _item_failures(item: NewsItem, now: datetime) -> list[str]:
    """Return the names of the per-item rules this item breaks (duplicates are judged afterwards)."""
    failed = [f"{f}_present" for f in REQUIRED if not _present(getattr(item, f, None))]
    published = getattr(item, "published_at", None)
    if isinstance(published, datetime):
        if published.tzinfo is None or published.utcoffset() is None:
            failed.append("published_at_tz_aware")
        elif published > now:
            failed.append("published_at_not_future")
    elif published is not None:
        failed.append("published_at_tz_aware")  # not a datetime at all: cannot be placed in time
    url = getattr(item, "url", None)
    if _present(url) and not (isinstance(url, str) and _url_ok(url)):
        failed.append("url_valid")
    return failed


def validate_news(items: Sequence[NewsItem], *, batch: str, now: datetime) -> GateOutcome:
    """Validate news items; bad and duplicate items are quarantined with the rules they broke."""
    started = time.perf_counter()
    if now.tzinfo is None:
        raise ValueError("validate_news: now must be timezone-aware (UTC)")
    failures: list[list[str]] = [_item_failures(item, now) for item in items]

    # Only items that are otherwise good claim a story: a broken first copy must not shadow a valid
    # later copy of the same story.
    seen: set[tuple[str, str]] = set()
    for item, failed in zip(items, failures, strict=True):
        if failed:
            continue
        keys = {("id", item.id.strip()), ("url", normalize_url(item.url))}
        title = normalize_title(item.headline)
        if title:
            keys.add(("title", title))
        if keys & seen:
            failed.append("not_duplicate")
        else:
            seen |= keys

    good = [item for item, failed in zip(items, failures, strict=True) if not failed]
    quarantined = [(item, ",".join(failed)) for item, failed in zip(items, failures, strict=True) if failed]
    outcomes = []
    for name in RULE_NAMES:
        hits = [i for i, failed in enumerate(failures) if name in failed]
        shown = ", ".join(str(getattr(items[i], "id", i) or i) for i in hits[:MAX_LISTED])
        outcomes.append(ExpectationOutcome(
            expectation=name,
            column=name.rsplit("_", 1)[0] if name.endswith("_present") else _COLUMN.get(name),
            success=not hits, unexpected_count=len(hits), element_count=len(items),
            details=f"failing ids: [{shown}]" + (" ..." if len(hits) > MAX_LISTED else "") if hits else "",
        ))
    outcome = GateOutcome(
        batch=batch, kind="news", good=good, quarantined=quarantined, expectations=tuple(outcomes),
        success=not quarantined, seconds=time.perf_counter() - started,
    )
    log.info("quality gate %s", outcome.summary())
    return outcome


_COLUMN = {
    "published_at_tz_aware": "published_at",
    "published_at_not_future": "published_at",
    "url_valid": "url",
    "not_duplicate": None,
}
