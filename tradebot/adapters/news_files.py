"""News from a JSON-lines file: one article per line with source, headline, url, symbols, published_at."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from tradebot.domain import NewsItem, Symbol, make_news_id
from tradebot.errors import DataError

REQUIRED = ("headline", "url", "symbols", "published_at")


def read_news_jsonl(path: Path, ingested_at: datetime) -> list[NewsItem]:
    """Parse the file; DataError names the file, the line and the problem."""
    if not path.is_file():
        raise DataError(f"{path}: no such news file")
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
        missing = [k for k in REQUIRED if not row.get(k)]
        if missing:
            raise DataError(f"{path}:{n}: missing {', '.join(missing)}; each line needs {', '.join(REQUIRED)}")
        try:
            published = datetime.fromisoformat(str(row["published_at"]).replace("Z", "+00:00"))
        except ValueError:
            raise DataError(f"{path}:{n}: published_at {row['published_at']!r} is not an ISO-8601 time") from None
        if published.tzinfo is None:
            raise DataError(f"{path}:{n}: published_at must carry a timezone (e.g. 2026-01-05T14:30:00Z)")
        source = str(row.get("source") or "file")
        symbols = row["symbols"] if isinstance(row["symbols"], list) else str(row["symbols"]).split(",")
        items.append(NewsItem(id=make_news_id(source, row["url"], row["headline"]), source=source,
                              headline=str(row["headline"]), summary=str(row.get("summary") or ""), url=str(row["url"]),
                              symbols=tuple(Symbol(str(s).strip().upper()) for s in symbols if str(s).strip()),
                              published_at=published, ingested_at=max(ingested_at, published)))
    if not items:
        raise DataError(f"{path}: no news items; write one JSON object per line")
    return items


class FileNewsFeed:
    """Serves the articles of a JSON-lines file (a NewsFeed)."""

    name = "file"

    def __init__(self, path: Path, ingested_at: datetime) -> None:
        self.path = path
        self._items = read_news_jsonl(path, ingested_at)

    def request_news(self, symbols: Sequence[str], start: datetime, end: datetime) -> list[NewsItem]:
        """Return items about symbols published in [start, end)."""
        wanted = set(symbols)
        return [i for i in self._items if start <= i.published_at < end and wanted.intersection(i.symbols)]

    def span(self) -> tuple[datetime, datetime]:
        """Return the first and last publication times in the file."""
        times = [i.published_at for i in self._items]
        return min(times), max(times)
