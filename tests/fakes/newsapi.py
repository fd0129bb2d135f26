"""FakeNewsAPIServer: NewsAPI.org /v2/everything and /v2/top-headlines, errors in NewsAPI's format."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from tests.fakes.faults import FakeServer, Recorded, Reply

EVERYTHING = "/v2/everything"
TOP_HEADLINES = "/v2/top-headlines"
_CODES = {400: "parameterInvalid", 401: "apiKeyInvalid", 426: "maximumResultsReached", 429: "rateLimited",
          500: "unexpectedError"}


def article(title: str, published_at: datetime, url: str, description: str = "", source: str = "Reuters") -> dict:
    """Return one article in NewsAPI's format."""
    return {"source": {"id": source.lower(), "name": source}, "author": "Staff", "title": title,
            "description": description, "url": url, "urlToImage": None,
            "publishedAt": published_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "content": f"{description} [+1200 chars]"}


def _when(text: str) -> datetime:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


class FakeNewsAPIServer(FakeServer):
    """NewsAPI: q is OR-ed terms matched case-insensitively; `max_results` mimics the developer plan's 100."""

    def __init__(self, articles: Iterable[dict] = (), headlines: Iterable[dict] = (), *, api_key: str = "news-key",
                 max_results: int = 100) -> None:
        super().__init__()
        self.articles = list(articles)
        self.headlines = list(headlines)
        self.api_key = api_key
        self.max_results = max_results

    def error(self, status: int, message: str) -> Reply:
        """NewsAPI errors: {"status": "error", "code": ..., "message": ...}."""
        return Reply(status, {"status": "error", "code": _CODES.get(status, "unexpectedError"), "message": message})

    def unknown(self, symbol: str) -> Reply:
        """NewsAPI has no symbols; an unknown source is its nearest equivalent."""
        return Reply(400, {"status": "error", "code": "sourceDoesNotExist", "message": f"unknown source {symbol}"})

    def empty(self, req: Recorded) -> Reply:
        """No matching articles."""
        return Reply(200, {"status": "ok", "totalResults": 0, "articles": []})

    def route(self, req: Recorded, skew_seconds: float) -> Reply:
        """Serve /v2/everything and /v2/top-headlines."""
        key = req.headers.get("x-api-key") or req.headers.get("authorization") or req.query.get("apiKey")
        if not key:
            return Reply(401, {"status": "error", "code": "apiKeyMissing",
                               "message": "Your API key is missing. Append this to the URL with the apiKey param, "
                                          "or use the x-api-key HTTP header."})
        if key != self.api_key:
            return Reply(401, {"status": "error", "code": "apiKeyInvalid",
                               "message": "Your API key is invalid or incorrect."})
        if req.path == EVERYTHING:
            if not req.query.get("q"):
                return Reply(400, {"status": "error", "code": "parametersMissing",
                                   "message": "Required parameters are missing."})
            pool = [a for a in self.articles if self._in_range(a, req)]
        elif req.path == TOP_HEADLINES:
            pool = list(self.headlines)
        else:
            return self.error(404, "not found")
        if q := req.query.get("q"):
            pool = [a for a in pool if _matches(q, a)]
        pool.sort(key=lambda a: a["publishedAt"], reverse=True)
        size, page = int(req.query.get("pageSize", 100)), int(req.query.get("page", 1))
        if (page - 1) * size >= self.max_results and page > 1:
            return Reply(426, {"status": "error", "code": "maximumResultsReached",
                               "message": f"You have requested too many results. Developer accounts are limited to "
                                          f"a max of {self.max_results} results."})
        chosen = pool[(page - 1) * size: page * size]
        if skew_seconds:
            chosen = [{**a, "publishedAt": (_when(a["publishedAt"]) + timedelta(seconds=skew_seconds))
                       .strftime("%Y-%m-%dT%H:%M:%SZ")} for a in chosen]
        return Reply(200, {"status": "ok", "totalResults": len(pool), "articles": chosen})

    @staticmethod
    def _in_range(a: dict, req: Recorded) -> bool:
        at = _when(a["publishedAt"])
        lo = _when(req.query["from"]) if "from" in req.query else None
        hi = _when(req.query["to"]) if "to" in req.query else None
        return (lo is None or at >= lo) and (hi is None or at <= hi)


def _matches(q: str, a: dict) -> bool:
    text = f"{a.get('title') or ''} {a.get('description') or ''} {a.get('content') or ''}".lower()
    terms = [t.strip().strip('"()').lower() for t in re.split(r"\s+OR\s+", q)]
    return any(t and t in text for t in terms)
