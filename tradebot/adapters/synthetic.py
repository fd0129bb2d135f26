"""Built-in synthetic market: seeded daily bars, news and earnings for the embedded default.

Conventions (the rest of the bot relies on them):
- Daily bars carry ts = the session date at 00:00 UTC, the bar's open time as Binance 1d klines
  count it; a bar is complete only at ts + 1 day. Stocks trade on XNYS sessions (weekends and
  holidays closed), crypto on every calendar day.
- Each random component draws from its own stream keyed by (seed, component, symbol), so a
  symbol's history does not depend on which other instruments are simulated, and a longer `end`
  extends the frames without changing earlier rows (moves that news near `end` would cause after
  it are simply cut off).
- news_per_day is the mean number of items per symbol per calendar day (stocks get a third of
  it on days the exchange is closed). News moves the next 1-3 sessions in its direction, so a
  sentiment strategy has a real but noisy edge; true_sentiment() tells tests what was intended.
"""

from __future__ import annotations

import warnings
import zlib
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd

from tradebot.adapters.synthetic_universe import (  # noqa: F401 - re-exported
    _BMO,
    _CLOSED_SCALE,
    _CRYPTO_TEMPLATES,
    _EARNINGS_EVERY,
    _GARCH_ALPHA,
    _GARCH_BETA,
    _MARKET_VOL,
    _MAX_VARIANCE,
    _NEWS_HIT_RATE,
    _NEWS_IMPACT,
    _PROFILES,
    _REGIME_DRIFT,
    _REGIME_P,
    _REGIME_VOL,
    _T_DOF,
    _TEMPLATES,
    DEFAULT_CRYPTO,
    DEFAULT_STOCKS,
    _Profile,
    _stock,
)
from tradebot.domain import (
    BAR_COLUMNS,
    DAILY,
    EarningsEvent,
    EarningsHour,
    Instrument,
    NewsItem,
    Symbol,
    make_news_id,
)


@dataclass(frozen=True, slots=True)
class _Planned:
    """A news item before it becomes a NewsItem: what the generator meant by it."""

    symbol: str
    published_at: datetime
    headline: str
    sentiment: float
    url: str


