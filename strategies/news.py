"""News-sentiment strategy: time-decayed, source-weighted, novel news per symbol, with volume as confidence."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from strategies.base import MarketSnapshot
from strategies.registry import register
from tradebot.domain import Direction, Signal, Symbol


@dataclass(frozen=True)
class NewsSentimentStrategy:
    """Go long on a decayed sentiment at or above `entry`; exit at or below `exit` or when the news goes quiet."""

    entry: float = 0.25
    exit: float = -0.05
    half_life_hours: float = 24.0
    lookback_hours: float = 72.0
    horizon_days: int = 3
    source_weights: Mapping[str, float] = field(default_factory=dict)  # by source; unlisted sources weigh 1.0
    default_source_weight: float = 1.0
    volume_scale: float = 2.0  # effective item count at which confidence reaches 1 - 1/e
    allow_short: bool = False  # mirror the rule below -entry / above -exit
    name: str = "news_sentiment"

    def __post_init__(self) -> None:
        if not -1 <= self.exit < self.entry <= 1:
            raise ValueError(f"need -1 <= exit < entry <= 1, got exit={self.exit} entry={self.entry}")
        if self.half_life_hours <= 0 or self.lookback_hours <= 0 or self.volume_scale <= 0:
            raise ValueError("half_life_hours, lookback_hours and volume_scale must be positive")
        bad = {k: v for k, v in {**self.source_weights, "default": self.default_source_weight}.items() if v < 0}
        if bad:
            raise ValueError(f"source weights must be >= 0, got {bad}")

    def signals(self, snapshot: MarketSnapshot) -> list[Signal]:
        """Return one signal per symbol with news that crosses a threshold, or a held position to exit."""
        scored = self._scores(snapshot)
        held = snapshot.held()
        last_bar = _last_bar_ts(snapshot)
        out: list[Signal] = []
        for sym in sorted(set(scored) | set(held)):
            if sym not in snapshot.instruments:
                continue
            side = held.get(sym, 0)
            if sym not in scored:
                if snapshot.may_exit(sym, self.name):
                    reason = f"no news within {self.lookback_hours:.0f}h: the story is over, exit"
                    out.append(self._signal(snapshot, sym, Direction.FLAT, 0.0, 0.5, (reason,), (), last_bar))
                continue
            score, conf, ids, n = scored[sym]
            reason = (f"decayed sentiment {score:+.2f} from {n} novel item(s), half-life "
                      f"{self.half_life_hours:.0f}h, news volume confidence {conf:.2f}")
            sig = self._decide(snapshot, sym, side, score, conf, reason, ids, last_bar)
            if sig is not None:
                out.append(sig)
        return out

    def _decide(self, snap: MarketSnapshot, sym: Symbol, side: int, score: float, conf: float, reason: str,
                ids: tuple[str, ...], last_bar: Mapping[str, Any]) -> Signal | None:
        if score >= self.entry:
            return self._signal(snap, sym, Direction.LONG, min(1.0, score), conf, (reason,), ids, last_bar)
        if self.allow_short and score <= -self.entry:
            return self._signal(snap, sym, Direction.SHORT, max(-1.0, score), conf, (reason,), ids, last_bar)
        # Exits mirror entries: a long leaves below `exit`, a short above `-exit`.
        leaving = (side > 0 and score <= self.exit) or (side < 0 and score >= -self.exit)
        if leaving and snap.may_exit(sym, self.name):
            bound = f"<= exit {self.exit}" if side > 0 else f">= short exit {-self.exit}"
            return self._signal(snap, sym, Direction.FLAT, 0.0, conf, (f"{reason} {bound}",), ids, last_bar)
        return None

    def _scores(self, snap: MarketSnapshot) -> dict[Symbol, tuple[float, float, tuple[str, ...], int]]:
        """Return per symbol: decayed score, volume confidence, the news ids used, and their count."""
        news = snap.sentiment
        if news.empty:
            return {}
        age_h = (pd.Timestamp(snap.now) - news["published_at"]).dt.total_seconds().to_numpy() / 3600.0
        recent = news.loc[age_h <= self.lookback_hours].assign(age_h=age_h[age_h <= self.lookback_hours])
        # Novelty: a story re-sent (same id) counts once, at its first publication.
        recent = recent.sort_values("age_h", ascending=False, kind="stable").drop_duplicates(["symbol", "news_id"])
        src_w = recent["source"].map(lambda s: self.source_weights.get(str(s), self.default_source_weight))
        recent = recent.assign(w=np.exp2(-recent["age_h"] / self.half_life_hours) * src_w.astype(float))
        recent = recent[recent["w"] > 0]
        out = {}
        for sym, g in recent.groupby("symbol", sort=True):
            w = g["w"].to_numpy()
            score = float(np.clip(np.average(g["compound"].to_numpy(dtype=float), weights=w), -1.0, 1.0))
            # Effective volume: fresh items from trusted sources count fully, stale or minor ones less.
            confidence = 1.0 - math.exp(-float(w.sum()) / self.volume_scale)
            out[Symbol(str(sym))] = (score, confidence, tuple(g["news_id"].astype(str)), len(g))
        return out

    def _signal(self, snap: MarketSnapshot, sym: Symbol, direction: Direction, strength: float, conf: float,
                reasons: tuple[str, ...], ids: tuple[str, ...], last_bar: Mapping[str, Any]) -> Signal:
        return Signal(
            strategy=self.name, symbol=sym, ts=snap.now, direction=direction, strength=strength,
            confidence=conf, horizon_days=self.horizon_days, reasons=reasons, news_ids=ids,
            bar_ts=last_bar.get(sym),
        )


def _last_bar_ts(snap: MarketSnapshot) -> dict[str, Any]:
    if snap.bars.empty:
        return {}
    last = snap.bars.groupby("symbol")["ts"].max()
    return {str(k): v.to_pydatetime() for k, v in last.items()}


@register("news_sentiment")
def _factory(**params: Any) -> NewsSentimentStrategy:
    # Config numbers arrive as floats from JSON; a horizon is whole days.
    if "horizon_days" in params:
        params["horizon_days"] = int(params["horizon_days"])
    return NewsSentimentStrategy(**params)
