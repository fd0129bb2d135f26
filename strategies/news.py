"""News-sentiment strategy: time-decayed per-symbol sentiment with news volume as confidence."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from strategies.base import MarketSnapshot
from strategies.registry import register
from tradebot.domain import Direction, Signal, Symbol


@dataclass(frozen=True)
class NewsSentimentStrategy:
    """Go long on a decayed sentiment above `entry`; exit below `exit` or when the news goes quiet."""

    entry: float = 0.25
    exit: float = -0.05
    half_life_hours: float = 24.0
    lookback_hours: float = 72.0
    horizon_days: int = 3
    name: str = "news_sentiment"

    def __post_init__(self) -> None:
        if not -1 <= self.exit < self.entry <= 1:
            raise ValueError(f"need -1 <= exit < entry <= 1, got exit={self.exit} entry={self.entry}")
        if self.half_life_hours <= 0 or self.lookback_hours <= 0:
            raise ValueError("half_life_hours and lookback_hours must be positive")

    def signals(self, snapshot: MarketSnapshot) -> list[Signal]:
        """Return one signal per symbol with recent news or an open position."""
        now = snapshot.now
        news = snapshot.sentiment
        age_h = (now - news["published_at"]).dt.total_seconds().to_numpy() / 3600.0 if len(news) else np.array([])
        recent = news[age_h <= self.lookback_hours].assign(
            w=np.exp2(-age_h[age_h <= self.lookback_hours] / self.half_life_hours)
        ) if len(news) else news
        out: list[Signal] = []
        held = {s for s, p in snapshot.positions.items() if p.qty != 0}
        grouped = {str(k): g for k, g in recent.groupby("symbol")} if len(recent) else {}
        for sym in sorted(set(grouped) | held):
            if sym not in snapshot.instruments:
                continue
            out.extend(self._one(Symbol(sym), grouped.get(sym), sym in held, snapshot))
        return out

    def _one(self, sym: Symbol, g, held: bool, snap: MarketSnapshot) -> list[Signal]:  # type: ignore[no-untyped-def]
        if g is None or g.empty:
            reason = f"no news within {self.lookback_hours:.0f}h: exit after the {self.horizon_days}d horizon"
            return [self._signal(sym, Direction.FLAT, 0.0, 0.5, (reason,), (), snap)]
        # Repeated stories (same id) count once: novelty, not volume of reprints.
        g = g.drop_duplicates("news_id")
        score = float(np.average(g["compound"], weights=g["w"]))
        confidence = 1.0 - math.exp(-len(g) / 2.0)
        ids = tuple(g["news_id"].astype(str))
        reason = f"decayed sentiment {score:+.2f} from {len(g)} item(s), half-life {self.half_life_hours:.0f}h"
        if score >= self.entry:
            return [self._signal(sym, Direction.LONG, min(1.0, score), confidence, (reason,), ids, snap)]
        if held and score <= self.exit:
            return [self._signal(sym, Direction.FLAT, 0.0, confidence, (reason + f" <= exit {self.exit}",), ids, snap)]
        return []

    def _signal(self, sym, direction, strength, conf, reasons, ids, snap):  # type: ignore[no-untyped-def]
        bars = snap.bars[snap.bars["symbol"] == sym]
        return Signal(
            strategy=self.name, symbol=sym, ts=snap.now, direction=direction, strength=strength,
            confidence=conf, horizon_days=self.horizon_days, reasons=reasons, news_ids=ids,
            bar_ts=bars["ts"].max().to_pydatetime() if len(bars) else None,
        )


@register("news_sentiment")
def _factory(**params: float) -> NewsSentimentStrategy:
    return NewsSentimentStrategy(**params)  # type: ignore[arg-type]