class SyntheticMarket:
    """A seeded, deterministic market of correlated stocks and crypto with news and earnings."""

    def __init__(self, seed: int, start: date, end: date,
                 instruments: Sequence[Instrument] = DEFAULT_STOCKS + DEFAULT_CRYPTO,
                 news_per_day: float = 1.5) -> None:
        if end < start:
            raise ValueError(f"synthetic market: end {end} is before start {start}")
        symbols = [i.symbol for i in instruments]
        if len(set(symbols)) != len(symbols):
            raise ValueError(f"synthetic market: duplicate symbols in {symbols}")
        self.seed, self.start, self.end = seed, start, end
        self.instruments = tuple(instruments)
        self.news_per_day = news_per_day
        self._days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
        sessions = _nyse_sessions(start, end + timedelta(days=140))  # room to schedule the next report
        self._sessions = sessions
        self._open = np.isin(self._days, sessions)
        self._profiles = [_profile(i) for i in self.instruments]
        self._planned: list[_Planned] = []
        self._events: list[tuple[EarningsEvent, datetime]] = []
        self._bars = self._simulate()
        self._news: list[NewsItem] | None = None
        self._truth: dict[str, float] = {}

    def bars(self) -> pd.DataFrame:
        """Return daily bars of every instrument over the whole range (BAR_COLUMNS contract)."""
        return self._bars.copy()

    def news(self, now: datetime) -> list[NewsItem]:
        """Return items published at or before now, oldest first, stamped as ingested at now."""
        if now.tzinfo is None:
            raise ValueError(f"synthetic market: now must be timezone-aware UTC, got naive {now.isoformat()}")
        items = self._items()
        cut = bisect_right([n.published_at for n in items], now)
        return [replace(n, ingested_at=now) for n in items[:cut]]

    def earnings(self, now: datetime | None = None) -> list[EarningsEvent]:
        """Return reports in the range plus each stock's next one; actuals only once released (now or end)."""
        if now is not None and now.tzinfo is None:
            raise ValueError(f"synthetic market: now must be timezone-aware UTC, got naive {now.isoformat()}")
        out = []
        for event, released in self._events:
            # Reports after `end` were never simulated, so their actuals stay unknown whatever now is.
            known = event.date <= self.end and (now is None or released <= now)
            out.append(event if known else replace(event, eps_actual=None))
        return out

    def true_sentiment(self) -> dict[str, float]:
        """Return news id -> the sentiment in [-1, 1] the generator intended (for tests)."""
        self._items()
        return dict(self._truth)

    # -- simulation ---------------------------------------------------------------------------

    def _rng(self, *keys: str) -> np.random.Generator:
        # One stream per component and symbol: adding a symbol or extending the range leaves others alone.
        return np.random.default_rng([self.seed, *(zlib.crc32(k.encode()) for k in keys)])

    def _simulate(self) -> pd.DataFrame:
        n_days, n_sym = len(self._days), len(self.instruments)
        if n_sym == 0 or n_days == 0:
            return _empty_bars()
        regime = self._regimes(n_days)
        vol_mult = _REGIME_VOL[regime]
        sectors = sorted({p.sector for p in self._profiles})
        names = ["market", *sectors, *(f"idio:{i.symbol}" for i in self.instruments)]
        shocks = np.column_stack([self._rng("shock", k).standard_t(_T_DOF, n_days) for k in names])
        # Unit variance, and no 12-sigma days: one such draw would dominate a short backtest.
        shocks = np.clip(shocks / np.sqrt(_T_DOF / (_T_DOF - 2.0)), -6.0, 6.0)
        cond_sd = _garch_sd(shocks)
        eps = shocks * cond_sd  # unit-variance GARCH innovations
        # Each symbol = market + its sector + its own part (loadings in return units). Summed
        # column by column, not by matmul, so a symbol's path is bit-identical in any universe.
        sector_col = np.array([1 + sectors.index(p.sector) for p in self._profiles])
        idio_col = np.arange(n_sym) + 1 + len(sectors)
        betas = np.array([p.beta for p in self._profiles])
        m_load, s_load = betas * _MARKET_VOL, np.array([p.sector_vol for p in self._profiles])
        vols = np.array([p.vol for p in self._profiles])
        i_load = np.sqrt(np.maximum(vols ** 2 - m_load ** 2 - s_load ** 2, (0.3 * vols) ** 2))
        is_stock = np.array([not i.is_crypto for i in self.instruments])
        scale = np.ones((n_days, n_sym))
        scale[np.ix_(~self._open, is_stock)] = _CLOSED_SCALE
        noise = eps[:, [0]] * m_load + eps[:, sector_col] * s_load + eps[:, idio_col] * i_load
        noise *= vol_mult[:, None]
        var = (cond_sd[:, [0]] * m_load) ** 2 + (cond_sd[:, sector_col] * s_load) ** 2 \
            + (cond_sd[:, idio_col] * i_load) ** 2
        sd = np.sqrt(var) * vol_mult[:, None] * scale
        rets = scale * (noise + _REGIME_DRIFT[regime][:, None] * betas[None, :])
        trade_days = [np.flatnonzero(self._open) if s else np.arange(n_days) for s in is_stock]
        rets += self._news_moves(trade_days)
        rets += self._earnings_moves()
        log_close = np.log([p.price for p in self._profiles])[None, :] + np.cumsum(rets, axis=0)
        frames = [self._ohlcv(j, trade_days[j], rets[:, j], log_close[:, j], sd[:, j]) for j in range(n_sym)]
        df = pd.concat(frames, ignore_index=True) if frames else _empty_bars()
        return df.sort_values(["symbol", "ts"], kind="stable").reset_index(drop=True)

    def _regimes(self, n_days: int) -> np.ndarray:
        u = self._rng("regime").random(n_days)
        cum = np.cumsum(_REGIME_P, axis=1)
        out = np.empty(n_days, dtype=np.int64)
        state = 0
        for t in range(n_days):
            state = min(int(np.searchsorted(cum[state], u[t])), 2)
            out[t] = state
        return out

    def _ohlcv(self, j: int, idx: np.ndarray, rets: np.ndarray, log_close: np.ndarray,
               sd: np.ndarray) -> pd.DataFrame:
        inst, prof = self.instruments[j], self._profiles[j]
        noise = self._rng("bar", inst.symbol).standard_normal((len(self._days), 4))[idx]
        prev = np.concatenate([[np.log(prof.price)], log_close[idx][:-1]])
        close, day_sd, day_ret = log_close[idx], sd[idx], rets[idx]
        # Overnight gap = moves of closed days since the last session + part of today's move.
        carried = close - day_ret - prev
        if inst.is_crypto:
            gap = 0.0002 * noise[:, 0]  # 24/7: the day opens where the last one closed
        else:
            gap = carried + 0.25 * day_ret + 0.1 * day_sd * noise[:, 0]
        o, c = np.exp(prev + gap), np.exp(close)
        high = np.maximum(o, c) * np.exp(0.5 * day_sd * np.abs(noise[:, 1]))
        low = np.minimum(o, c) * np.exp(-0.5 * day_sd * np.abs(noise[:, 2]))
        move = np.abs(close - prev) / np.maximum(day_sd, 1e-9)
        volume = prof.volume * np.exp(0.5 * (move - 0.8) + 0.3 * noise[:, 3])  # busy when it moves
        volume = np.round(volume, 4) if inst.is_crypto else np.round(volume)
        ts = pd.DatetimeIndex(self._days[idx].astype("datetime64[us]")).tz_localize("UTC")
        return pd.DataFrame({
            "symbol": pd.Series([str(inst.symbol)] * len(idx), dtype="str"), "timeframe": DAILY, "ts": ts,
            "open": o, "high": high, "low": low, "close": c, "volume": volume.astype("float64"),
        }, columns=list(BAR_COLUMNS))

    def _news_moves(self, trade_days: list[np.ndarray]) -> np.ndarray:
        n_days = len(self._days)
        moves = np.zeros((n_days, len(self.instruments)))
        for j, (inst, prof) in enumerate(zip(self.instruments, self._profiles, strict=True)):
            rate = np.full(n_days, self.news_per_day)
            if not inst.is_crypto:
                rate[~self._open] /= 3.0
            counts = self._rng("news-count", inst.symbol).poisson(rate)
            day = np.repeat(np.arange(n_days), counts)
            # One row of uniforms per item, so the stream stays aligned when the range grows.
            u = self._rng("news-item", inst.symbol).random((len(day), 6))
            sign = np.where(u[:, 0] < 0.375, 1, np.where(u[:, 0] < 0.75, -1, 0))  # symmetric: no free drift
            strength = 0.4 + 0.6 * u[:, 1]
            minute = (u[:, 2] * 1440).astype(np.int64)
            hits = (u[:, 3] < _NEWS_HIT_RATE) & (sign != 0)
            span = 1 + (u[:, 4] * 3).astype(np.int64)  # the move spreads over 1-3 sessions
            size = sign * strength * _NEWS_IMPACT * prof.vol * hits
            same_day = np.ones(len(day), bool) if inst.is_crypto else self._open[day]
            same_day &= minute < 20 * 60  # reacts today only if out before the close
            np.add.at(moves[:, j], day[same_day], 0.3 * size[same_day])
            rest = np.where(same_day, 0.7, 1.0) * size / span
            days = trade_days[j]
            first = np.searchsorted(days, day, side="right")  # strictly after the publication day
            for k in range(3):
                ok = (span > k) & (first + k < len(days))
                np.add.at(moves[:, j], days[first[ok] + k], rest[ok])
            templates = _CRYPTO_TEMPLATES if inst.is_crypto else _TEMPLATES
            slug = _slug(inst.symbol)
            for k, (d, m, s, st, t) in enumerate(zip(day.tolist(), minute.tolist(), sign.tolist(),
                                                     strength.tolist(), u[:, 5].tolist(), strict=True)):
                pool = templates[s]
                headline = pool[int(t * len(pool))].format(name=prof.short)
                at = _at(self._days[d], minute=m)
                url = f"https://news.example/synthetic/{slug}/{at:%Y%m%d-%H%M}-n{k}"
                self._planned.append(_Planned(inst.symbol, at, headline, s * st if s else 0.0, url))
        return moves

    def _earnings_moves(self) -> np.ndarray:
        n_days = len(self._days)
        moves = np.zeros((n_days, len(self.instruments)))
        sessions = self._sessions
        in_range = sessions[sessions <= np.datetime64(self.end, "D")]
        # Calendar-day row of every session (rows past the range fall outside [0, n_days)).
        row_of = (sessions - self._days[0]).astype(np.int64)
        for j, (inst, prof) in enumerate(zip(self.instruments, self._profiles, strict=True)):
            if inst.is_crypto or len(in_range) == 0:
                continue
            rng = self._rng("earnings", inst.symbol)
            pos, level = int(rng.integers(3, _EARNINGS_EVERY)), prof.eps
            while pos < len(sessions):
                when = sessions[pos].astype(date)
                estimate = round(level * (1 + 0.04 * rng.standard_normal()), 2)
                surprise = 0.03 + 0.07 * rng.standard_normal()  # companies beat more often than not
                actual = round(estimate + abs(estimate) * surprise, 2)
                shock = float(np.clip(0.3 * surprise, -0.1, 0.1) + prof.vol * rng.standard_normal())
                bmo = prof.hour is EarningsHour.BEFORE_OPEN
                released = datetime.combine(when, time(11, 30) if bmo else time(21, 15), UTC)
                qtr_end = (when.month - 1) // 3 or 4  # the calendar quarter just ended
                year = when.year if qtr_end != 4 else when.year - 1
                event = EarningsEvent(inst.symbol, when, prof.hour, estimate, actual,
                                      quarter=qtr_end, year=year)
                self._events.append((event, released))
                if when > self.end:
                    break  # the next report is scheduled, not yet known
                react = pos if bmo else pos + 1  # after the close, the next session takes the hit
                if react < len(sessions) and row_of[react] < n_days:
                    moves[row_of[react], j] += shock
                word = "beats" if actual > estimate else "misses" if actual < estimate else "matches"
                tone = float(np.clip(5 * (actual - estimate) / max(abs(estimate), 0.01), -1, 1))
                headline = f"{prof.short} {word} quarterly estimates: EPS {actual:.2f} vs {estimate:.2f}"
                url = f"https://news.example/synthetic/{_slug(inst.symbol)}/{when:%Y%m%d}-earnings"
                self._planned.append(_Planned(inst.symbol, released, headline, tone, url))
                level *= 1 + 0.015 + 0.03 * rng.standard_normal()
                pos += _EARNINGS_EVERY + int(rng.integers(-3, 4))
        self._events.sort(key=lambda e: (e[0].date, e[0].symbol))
        return moves

    def _items(self) -> list[NewsItem]:
        if self._news is None:
            items = []
            for p in sorted(self._planned, key=lambda p: (p.published_at, p.symbol, p.url)):
                nid = make_news_id("synthetic", p.url, p.headline)
                summary = f"Synthetic market report about {p.symbol}."
                items.append(NewsItem(nid, "synthetic", p.headline, summary, p.url, (Symbol(p.symbol),),
                                      p.published_at, p.published_at))
                self._truth[nid] = p.sentiment
            self._news = items
        return self._news


