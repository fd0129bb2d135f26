"""Binance spot klines through python-binance: the backup price feed for crypto."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import pandas as pd
from binance.client import Client
from binance.exceptions import BinanceAPIException, BinanceRequestException

from tradebot.adapters.http import BINANCE_RATE, Politeness, RetryPolicy, bars_frame
from tradebot.errors import DataError

# Our timeframe spelling (Alpaca's) -> Binance kline interval.
INTERVALS = {"1Min": "1m", "3Min": "3m", "5Min": "5m", "15Min": "15m", "30Min": "30m", "1Hour": "1h",
             "2Hour": "2h", "4Hour": "4h", "1Day": "1d", "1Week": "1w"}
_INTERVAL_MS = {"1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000, "1h": 3_600_000,
                "2h": 7_200_000, "4h": 14_400_000, "1d": 86_400_000, "1w": 604_800_000}
# Request weights from Binance's spot API docs; the bucket counts weight, not requests.
_WEIGHTS = {"/api/v3/klines": 2.0, "/api/v3/exchangeInfo": 20.0}
KLINES_MAX = 1000
BINANCE_RETRY = RetryPolicy(statuses=frozenset({418, 429, 500, 502, 503, 504}))  # 418: IP ban, with Retry-After


def binance_weight(path: str) -> float:
    """Return the request weight Binance charges for path."""
    return _WEIGHTS.get(path, 1.0)


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


@contextmanager
def binance_errors(endpoint: str, symbol: str = "") -> Iterator[None]:
    """Translate python-binance failures into DataError naming the endpoint, status and symbol."""
    try:
        yield
    except BinanceAPIException as exc:
        if exc.code == -1121:
            raise DataError(f"binance does not know symbol {symbol} ({endpoint}, status {exc.status_code})") from None
        raise DataError(f"binance: GET {endpoint} failed with status {exc.status_code}: "
                        f"code {exc.code} {str(exc.message)[:200]}") from None
    except (BinanceRequestException, ValueError):
        raise DataError(f"binance: GET {endpoint} returned malformed JSON") from None


class BinancePriceFeed:
    """PriceFeed over Binance spot klines; maps BTC/USD <-> BTCUSDT."""

    name = "binance"

    def __init__(self, base_url: str, clock: Callable[[], datetime], *, api_key: str | None = None,
                 api_secret: str | None = None, timeframe: str = "1Min",
                 quote_map: Mapping[str, str] | None = None, politeness: Politeness | None = None) -> None:
        if timeframe not in INTERVALS:
            raise DataError(f"binance: timeframe {timeframe!r} is not one of {', '.join(INTERVALS)}")
        self.timeframe = timeframe
        self._interval = INTERVALS[timeframe]
        self._base_url = base_url.rstrip("/")
        self._key, self._secret = api_key, api_secret
        self.clock = clock
        # Binance quotes dollars as USDT; a USD pair here means the USDT book there.
        self._quotes = dict(quote_map or {"USD": "USDT"})
        self.politeness = politeness or Politeness(BINANCE_RATE, BINANCE_RETRY)
        self._local = threading.local()

    @property
    def client(self) -> Client:
        """Return this thread's python-binance client, pointed at base_url behind our politeness."""
        if (c := getattr(self._local, "client", None)) is None:
            c = Client(self._key, self._secret, ping=False)  # ping=False: no network at construction
            c.API_URL = f"{self._base_url}/api"
            session = self.politeness.session(weight=binance_weight,
                                              cacheable=lambda p: p == "/api/v3/klines")
            session.headers.update(c.session.headers)
            c.session.close()
            c.session = session
            self._local.client = c
        return c

    def venue_symbol(self, symbol: str) -> str:
        """Map BTC/USD to BTCUSDT; a symbol that is not a pair raises DataError naming it."""
        base, sep, quote = symbol.partition("/")
        if not sep or not base or not quote:
            raise DataError(f"binance does not list {symbol}: only crypto pairs like BTC/USD")
        return f"{base}{self._quotes.get(quote, quote)}".upper()

    def request_bars(self, symbols: Sequence[str], start: datetime, end: datetime) -> pd.DataFrame:
        """Return BAR_COLUMNS bars with start <= ts < end, paging through klines 1000 at a time."""
        syms: list[str] = []
        rows: list[list] = []
        for symbol in dict.fromkeys(symbols):
            got = self._klines(symbol, self.venue_symbol(symbol), _ms(start), _ms(end) - 1)
            syms += [symbol] * len(got)
            rows += got
        try:
            ts = pd.to_datetime([r[0] for r in rows], unit="ms", utc=True)
            cols = [[float(r[i]) for r in rows] for i in range(1, 6)]
        except (IndexError, TypeError, ValueError) as exc:
            raise DataError(f"binance: GET /api/v3/klines returned klines in an unexpected shape ({exc!r})") from None
        return bars_frame(syms, ts, self.timeframe, cols)

    def _klines(self, symbol: str, venue: str, start_ms: int, end_ms: int) -> list[list]:
        out: list[list] = []
        step = _INTERVAL_MS[self._interval]
        while start_ms <= end_ms:
            with binance_errors("/api/v3/klines", symbol):
                page = self.client.get_klines(symbol=venue, interval=self._interval, startTime=start_ms,
                                              endTime=end_ms, limit=KLINES_MAX)
            if not isinstance(page, list):
                raise DataError("binance: GET /api/v3/klines returned klines in an unexpected shape")
            out += page
            if len(page) < KLINES_MAX:
                break
            # Klines are keyed by open time; resume one interval after the last one seen.
            start_ms = int(page[-1][0]) + step
        return out

    def server_time(self) -> datetime:
        """Return Binance's clock (to measure skew against ours)."""
        with binance_errors("/api/v3/time"):
            return datetime.fromtimestamp(self.client.get_server_time()["serverTime"] / 1000, UTC)

    def ping(self) -> bool:
        """Return True when the REST API answers."""
        with binance_errors("/api/v3/ping"):
            return self.client.ping() == {}

    def listed(self) -> set[str]:
        """Return the trading pairs Binance lists, in Binance spelling."""
        with binance_errors("/api/v3/exchangeInfo"):
            info = self.client.get_exchange_info()
        return {s["symbol"] for s in info.get("symbols", []) if s.get("status") == "TRADING"}
