"""Array forms of the technical strategies and the signal processor, for the backtester.

Each function computes, for every bar of every series at once, what the per-snapshot code in
strategies/technical.py and strategies/processor.py returns at that bar's close: same windows (each
series' own last N bars by position), same seeds, same thresholds. tests/unit/test_backtest_vectorized.py
proves the equality on the same data. Inputs are (T x N) float64 arrays with no gaps inside a
column; `per_column` runs a function on each column's own bars when columns have gaps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from strategies.technical import BollingerReversion, EmaCross, RsiReversion, SmaCross


@dataclass(frozen=True)
class SignalArrays:
    """One strategy's signals on every bar: a vote where `active`, plus exits that apply only to a holding.

    direction: +1 LONG, -1 SHORT, 0 FLAT; strength: signed, in [-1, 1]; exit_long / exit_short: where a
    held long / short gets a FLAT vote when no entry fires (the reversion strategies' exits).
    """

    name: str
    active: np.ndarray  # bool (T, N)
    direction: np.ndarray  # int8 (T, N)
    strength: np.ndarray  # float (T, N), 0 where FLAT
    confidence: float | np.ndarray  # a constant, or per bar and symbol (news volume)
    exit_long: np.ndarray | None = None
    exit_short: np.ndarray | None = None

    def confidence_at(self, rows: np.ndarray | slice | int) -> float | np.ndarray:
        """Return the confidence at rows."""
        return self.confidence[rows] if isinstance(self.confidence, np.ndarray) else self.confidence


def per_column(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray, fill: float = np.nan) -> np.ndarray:
    """Apply fn (bars x columns -> same shape) to each column's own bars, skipping rows where it has none."""
    ok = ~np.isnan(x)
    if ok.all():
        return fn(x)
    out = np.full(x.shape, fill, dtype=float)
    for j in range(x.shape[1]):
        rows = np.flatnonzero(ok[:, j])
        if len(rows) == 0:
            continue
        if rows[-1] - rows[0] + 1 == len(rows):  # one contiguous block: a view, no gather
            out[rows[0]:rows[-1] + 1, j] = fn(x[rows[0]:rows[-1] + 1, j:j + 1])[:, 0]
        else:
            out[rows, j] = fn(x[rows, j:j + 1])[:, 0]
    return out


BLOCK = 4096  # prefix sums restart every BLOCK rows, so their rounding error never grows with the series' length


def rolling_sums(x: np.ndarray, *windows: int) -> list[np.ndarray]:
    """Return the sum of the last n rows at each row for each window n <= BLOCK (NaN before n rows exist).

    One blocked prefix sum serves every window; within a block a window sum is a difference of two
    prefixes, and a window straddling a block start adds the previous block's total. Error stays near
    BLOCK x eps x |x| (relative ~1e-12), so equal true averages stay within the TIE tolerance.
    """
    T, N = x.shape
    for n in windows:
        if not 1 <= n <= BLOCK:
            raise ValueError(f"window {n} must be between 1 and {BLOCK}")
    full = T // BLOCK
    prefix = np.empty((T, N))
    if full:
        np.cumsum(x[:full * BLOCK].reshape(full, BLOCK, N), axis=1,
                  out=prefix[:full * BLOCK].reshape(full, BLOCK, N))
    if full * BLOCK < T:
        np.cumsum(x[full * BLOCK:], axis=0, out=prefix[full * BLOCK:])
    starts = range(BLOCK, T, BLOCK)
    out = []
    for n in windows:
        s = np.empty((T, N))
        s[:n - 1] = np.nan
        if n <= T:
            s[n - 1:] = prefix[n - 1:]
            s[n:] -= prefix[:T - n]
            for start in starts:  # rows at offsets < n of each later block reach back into the previous block
                s[start:start + n] += prefix[start - 1]
        out.append(s)
    return out


def rolling_means(x: np.ndarray, *windows: int) -> list[np.ndarray]:
    """Return the mean of the last n rows at each row for each window n (NaN before n rows exist)."""
    return [s / n for s, n in zip(rolling_sums(x, *windows), windows, strict=True)]


def rolling_mean(x: np.ndarray, n: int) -> np.ndarray:
    """Return the mean of the last n rows at each row (NaN before n rows exist)."""
    return rolling_means(x, n)[0]


def decayed_sums(x: np.ndarray, decay: float) -> np.ndarray:
    """Return S_t = sum_k decay^k x_(t-k) over all rows so far (no NaN in x), for every row."""
    T, N = x.shape
    if T == 0:
        return np.zeros((0, N))
    # Blocks short enough that decay^-B stays below 1e12: inside a block S is decay^i x cumsum(x_k decay^-k),
    # a few vectorized passes; a carry links the blocks.
    size = int(max(1, min(256, np.floor(np.log(1e12) / -np.log(decay))))) if 0 < decay < 1 else 256
    nb = -(-T // size)
    padded = np.zeros((nb * size, N))
    padded[:T] = x
    i = np.arange(size, dtype=float)
    local = np.cumsum(padded.reshape(nb, size, N) * (decay ** -i)[None, :, None], axis=1)
    local *= (decay ** i)[None, :, None]
    carry = np.zeros((nb, N))
    tail = decay ** size
    for blk in range(1, nb):  # one N-vector step per block, not per row
        carry[blk] = local[blk - 1, -1] + tail * carry[blk - 1]
    local += carry[:, None, :] * (decay ** (i + 1))[None, :, None]
    return local.reshape(nb * size, N)[:T]


def seeded_ema(x: np.ndarray, alpha: float, window: int) -> np.ndarray:
    """Return pandas' ewm(alpha, adjust=False) of the last `window` rows (seeded at the window's first row), per row."""
    decay = 1.0 - alpha
    s = decayed_sums(x, decay)
    t = np.arange(x.shape[0])
    start = np.maximum(t - window + 1, 0)
    span = (t - start).astype(float)[:, None]
    w = decay ** span
    # e_t = decay^m x_s + alpha * (S_t - decay^m S_s) with m = t - s: the recursion started fresh at row s.
    return w * x[start] + alpha * (s - w * s[start])


def window_ewm(x: np.ndarray, decay: float, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return, over the last `window` rows, sum_k decay^k x_(t-k), the same sum of weights of observed rows
    (NaN counts as unseen), and the count of observed rows."""
    T = x.shape[0]
    tail = decay ** window
    ok = ~np.isnan(x)
    if ok.all():
        num = decayed_sums(x, decay)
        num[window:] -= tail * num[:-window].copy()
        seen = np.minimum(np.arange(1, T + 1), window).astype(float)[:, None]
        den = (1.0 - decay ** seen) / (1.0 - decay)
        return num, np.broadcast_to(den, x.shape), np.broadcast_to(seen, x.shape)
    s = decayed_sums(np.where(ok, x, 0.0), decay)
    d = decayed_sums(ok.astype(float), decay)
    num, den = s.copy(), d.copy()
    num[window:] -= tail * s[:-window]
    den[window:] -= tail * d[:-window]
    cum = np.cumsum(ok, axis=0)
    count = cum.copy()
    count[window:] -= cum[:-window]
    return np.where(den > 1e-300, num, np.nan), den, count


TIE = 1e-11  # |fast - slow| / slow below this is a tie: equal averages, whatever the float rounding says


def _cross_arrays(name: str, spread: np.ndarray, allow_short: bool, confidence: float) -> SignalArrays:
    spread = np.where(np.abs(spread) <= TIE, 0.0, spread)
    active = ~np.isnan(spread)
    long_ = spread > 0
    short = (spread < 0) & allow_short
    direction = np.where(long_, 1, np.where(short, -1, 0)).astype(np.int8)
    mag = np.minimum(1.0, np.abs(np.nan_to_num(spread)) * 20)
    strength = np.where(long_, mag, np.where(short, -mag, 0.0))
    return SignalArrays(name, active, direction, strength, confidence)


def sma_long(close: np.ndarray, strategy: SmaCross) -> np.ndarray:
    """Return where SmaCross votes LONG (fast SMA above slow by more than a tie), without strengths: the hot path."""
    def one(c: np.ndarray) -> np.ndarray:
        fast, slow = rolling_sums(c, strategy.fast, strategy.slow)
        fast *= 1.0 / strategy.fast
        slow *= (1.0 + TIE) / strategy.slow
        return fast > slow  # NaN compares False: no vote before `slow` bars

    if not np.isnan(close).any():
        return one(close)
    return per_column(lambda c: one(c).astype(float), close, fill=0.0) > 0


def sma_cross(close: np.ndarray, strategy: SmaCross) -> SignalArrays:
    """Return SmaCross's signals on every bar."""
    def spread_of(c: np.ndarray) -> np.ndarray:
        fast, slow = rolling_means(c, strategy.fast, strategy.slow)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (fast - slow) / slow

    spread = per_column(spread_of, close)
    return _cross_arrays(strategy.name, spread, strategy.allow_short, strategy.confidence)


def ema_cross(close: np.ndarray, strategy: EmaCross) -> SignalArrays:
    """Return EmaCross's signals on every bar (EMAs seeded at the start of its 3 x slow window)."""
    window = 3 * strategy.slow

    def both(c: np.ndarray) -> np.ndarray:
        fast = seeded_ema(c, 2.0 / (strategy.fast + 1), window)
        slow = seeded_ema(c, 2.0 / (strategy.slow + 1), window)
        enough = (np.arange(c.shape[0]) >= strategy.slow - 1)[:, None]
        return np.where(enough, (fast - slow) / slow, np.nan)

    return _cross_arrays(strategy.name, per_column(both, close), strategy.allow_short, strategy.confidence)


def wilder_rsi(close: np.ndarray, period: int) -> np.ndarray:
    """Return the per-snapshot Wilder RSI (over the last 4 x period + 1 closes) at every row."""
    def one(c: np.ndarray) -> np.ndarray:
        out = np.full(c.shape, np.nan)
        if c.shape[0] < 2:
            return out
        delta = np.diff(c, axis=0)
        alpha, window = 1.0 / period, 4 * period
        gain = seeded_ema(np.clip(delta, 0, None), alpha, window)
        loss = seeded_ema(np.clip(-delta, 0, None), alpha, window)
        with np.errstate(divide="ignore", invalid="ignore"):
            rsi = 100.0 - 100.0 / (1.0 + gain / loss)
        rsi = np.where(loss > 0, rsi, np.where(gain > 0, 100.0, 50.0))
        enough = (np.arange(1, c.shape[0]) >= period)[:, None]  # min_periods counts deltas
        out[1:] = np.where(enough, rsi, np.nan)
        return out

    return per_column(one, close)


def _reversion(name: str, value: np.ndarray, strength: np.ndarray, low: float, high: float, exit_long: float,
               exit_short: float, allow_short: bool) -> SignalArrays:
    seen = ~np.isnan(value)
    longs = seen & (value <= low)
    shorts = seen & ~longs & (value >= high) & allow_short
    direction = np.where(longs, 1, np.where(shorts, -1, 0)).astype(np.int8)
    signed = np.clip(np.where(longs, np.abs(strength), np.where(shorts, -np.abs(strength), 0.0)), -1.0, 1.0)
    entry = longs | shorts
    return SignalArrays(name, entry, direction, np.nan_to_num(signed), 0.5,
                        seen & ~entry & (value >= exit_long), seen & ~entry & (value <= exit_short))


def rsi_reversion(close: np.ndarray, strategy: RsiReversion) -> SignalArrays:
    """Return RsiReversion's entries and its exits for holdings on every bar."""
    rsi = wilder_rsi(close, strategy.period)
    depth = np.fmax((strategy.oversold - rsi) / strategy.oversold, (rsi - strategy.overbought)
                    / (100 - strategy.overbought))
    strength = np.clip(0.5 + depth, 0.0, 1.0)
    return _reversion(strategy.name, rsi, strength, strategy.oversold, strategy.overbought, strategy.exit_level,
                      100 - strategy.exit_level, strategy.allow_short)


def bollinger_z(close: np.ndarray, window: int) -> np.ndarray:
    """Return (close - mean) / std (ddof 0) over the last `window` closes at every row; NaN when flat."""
    def one(c: np.ndarray) -> np.ndarray:
        out = np.full(c.shape, np.nan)
        if c.shape[0] < window:
            return out
        view = np.lib.stride_tricks.sliding_window_view(c, window, axis=0)  # (T-w+1, N, w)
        mean = view.mean(axis=-1)
        std = view.std(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[window - 1:] = np.where(std > 0, (c[window - 1:] - mean) / std, np.nan)
        return out

    return per_column(one, close)


def bollinger_reversion(close: np.ndarray, strategy: BollingerReversion) -> SignalArrays:
    """Return BollingerReversion's entries and its exits for holdings on every bar."""
    z = bollinger_z(close, strategy.window)
    strength = np.clip(np.abs(z) / (2 * strategy.k), 0.0, 1.0)
    return _reversion(strategy.name, z, strength, -strategy.k, strategy.k, strategy.exit_z, -strategy.exit_z,
                      strategy.allow_short)


_ARRAY_FORMS: dict[type, Callable] = {SmaCross: sma_cross, EmaCross: ema_cross, RsiReversion: rsi_reversion,
                                      BollingerReversion: bollinger_reversion}


def has_array_form(strategy: object) -> bool:
    """Return True when the backtester can run strategy as arrays."""
    from strategies.news import NewsSentimentStrategy

    return type(strategy) in _ARRAY_FORMS or isinstance(strategy, NewsSentimentStrategy)


def signal_arrays(strategy: object, close: np.ndarray, *, now: np.ndarray | None = None,
                  keys: Sequence[str] = (), news: pd.DataFrame | None = None) -> SignalArrays:
    """Return the array form of strategy's signals over close (news strategies also need now, keys and news)."""
    from strategies.news import NewsSentimentStrategy

    if isinstance(strategy, NewsSentimentStrategy):
        from strategies.vectorized_news import news_sentiment

        if now is None:
            raise ValueError("news_sentiment needs the bars' decision times")
        empty = pd.DataFrame(columns=["news_id", "symbol", "source", "published_at", "compound"])
        return news_sentiment(now, keys, empty if news is None else news, strategy)
    form = _ARRAY_FORMS.get(type(strategy))
    if form is None:
        raise ValueError(f"strategy {getattr(strategy, 'name', strategy)!r} has no array form; array forms exist "
                         f"for news_sentiment and {', '.join(sorted(t.__name__ for t in _ARRAY_FORMS))} (the "
                         "event-driven `tradebot replay` runs every strategy)")
    return form(close, strategy)


def held_votes(sig: SignalArrays, held_side: np.ndarray, rows: np.ndarray | slice | int) -> tuple[np.ndarray,
                                                                                                  np.ndarray]:
    """Return (active, signed strength) at rows, adding the FLAT exit votes for the given holdings."""
    active, strength = sig.active[rows], sig.strength[rows]
    if sig.exit_long is None or sig.exit_short is None:
        return active, strength
    exits = (sig.exit_long[rows] & (held_side > 0)) | (sig.exit_short[rows] & (held_side < 0))
    return active | exits, np.where(exits, 0.0, strength)


def combine(votes: Sequence[tuple[np.ndarray, np.ndarray, float | np.ndarray]], weight_per_unit: float,
            weights: Mapping[str, float] | None = None, names: Sequence[str] = (), default_weight: float = 1.0,
            conflict_ratio: float = 0.5, conflict_scale: float = 0.0) -> np.ndarray:
    """Return targets_from_signals' weight from (active, signed strength, confidence) per strategy; NaN = no view.

    Pre-earnings flags are not modelled here (no array form of the earnings strategy).
    """
    if not votes:
        raise ValueError("combine needs at least one strategy's votes")
    weights = weights or {}
    shape = np.shape(votes[0][0])
    mass_sum, num, longs, shorts = (np.zeros(shape) for _ in range(4))
    for i, (active, strength, conf) in enumerate(votes):
        w = weights.get(names[i], default_weight) if i < len(names) else default_weight
        m = np.where(active, w * np.asarray(conf), 0.0)
        x = np.where(active, strength, 0.0)
        mass_sum += m
        num += x * m
        longs += np.where(x > 0, m * x, 0.0)
        shorts += np.where(x < 0, -m * x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        combined = num / mass_sum
        ratio = np.minimum(longs, shorts) / np.maximum(longs, shorts)
    conflict = (longs > 0) & (shorts > 0) & (ratio >= conflict_ratio)
    combined = np.where(conflict, combined * conflict_scale, combined)
    return np.where(mass_sum > 0, np.round(combined * weight_per_unit, 6), np.nan)