def _garch_sd(shocks: np.ndarray) -> np.ndarray:
    """Return GARCH(1,1) conditional stdevs (unit long-run variance) for each column of unit shocks."""
    omega = 1.0 - _GARCH_ALPHA - _GARCH_BETA
    h = np.ones(shocks.shape[1])
    out = np.empty_like(shocks)
    for t in range(shocks.shape[0]):
        out[t] = np.sqrt(h)
        h = np.minimum(omega + _GARCH_ALPHA * (out[t] * shocks[t]) ** 2 + _GARCH_BETA * h, _MAX_VARIANCE)
    return out


def _profile(inst: Instrument) -> _Profile:
    known = _PROFILES.get(inst.symbol)
    if known is not None:
        return known
    # An unknown symbol still gets a stable, plausible character derived from its name.
    h = zlib.crc32(inst.symbol.encode())
    if inst.is_crypto:
        return _Profile(inst.name, 1.0 + h % 200, 0.05, 0.5, "crypto", 0.03, 1e6)
    hour = EarningsHour.BEFORE_OPEN if h % 2 else EarningsHour.AFTER_CLOSE
    price = 20.0 + h % 480
    return _Profile(inst.name, price, 0.02, 1.0, "other", 0.006, 5e6, round(price / 80, 2), hour)


