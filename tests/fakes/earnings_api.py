"""FakeFinnhubServer: Finnhub's /api/v1/calendar/earnings on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from tests.fakes.faults import FakeServer, Recorded, Reply

CALENDAR = "/api/v1/calendar/earnings"
DEFAULT_TOKEN = "finnhub-token"


def earnings_row(symbol: str, day: date, hour: str = "amc", eps_estimate: float | None = 1.0,
                 eps_actual: float | None = None, quarter: int = 1, year: int | None = None) -> dict:
    """Return one calendar row in Finnhub's format."""
    return {"date": day.isoformat(), "epsActual": eps_actual, "epsEstimate": eps_estimate, "hour": hour,
            "quarter": quarter, "revenueActual": None if eps_actual is None else 1.2e9,
            "revenueEstimate": 1.1e9, "symbol": symbol, "year": year or day.year}


class FakeFinnhubServer(FakeServer):
    """Finnhub earnings calendar filtered by from/to (inclusive) and optional symbol; token required."""

    def __init__(self, rows: Iterable[dict] = (), *, token: str = DEFAULT_TOKEN) -> None:
        super().__init__()
        self.rows = list(rows)
        self.token = token

    def error(self, status: int, message: str) -> Reply:
        """Finnhub errors: {"error": ...}."""
        if status == 429:
            message = "API limit reached. Please try again later. Remaining Limit: 0"
        return Reply(status, {"error": message})

    def unknown(self, symbol: str) -> Reply:
        """Finnhub answers an unknown symbol with an empty calendar."""
        return Reply(200, {"earningsCalendar": []})

    def empty(self, req: Recorded) -> Reply:
        """An empty calendar."""
        return Reply(200, {"earningsCalendar": []})

    def route(self, req: Recorded, skew_seconds: float) -> Reply:
        """Serve the earnings calendar."""
        if req.query.get("token") != self.token and req.headers.get("x-finnhub-token") != self.token:
            return Reply(401, {"error": "Invalid API key"})
        if req.path != CALENDAR:
            return self.error(404, "Not found")
        lo = date.fromisoformat(req.query.get("from", "1900-01-01"))
        hi = date.fromisoformat(req.query.get("to", "2999-12-31"))
        sym = req.query.get("symbol")
        shift = timedelta(seconds=skew_seconds)
        rows = [{**r, "date": (date.fromisoformat(r["date"]) + shift).isoformat()} if shift else r
                for r in self.rows if lo <= date.fromisoformat(r["date"]) <= hi and (not sym or r["symbol"] == sym)]
        return Reply(200, {"earningsCalendar": rows})
