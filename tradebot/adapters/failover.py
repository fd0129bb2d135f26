"""A PriceFeed that serves crypto from a primary (Alpaca) and fails over to a backup (Binance)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import pandas as pd

from tradebot.adapters.ports import PriceFeed
from tradebot.errors import DataError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FeedSwitch:
    """One change of the active crypto feed, for the caller to store and alert on."""

    at: datetime
    from_feed: str
    to_feed: str
    reason: Literal["error", "lag", "recovered"]
    detail: str
    symbols: tuple[str, ...]
    kind: Literal["feed_switch"] = "feed_switch"


class FailoverPriceFeed:
    """Crypto from `primary` unless it fails or lags, then from `backup`; other symbols only from primary.

    After a switch the primary is tried again once `retry_primary_after` has passed; a healthy answer
    switches back (recorded as "recovered").
    """

    def __init__(self, primary: PriceFeed, backup: PriceFeed, clock: Callable[[], datetime], *,
                 max_lag: timedelta = timedelta(minutes=5), retry_primary_after: timedelta = timedelta(minutes=5),
                 is_crypto: Callable[[str], bool] = lambda s: "/" in s) -> None:
        self.primary, self.backup = primary, backup
        self.name = f"{primary.name}+{backup.name}"
        self.clock = clock
        self.max_lag = max_lag
        self.retry_primary_after = retry_primary_after
        self._is_crypto = is_crypto
        self.switches: list[FeedSwitch] = []
        self.active = primary.name
        self._failed_at: datetime | None = None
        self._lock = threading.Lock()

    def request_bars(self, symbols: Sequence[str], start: datetime, end: datetime) -> pd.DataFrame:
        """Return bars with start <= ts < end; crypto may come from the backup."""
        crypto = [s for s in symbols if self._is_crypto(s)]
        others = [s for s in symbols if not self._is_crypto(s)]
        frames = [self.primary.request_bars(others, start, end)] if others else []
        if crypto:
            frames.append(self._crypto(crypto, start, end))
        frames = [f for f in frames if len(f)]
        if not frames:
            return self.primary.request_bars([], start, end)  # an empty, correctly typed frame; no request
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    def _crypto(self, symbols: list[str], start: datetime, end: datetime) -> pd.DataFrame:
        now = self.clock()
        if self.active == self.backup.name and self._failed_at and now - self._failed_at < self.retry_primary_after:
            return self._from_backup(symbols, start, end, None)
        try:
            bars = self.primary.request_bars(symbols, start, end)
        except DataError as exc:
            return self._from_backup(symbols, start, end, ("error", str(exc)))
        if (lagging := self._lagging(bars, symbols, end, now)) is not None:
            return self._from_backup(symbols, start, end, ("lag", lagging))
        if self.active != self.primary.name:
            self._record(now, self.backup.name, self.primary.name, "recovered", "primary answered in time", symbols)
            self._failed_at = None
        return bars

    def _lagging(self, bars: pd.DataFrame, symbols: list[str], end: datetime, now: datetime) -> str | None:
        # Lag only means something for a window reaching the present; a historical window is just history.
        horizon = min(end, now)
        if now - horizon > self.max_lag:
            return None
        newest = bars.groupby("symbol")["ts"].max() if len(bars) else pd.Series(dtype="datetime64[us, UTC]")
        late = []
        for s in symbols:
            ts = newest.get(s)
            if ts is None or horizon - ts.to_pydatetime() > self.max_lag:
                late.append(f"{s} newest {'none' if ts is None else ts.isoformat()}")
        return f"older than {self.max_lag} at {horizon.isoformat()}: " + "; ".join(late) if late else None

    def _from_backup(self, symbols: list[str], start: datetime, end: datetime,
                     why: tuple[Literal["error", "lag"], str] | None) -> pd.DataFrame:
        now = self.clock()
        if why is not None:
            if self.active != self.backup.name:
                self._record(now, self.primary.name, self.backup.name, why[0], why[1], symbols)
            self._failed_at = now
        try:
            return self.backup.request_bars(symbols, start, end)
        except DataError as exc:
            cause = why[1] if why else "primary on hold after an earlier failure"
            raise DataError(f"no crypto feed answered: {self.primary.name}: {cause}; "
                            f"{self.backup.name}: {exc}") from None

    def _record(self, at: datetime, from_feed: str, to_feed: str, reason: Literal["error", "lag", "recovered"],
                detail: str, symbols: list[str]) -> None:
        event = FeedSwitch(at, from_feed, to_feed, reason, detail[:500], tuple(symbols))
        with self._lock:
            self.active = to_feed
            self.switches.append(event)
        log.warning("price feed switch %s -> %s (%s): %s", from_feed, to_feed, reason, detail[:200])