def _slug(symbol: str) -> str:
    return symbol.lower().replace("/", "-")


def _at(day: np.datetime64, minute: int) -> datetime:
    return datetime.combine(day.astype(date), time(minute // 60, minute % 60), UTC)


@lru_cache(maxsize=16)
def _xnys_sessions(first_year: int, last_year: int) -> np.ndarray:
    """Return every XNYS session of the given years as datetime64[D] (cached: building a calendar is slow)."""
    import exchange_calendars as xcals  # slow import: only when a market is built

    with warnings.catch_warnings():
        # exchange_calendars 4.13 still reads Series.values, which pandas 3.1 deprecates: not ours to fix.
        warnings.simplefilter("ignore", DeprecationWarning)
        cal = xcals.get_calendar("XNYS", start=f"{first_year}-01-01", end=f"{last_year}-12-31")
    return cal.sessions.values.astype("datetime64[D]")


def _nyse_sessions(first: date, last: date) -> np.ndarray:
    """Return XNYS session dates in [first, last] as datetime64[D]."""
    all_sessions = _xnys_sessions(first.year, last.year)
    lo, hi = np.datetime64(first, "D"), np.datetime64(last, "D")
    return all_sessions[(all_sessions >= lo) & (all_sessions <= hi)]


def _empty_bars() -> pd.DataFrame:
    dtypes = {"symbol": "str", "timeframe": "str", "ts": "datetime64[us, UTC]"}
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "float64")) for c in BAR_COLUMNS})
