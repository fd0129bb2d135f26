"""FakeBinanceServer: Binance spot REST (klines, ping, time, a minimal exchangeInfo) on 127.0.0.1."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime

from tests.fakes.faults import FakeServer, Recorded, Reply

KLINES = "/api/v3/klines"


def klines(start: datetime, count: int, price: float = 60_000.0, interval_ms: int = 60_000) -> list[list]:
    """Return `count` klines in Binance's array format (strings for decimals, ms for times)."""
    out, close, t0 = [], price, int(start.timestamp() * 1000)
    for i in range(count):
        open_ = close
        close = round(open_ * (1 + 0.0004 * math.sin(i * 0.9)), 2)
        hi, lo = max(open_, close) * 1.0003, min(open_, close) * 0.9997
        opened = t0 + i * interval_ms
        out.append([opened, f"{open_:.8f}", f"{hi:.8f}", f"{lo:.8f}", f"{close:.8f}", f"{12.5 + i % 5:.8f}",
                    opened + interval_ms - 1, f"{close * 12.5:.8f}", 100 + i, "6.00000000", f"{close * 6:.8f}", "0"])
    return out


class FakeBinanceServer(FakeServer):
    """Binance spot market data; `max_limit` below 1000 forces the client to page."""

    def __init__(self, klines_by_symbol: Mapping[str, list[list]] | None = None, *, server_time_ms: int = 0,
                 max_limit: int = 1000) -> None:
        super().__init__()
        self.klines = {s: sorted(k, key=lambda r: r[0]) for s, k in (klines_by_symbol or {}).items()}
        self.server_time_ms = server_time_ms
        self.max_limit = max_limit

    def error(self, status: int, message: str) -> Reply:
        """Binance errors: {"code": -NNNN, "msg": ...}."""
        code = {429: -1003, 400: -1100}.get(status, -1000)
        return Reply(status, {"code": code, "msg": message})

    def unknown(self, symbol: str) -> Reply:
        """Binance's reply for a symbol it does not list."""
        return Reply(400, {"code": -1121, "msg": "Invalid symbol."})

    def empty(self, req: Recorded) -> Reply:
        """An empty kline page."""
        return Reply(200, [])

    def route(self, req: Recorded, skew_seconds: float) -> Reply:
        """Serve klines, ping, time and exchangeInfo."""
        if req.path == "/api/v3/ping":
            return Reply(200, {})
        if req.path == "/api/v3/time":
            return Reply(200, {"serverTime": self.server_time_ms + int(skew_seconds * 1000)})
        if req.path == "/api/v3/exchangeInfo":
            return Reply(200, {"timezone": "UTC", "serverTime": self.server_time_ms,
                               "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
                                               "intervalNum": 1, "limit": 6000}],
                               "exchangeFilters": [],
                               "symbols": [{"symbol": s, "status": "TRADING", "baseAsset": s[:-4],
                                            "quoteAsset": s[-4:]} for s in self.klines]})
        if req.path == KLINES:
            return self._klines(req, skew_seconds)
        return self.error(404, "not found")

    def _klines(self, req: Recorded, skew: float) -> Reply:
        symbol = req.query.get("symbol", "")
        if symbol not in self.klines:
            return self.unknown(symbol)
        start = int(req.query.get("startTime", 0))
        end = int(req.query.get("endTime", 2**62))
        limit = min(int(req.query.get("limit", 500)), self.max_limit)
        rows = [k for k in self.klines[symbol] if start <= k[0] <= end][:limit]
        shift = int(skew * 1000)
        if shift:
            rows = [[k[0] + shift, *k[1:6], k[6] + shift, *k[7:]] for k in rows]
        return Reply(200, rows, {"X-MBX-USED-WEIGHT-1M": str(2 * len(self.requests))})
