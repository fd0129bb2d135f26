"""HTTP politeness shared by every data provider: token bucket, retries with backoff, a TTL read cache.

All of it lives in `PoliteSession`, a `requests.Session` subclass, because each vendor library
(alpaca-py, python-binance, newsapi-python) ends in a `requests.Session`: swapping in ours puts
every call behind the same limits without patching the libraries.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import pandas as pd
import requests

from tradebot.domain import BAR_COLUMNS
from tradebot.errors import DataError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A provider's documented request budget: `per_minute` units refill continuously, `burst` at once."""

    provider: str
    per_minute: float
    burst: float

    def __post_init__(self) -> None:
        if self.per_minute <= 0 or self.burst < 1:
            raise ValueError(f"{self.provider}: rate limit needs per_minute > 0 and burst >= 1")


# Documented limits. Alpaca: 200 requests/min on the free data plan. Binance: 6000 request
# weight/min per IP. Finnhub free: 60 calls/min. NewsAPI depends on the plan (developer: 100/day).
ALPACA_RATE = RateLimit("alpaca", 200, 20)
BINANCE_RATE = RateLimit("binance", 6000, 200)
FINNHUB_RATE = RateLimit("finnhub", 60, 10)


def newsapi_rate(requests_per_day: float = 100, burst: float = 5) -> RateLimit:
    """Return NewsAPI's limit for a plan given in requests per day (developer plan: 100)."""
    return RateLimit("newsapi", requests_per_day / 1440, burst)


