"""Array form of the news-sentiment strategy: its decayed, source-weighted, novel-news score at every bar.

At a bar whose decision time is `now`, an item counts when published_at <= now and its age is within
the lookback; a re-sent story (same symbol and news id) counts once, at its earliest copy inside the
window, exactly as NewsSentimentStrategy._scores does. Items are spread over the bars they are
visible at (a ragged gather), so the cost is items x bars-per-lookback, not bars x items.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from strategies.news import NewsSentimentStrategy
from strategies.vectorized import SignalArrays

HOUR_NS = 3_600_000_000_000
CHUNK = 4_000_000  # item-bar pairs gathered at once, to bound memory on minute bars


def _ns(ts: pd.Series) -> np.ndarray:
    t = pd.to_datetime(ts, utc=True).dt.tz_localize(None)
    return t.to_numpy(dtype="datetime64[ns]").astype(np.int64)


def news_scores(now: np.ndarray, keys: Sequence[str], news: pd.DataFrame,
                strategy: NewsSentimentStrategy) -> tuple[np.ndarray, np.ndarray]:
    """Return (score, weight sum) per bar and symbol; score is NaN where no item counts."""
    T, N = len(now), len(keys)
    num = np.zeros(T * N)
    den = np.zeros(T * N)
    col_of = {k: j for j, k in enumerate(keys)}
    df = news[news["symbol"].astype(str).isin(col_of)] if len(news) else news
    if len(df):
        col = df["symbol"].astype(str).map(col_of).to_numpy(dtype=np.int64)
        frame = pd.DataFrame({"col": col, "id": df["news_id"].astype(str).to_numpy(), "p": _ns(df["published_at"]),
                              "c": df["compound"].to_numpy(dtype=float),
                              "w": df["source"].astype(str).map(
                                  lambda s: strategy.source_weights.get(s, strategy.default_source_weight)
                              ).to_numpy(dtype=float)})
        frame = frame.sort_values(["col", "id", "p"], kind="stable").drop_duplicates(["col", "id", "p"])
        lookback = int(strategy.lookback_hours * HOUR_NS)
        same = (frame["col"].to_numpy()[1:] == frame["col"].to_numpy()[:-1]) & \
            (frame["id"].to_numpy()[1:] == frame["id"].to_numpy()[:-1])
        prev = np.full(len(frame), np.iinfo(np.int64).min // 2)
        p = frame["p"].to_numpy()
        prev[1:][same] = p[:-1][same]
        # A later copy counts only once every earlier copy has aged out of the window.
        start = np.maximum(p, prev + lookback + 1)
        end = p + lookback
        lo = np.searchsorted(now, start, side="left")
        hi = np.searchsorted(now, end, side="right")
        keep = lo < hi
        c, w, cols = frame["c"].to_numpy()[keep], frame["w"].to_numpy()[keep], frame["col"].to_numpy()[keep]
        p, lo, hi = p[keep], lo[keep], hi[keep]
        lengths = hi - lo
        bounds = np.r_[0, np.cumsum(lengths)]
        first = 0
        while first < len(lengths):
            last = int(np.searchsorted(bounds, bounds[first] + CHUNK, side="right")) - 1
            last = max(last, first + 1)
            part = slice(first, last)
            n = lengths[part]
            item = np.repeat(np.arange(first, last), n)
            offset = np.arange(int(n.sum())) - np.repeat(bounds[first:last] - bounds[first], n)
            rows = lo[item] + offset
            age_h = (now[rows] - p[item]) / HOUR_NS
            weight = np.exp2(-age_h / strategy.half_life_hours) * w[item]
            at = rows * N + cols[item]
            num += np.bincount(at, weight * c[item], minlength=T * N)
            den += np.bincount(at, weight, minlength=T * N)
            first = last
    grid_num, grid_den = num.reshape(T, N), den.reshape(T, N)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(grid_den > 0, np.clip(grid_num / grid_den, -1.0, 1.0), np.nan)
    return score, grid_den


def news_sentiment(now: np.ndarray, keys: Sequence[str], news: pd.DataFrame,
                   strategy: NewsSentimentStrategy) -> SignalArrays:
    """Return NewsSentimentStrategy's entries, and its exits for holdings, at every bar."""
    score, wsum = news_scores(now, keys, news, strategy)
    seen = ~np.isnan(score)
    longs = seen & (score >= strategy.entry)
    shorts = seen & ~longs & (score <= -strategy.entry) & strategy.allow_short
    entry = longs | shorts
    direction = np.where(longs, 1, np.where(shorts, -1, 0)).astype(np.int8)
    strength = np.where(longs, np.minimum(1.0, np.nan_to_num(score)),
                        np.where(shorts, np.maximum(-1.0, np.nan_to_num(score)), 0.0))
    # No news within the lookback: the story is over, a holding exits (confidence 0.5, as the strategy says).
    confidence = np.where(seen, 1.0 - np.exp(-wsum / strategy.volume_scale), 0.5)
    exit_long = ~entry & (~seen | (score <= strategy.exit))
    exit_short = ~entry & (~seen | (score >= -strategy.exit))
    return SignalArrays(strategy.name, entry, direction, strength, confidence, exit_long, exit_short)
