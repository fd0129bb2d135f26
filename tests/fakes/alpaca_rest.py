"""FakeAlpacaServer: Alpaca's market-data REST API (bars, latest trades/quotes, news) on 127.0.0.1."""

from __future__ import annotations

import base64
import bisect
import math
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from tests.fakes.faults import FakeServer, Recorded, Reply

STOCK_BARS = "/v2/stocks/bars"
CRYPTO_BARS = "/v1beta3/crypto/us/bars"
NEWS = "/v1beta1/news"


def rfc3339(ts: datetime | float) -> str:
    """Format a datetime or epoch seconds the way Alpaca does (UTC, Z suffix)."""
    dt = ts if isinstance(ts, datetime) else datetime.fromtimestamp(ts, UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def minute_bars(start: datetime, count: int, price: float = 100.0, step: timedelta = timedelta(minutes=1),
                seed: int = 0) -> list[dict]:
    """Return `count` bars in Alpaca's JSON format (t/o/h/l/c/v/n/vw), a gentle deterministic walk."""
    bars, close = [], price
    for i in range(count):
        open_ = close
        close = round(open_ * (1 + 0.0005 * math.sin(i * 0.7 + seed)), 4)
        hi, lo = max(open_, close) * 1.0002, min(open_, close) * 0.9998
        bars.append({"t": rfc3339(start + i * step), "o": open_, "h": round(hi, 4), "l": round(lo, 4),
                     "c": close, "v": 1000 + (i * 37 + seed) % 500, "n": 10 + i % 7, "vw": round((hi + lo) / 2, 4)})
    return bars


def news_item(nid: int, headline: str, symbols: list[str], created_at: datetime, url: str,
              source: str = "benzinga", summary: str = "") -> dict:
    """Return one article in Alpaca's /v1beta1/news format."""
    stamp = rfc3339(created_at)
    return {"id": nid, "headline": headline, "author": "Staff", "created_at": stamp, "updated_at": stamp,
            "summary": summary, "content": "", "images": [], "symbols": symbols, "source": source, "url": url}


class _Indexed:
    """Bars of one symbol with their epoch times, for bisecting by time range."""

    def __init__(self, bars: list[dict]) -> None:
        pairs = sorted(((_epoch(b["t"]), b) for b in bars), key=lambda p: p[0])
        self.times = [p[0] for p in pairs]
        self.bars = [p[1] for p in pairs]

    def between(self, start: float, end: float) -> list[dict]:
        return self.bars[bisect.bisect_left(self.times, start): bisect.bisect_right(self.times, end)]


class FakeAlpacaServer(FakeServer):
    """Alpaca market data v2 / v1beta3 / news, paginating with next_page_token like the real API."""

    def __init__(self, stock_bars: Mapping[str, list[dict]] | None = None,
                 crypto_bars: Mapping[str, list[dict]] | None = None,
                 latest_trades: Mapping[str, dict] | None = None, latest_quotes: Mapping[str, dict] | None = None,
                 news: Iterable[dict] = (), *, max_page_size: int = 10_000, rate_limit_per_minute: int | None = None,
                 require_auth: bool = True) -> None:
        super().__init__()
        self.stock = {s: _Indexed(b) for s, b in (stock_bars or {}).items()}
        self.crypto = {s: _Indexed(b) for s, b in (crypto_bars or {}).items()}
        self.latest_trades = dict(latest_trades or {})
        self.latest_quotes = dict(latest_quotes or {})
        self.news = list(news)
        self.max_page_size = max_page_size
        self.rate_limit = rate_limit_per_minute
        self.require_auth = require_auth
        self.throttled = 0  # requests answered 429 by the fake's own rate limit
        self._window: deque[float] = deque()
        self._rl_lock = threading.Lock()

    def error(self, status: int, message: str) -> Reply:
        """Alpaca errors: {"code": ..., "message": ...}."""
        return Reply(status, {"code": status * 100000 + 1, "message": message})

    def unknown(self, symbol: str) -> Reply:
        """Alpaca answers 400 for a symbol it cannot resolve."""
        return self.error(400, f"invalid symbol: {symbol}")

    def empty(self, req: Recorded) -> Reply:
        """An empty page of whichever entity the path serves."""
        if req.path == NEWS:
            return Reply(200, {"news": [], "next_page_token": None})
        key = "trades" if "trades" in req.path else "quotes" if "quotes" in req.path else "bars"
        return Reply(200, {key: {}, "next_page_token": None} if key == "bars" else {key: {}})

    def route(self, req: Recorded, skew_seconds: float) -> Reply:
        """Serve bars, latest trades/quotes and news."""
        if self.require_auth and not req.path.startswith("/v1beta3/crypto") and not (
                req.headers.get("apca-api-key-id") and req.headers.get("apca-api-secret-key")):
            return Reply(401, {"message": "unauthorized."})
        if (limited := self._rate_limited()) is not None:
            return limited
        symbols = [s for s in req.query.get("symbols", "").split(",") if s]
        if req.path in (STOCK_BARS, CRYPTO_BARS):
            return self._bars(req, symbols, self.stock if req.path == STOCK_BARS else self.crypto, skew_seconds)
        if req.path.endswith(("/trades/latest", "/latest/trades")):
            return Reply(200, {"trades": self._latest(self.latest_trades, symbols, skew_seconds)})
        if req.path.endswith(("/quotes/latest", "/latest/quotes")):
            return Reply(200, {"quotes": self._latest(self.latest_quotes, symbols, skew_seconds)})
        if req.path == NEWS:
            return self._news(req, symbols, skew_seconds)
        return self.error(404, "endpoint not found")

    def _rate_limited(self) -> Reply | None:
        if self.rate_limit is None:
            return None
        now = time.monotonic()
        with self._rl_lock:
            while self._window and now - self._window[0] > 60:
                self._window.popleft()
            if len(self._window) >= self.rate_limit:
                self.throttled += 1
                return Reply(429, {"code": 42910000, "message": "rate limit exceeded"},
                             {"X-RateLimit-Limit": str(self.rate_limit), "X-RateLimit-Remaining": "0"})
            self._window.append(now)
        return None

    def _bars(self, req: Recorded, symbols: list[str], book: dict[str, _Indexed], skew: float) -> Reply:
        if not symbols:
            return self.error(422, "symbols is required")
        if missing := [s for s in symbols if s not in book]:
            return self.unknown(missing[0])
        start = _epoch(req.query["start"]) if "start" in req.query else 0.0
        end = _epoch(req.query["end"]) if "end" in req.query else math.inf
        limit = min(int(req.query.get("limit") or 1000), self.max_page_size)
        offset = int(base64.b64decode(req.query["page_token"]).decode()) if req.query.get("page_token") else 0
        flat = [(s, b) for s in sorted(symbols) for b in book[s].between(start, end)]
        page = flat[offset: offset + limit]
        out: dict[str, list[dict]] = {}
        for sym, bar in page:
            out.setdefault(sym, []).append(_shift(bar, skew))
        more = offset + limit < len(flat)
        token = base64.b64encode(str(offset + limit).encode()).decode() if more else None
        return Reply(200, {"bars": out, "next_page_token": token})

    def _latest(self, table: dict[str, dict], symbols: list[str], skew: float) -> dict:
        # Like Alpaca, unknown symbols are simply absent from the map.
        return {s: _shift(table[s], skew) for s in symbols if s in table}

    def _news(self, req: Recorded, symbols: list[str], skew: float) -> Reply:
        start = _epoch(req.query["start"]) if "start" in req.query else 0.0
        end = _epoch(req.query["end"]) if "end" in req.query else math.inf
        wanted = set(symbols)
        hits = [n for n in self.news if (not wanted or wanted.intersection(n["symbols"]))
                and start <= _epoch(n["created_at"]) <= end]
        hits.sort(key=lambda n: n["created_at"], reverse=req.query.get("sort", "desc") == "desc")
        limit = min(int(req.query.get("limit") or 10), 50)
        offset = int(base64.b64decode(req.query["page_token"]).decode()) if req.query.get("page_token") else 0
        page = [_shift(n, skew, "created_at", "updated_at") for n in hits[offset: offset + limit]]
        token = base64.b64encode(str(offset + limit).encode()).decode() if offset + limit < len(hits) else None
        return Reply(200, {"news": page, "next_page_token": token})


def _shift(item: dict, skew: float, *keys: str) -> dict:
    if not skew:
        return item
    return {**item, **{k: rfc3339(_epoch(item[k]) + skew) for k in (keys or ("t",))}}