class TokenBucket:
    """Thread-safe token bucket; callers reserve tokens under the lock and sleep outside it."""

    def __init__(self, limit: RateLimit, *, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.limit = limit
        self._rate = limit.per_minute / 60.0
        self._tokens = float(limit.burst)
        self._monotonic = monotonic
        self._sleep = sleep
        self._last = monotonic()
        self._lock = threading.Lock()

    def acquire(self, cost: float = 1.0) -> float:
        """Take `cost` tokens, waiting for them if needed; return the seconds waited."""
        with self._lock:
            now = self._monotonic()
            self._tokens = min(self.limit.burst, self._tokens + (now - self._last) * self._rate)
            self._last = now
            # Going negative is a reservation: later callers queue behind it, so waiting is fair (FIFO).
            self._tokens -= cost
            wait = -self._tokens / self._rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait

    def available(self) -> float:
        """Return the tokens available now (negative while callers are queued)."""
        with self._lock:
            return min(self.limit.burst, self._tokens + (self._monotonic() - self._last) * self._rate)


class TTLCache:
    """Thread-safe cache of successful idempotent reads, keyed by the redacted URL."""

    def __init__(self, ttl_seconds: float = 1800.0, *, monotonic: Callable[[], float] = time.monotonic,
                 max_entries: int = 4096) -> None:
        self.ttl = ttl_seconds
        self._monotonic = monotonic
        self._max = max_entries
        self._items: dict[str, tuple[float, requests.Response]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[requests.Response, float] | None:
        """Return (response, age in seconds) while fresh, else None."""
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            age = self._monotonic() - hit[0]
            if age > self.ttl:
                del self._items[key]
                return None
            return hit[1], age

    def urls(self) -> list[str]:
        """Return the cached keys (redacted URLs)."""
        with self._lock:
            return list(self._items)

    def put(self, key: str, response: requests.Response) -> None:
        """Store a response; the oldest entry goes when full."""
        with self._lock:
            if len(self._items) >= self._max:
                self._items.pop(next(iter(self._items)))
            self._items[key] = (self._monotonic(), response)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry 429, 5xx and timeouts."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    timeout: float | tuple[float, float] = (3.05, 20.0)
    statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Return the exponential delay before retry number `attempt` (1-based), with jitter."""
        # Jitter in [50%, 100%] spreads synchronized clients apart without shrinking the wait to zero.
        return min(self.max_delay, self.base_delay * 2 ** (attempt - 1)) * (0.5 + 0.5 * rng.random())


def retry_after_seconds(value: str | None) -> float | None:
    """Parse a Retry-After header (seconds or an HTTP date) into seconds from now."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def redact_url(url: str, secret_params: Collection[str]) -> str:
    """Return url with secret query parameters dropped and the rest sorted (a stable cache key)."""
    parts = urlsplit(url)
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in secret_params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


@dataclass
class Politeness:
    """Everything one provider's clients share: token bucket, retry policy and read cache."""

    limit: RateLimit
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    cache: TTLCache | None = field(default_factory=TTLCache)
    sleep: Callable[[float], None] = time.sleep
    bucket: TokenBucket = field(init=False)

    def __post_init__(self) -> None:
        self.bucket = TokenBucket(self.limit, sleep=self.sleep)

    @property
    def provider(self) -> str:
        """Return the provider name used in logs and errors."""
        return self.limit.provider

    def session(self, *, rewrite: Mapping[str, str] | None = None, secret_params: Collection[str] = (),
                cacheable: Callable[[str], bool] | None = None,
                weight: Callable[[str], float] | None = None) -> PoliteSession:
        """Return a new session bound to this provider's bucket, retry policy and cache."""
        return PoliteSession(self, rewrite=rewrite, secret_params=secret_params,
                             cacheable=cacheable, weight=weight)


class PoliteSession(requests.Session):
    """A requests.Session that rate-limits, retries, caches reads and raises DataError on final failure."""

    def __init__(self, politeness: Politeness, *, rewrite: Mapping[str, str] | None = None,
                 secret_params: Collection[str] = (), cacheable: Callable[[str], bool] | None = None,
                 weight: Callable[[str], float] | None = None) -> None:
        super().__init__()
        self.politeness = politeness
        self._rewrite = dict(rewrite or {})
        self._secret = frozenset(secret_params)
        self._cacheable = cacheable or (lambda path: "/latest" not in path)
        self._weight = weight or (lambda path: 1.0)
        self._rng = random.Random()

    def request(self, method, url, params=None, **kwargs):  # type: ignore[override]
        """Send one logical request: cached, rate-limited and retried."""
        for prefix, target in self._rewrite.items():
            if url.startswith(prefix):
                url = target + url[len(prefix):]
                break
        p = self.politeness
        # Libraries pass their own timeouts (NewsAPI 30 s, Binance 10 s); ours is the one policy.
        kwargs["timeout"] = p.retry.timeout
        safe_url = redact_url(requests.Request(method, url, params=params).prepare().url or url, self._secret)
        path = urlsplit(safe_url).path
        use_cache = p.cache is not None and method.upper() == "GET" and self._cacheable(path)
        if use_cache and (hit := p.cache.get(safe_url)) is not None:  # type: ignore[union-attr]
            log.info("%s cache hit: GET %s (age %.0f s)", p.provider, path, hit[1])
            return hit[0]
        response = self._send_with_retries(method, url, params, path, kwargs)
        if use_cache and response.status_code == 200:
            p.cache.put(safe_url, response)  # type: ignore[union-attr]
        return response

    def _send_with_retries(self, method: str, url: str, params, path: str, kwargs: dict) -> requests.Response:
        p = self.politeness
        what = f"{p.provider}: {method.upper()} {path}"
        for attempt in range(1, p.retry.attempts + 1):
            p.bucket.acquire(self._weight(path))
            try:
                response = super().request(method, url, params=params, **kwargs)
            except (requests.Timeout, requests.ConnectionError) as exc:
                kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
                if attempt == p.retry.attempts:
                    raise DataError(f"{what} {kind} after {attempt} attempts") from None
                delay = p.retry.backoff(attempt, self._rng)
                log.warning("%s %s (attempt %d); retrying in %.2f s", what, kind, attempt, delay)
                p.sleep(delay)
                continue
            if response.status_code not in p.retry.statuses:
                return response
            if attempt == p.retry.attempts:
                raise DataError(f"{what} failed with status {response.status_code} after {attempt} attempts")
            delay = p.retry.backoff(attempt, self._rng)
            told = retry_after_seconds(response.headers.get("Retry-After"))
            if told is not None:
                if told > p.retry.max_retry_after:
                    raise DataError(f"{what} status {response.status_code}: provider asks to wait {told:.0f} s, "
                                    f"more than the {p.retry.max_retry_after:.0f} s allowed")
                delay = max(delay, told)
            log.warning("%s status %d (attempt %d); retrying in %.2f s", what, response.status_code, attempt, delay)
            p.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


_EXTRA_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_ts(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (Z or offset, up to nanoseconds) into an aware UTC datetime."""
    dt = datetime.fromisoformat(_EXTRA_FRACTION.sub(r"\1", text.replace("Z", "+00:00")))
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)


def bars_frame(symbols: Sequence[str], ts: pd.DatetimeIndex | Sequence[datetime], timeframe: str,
               ohlcv: Sequence[Sequence[float]]) -> pd.DataFrame:
    """Return a BAR_COLUMNS frame (str symbols, UTC ts in us, float64 prices) sorted by symbol and ts."""
    o, h, low, c, v = (np.asarray(col, dtype="float64") for col in ohlcv)
    frame = pd.DataFrame({
        "symbol": pd.Series(symbols, dtype="str"),
        "timeframe": pd.Series([timeframe] * len(o), dtype="str"),
        "ts": pd.DatetimeIndex(pd.to_datetime(ts, utc=True)).as_unit("us"),
        "open": o, "high": h, "low": low, "close": c, "volume": v,
    }, columns=list(BAR_COLUMNS))
    return frame.sort_values(["symbol", "ts"], kind="stable").reset_index(drop=True)
