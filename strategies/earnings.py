"""Post-earnings drift: trade the EPS surprise and the market's first reaction; flag pre-earnings windows.

Timing is the whole game here: an EPS actual is used only from `announced_at(event)` on, and the
reaction is the first daily bar whose session closes after that instant, used once it is complete.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from strategies.base import MarketSnapshot, announced_at
from strategies.registry import register
from tradebot.domain import Direction, EarningsEvent, Signal, Symbol

PRE_EARNINGS = "pre_earnings"
# A daily bar stamped 00:00 UTC holds a session that closes by 21:00 UTC (20:00 in US summer time).
SESSION_CLOSE = timedelta(hours=21)
# A reaction bar further than this from the announcement is a data gap, not a reaction.
MAX_REACTION_GAP = timedelta(days=5)
MIN_RETURNS_FOR_VOL = 10


def reaction_index(ts: np.ndarray, announced: datetime) -> int:
    """Return the index of the first bar (ts sorted, UTC) whose session closes after announced."""
    cutoff = np.datetime64(pd.Timestamp(announced).tz_convert("UTC").tz_localize(None) - SESSION_CLOSE, "us")
    return int(np.searchsorted(ts, cutoff, side="right"))


def relative_surprise(event: EarningsEvent, eps_floor: float = 0.05, cap: float = 1.0) -> float | None:
    """Return (actual - estimate) / max(|estimate|, eps_floor), clipped to +-cap; None if not both known."""
    if event.eps_actual is None or event.eps_estimate is None:
        return None
    # A floor on the denominator keeps a 1-cent estimate from turning a 2-cent beat into +100%.
    raw = (event.eps_actual - event.eps_estimate) / max(abs(event.eps_estimate), eps_floor)
    return float(np.clip(raw, -cap, cap))


@dataclass(frozen=True)
class Reading:
    """What the strategy read for one reported event: the score and the evidence behind it."""

    score: float
    confidence: float
    reasons: tuple[str, ...]
    news_ids: tuple[str, ...]


@dataclass(frozen=True)
class EarningsDrift:
    """Follow the surprise for `horizon_days` after a report, exit after it, and flag upcoming reports."""

    horizon_days: int = 20  # calendar days from the announcement
    entry: float = 0.3  # minimum |score| to take a side
    surprise_weight: float = 0.5
    reaction_weight: float = 0.35
    news_weight: float = 0.15
    surprise_z_scale: float = 3.0  # surprise/vol at which the surprise component reaches tanh(1)
    reaction_z_scale: float = 2.0  # reaction/vol at which the reaction component reaches tanh(1)
    vol_window: int = 60
    min_vol: float = 0.005
    require_reaction: bool = True
    news_lead_hours: float = 6.0  # news this long before the release still counts (press releases lead)
    pre_window_days: int = 3
    exit_grace_days: int = 5
    allow_short: bool = True
    name: str = "earnings_drift"

    def __post_init__(self) -> None:
        weights = (self.surprise_weight, self.reaction_weight, self.news_weight)
        if min(weights) < 0 or self.surprise_weight == 0:
            raise ValueError(f"weights must be >= 0 and surprise_weight > 0, got {weights}")
        if self.horizon_days < 1 or self.pre_window_days < 0 or self.exit_grace_days < 0 or self.vol_window < 2:
            raise ValueError("need horizon_days >= 1, vol_window >= 2, pre_window_days and exit_grace_days >= 0")
        if not 0 <= self.entry <= 1 or self.surprise_z_scale <= 0 or self.reaction_z_scale <= 0 or self.min_vol <= 0:
            raise ValueError("need 0 <= entry <= 1 and positive z scales and min_vol")

    def signals(self, snapshot: MarketSnapshot) -> list[Signal]:
        """Return drift entries, horizon exits and pre-earnings flags at snapshot.now."""
        now = snapshot.now
        by_symbol: dict[Symbol, list[EarningsEvent]] = {}
        for ev in snapshot.earnings:
            if ev.symbol in snapshot.instruments:
                by_symbol.setdefault(ev.symbol, []).append(ev)
        held = snapshot.held()
        bars = _bars_by_symbol(snapshot.bars, list(by_symbol))
        out: list[Signal] = []
        for sym in sorted(by_symbol):
            events = by_symbol[sym]
            sym_bars = bars.get(sym)
            out.extend(self._pre_earnings(snapshot, sym, events, sym_bars))
            reported = [e for e in events if e.eps_actual is not None and e.eps_estimate is not None
                        and announced_at(e) <= now]
            if not reported:
                continue
            event = max(reported, key=announced_at)
            sig = self._drift(snapshot, sym, event, sym_bars, held.get(sym, 0))
            if sig is not None:
                out.append(sig)
        return out

    def _pre_earnings(self, snap: MarketSnapshot, sym: Symbol, events: Sequence[EarningsEvent],
                      sym_bars: pd.DataFrame | None) -> list[Signal]:
        upcoming = [e for e in events if announced_at(e) > snap.now
                    and (e.date - snap.now.date()).days <= self.pre_window_days]
        if not upcoming:
            return []
        ev = min(upcoming, key=announced_at)
        days = max(0, (ev.date - snap.now.date()).days)
        proximity = 1.0 - days / (self.pre_window_days + 1)
        reason = (f"earnings {ev.hour.value} on {ev.date.isoformat()} in {days} day(s): cut exposure before the "
                  f"report (proximity {proximity:.2f})")
        return [self._signal(snap, sym, Direction.FLAT, 0.0, proximity, (reason,), (), sym_bars, max(1, days),
                             (PRE_EARNINGS,))]

    def _drift(self, snap: MarketSnapshot, sym: Symbol, event: EarningsEvent, sym_bars: pd.DataFrame | None,
               side: int) -> Signal | None:
        released = announced_at(event)
        age = snap.now - released
        within = age <= timedelta(days=self.horizon_days)
        in_grace = age <= timedelta(days=self.horizon_days + self.exit_grace_days)
        if not within and not (in_grace and side != 0 and snap.may_exit(sym, self.name)):
            return None
        reading = self.read(event, sym_bars, snap.sentiment, snap.now)
        if reading is None or abs(reading.score) < self.entry:
            return None
        direction = Direction.LONG if reading.score > 0 else Direction.SHORT
        if not within:
            # Only a position on the side this event pointed to is plausibly ours to close.
            if (side > 0) != (direction is Direction.LONG):
                return None
            reason = f"drift horizon of {self.horizon_days}d after the {event.date.isoformat()} report is over: exit"
            return self._signal(snap, sym, Direction.FLAT, 0.0, reading.confidence, (reason, *reading.reasons),
                                reading.news_ids, sym_bars, 1)
        if direction is Direction.SHORT and not self.allow_short:
            if side > 0 and snap.may_exit(sym, self.name):
                reason = "negative post-earnings drift and shorting is off: exit the long"
                return self._signal(snap, sym, Direction.FLAT, 0.0, reading.confidence, (reason, *reading.reasons),
                                    reading.news_ids, sym_bars, 1)
            return None
        left = max(1, self.horizon_days - age.days)
        reasons = (*reading.reasons, f"day {age.days} of the {self.horizon_days}d drift window")
        return self._signal(snap, sym, direction, float(np.clip(reading.score, -1, 1)), reading.confidence,
                            reasons, reading.news_ids, sym_bars, left)

    def read(self, event: EarningsEvent, sym_bars: pd.DataFrame | None, sentiment: pd.DataFrame,
             now: datetime) -> Reading | None:
        """Return the drift score of a reported event from surprise, reaction and news, or None if unreadable."""
        surprise = relative_surprise(event)
        if surprise is None or sym_bars is None or len(sym_bars) < 2:
            return None
        released = announced_at(event)
        ts = sym_bars["ts"].to_numpy(dtype="datetime64[us]")
        closes = sym_bars["close"].to_numpy(dtype=float)
        i = reaction_index(ts, released)
        # Volatility from the bars before the reaction, so the reaction cannot inflate its own yardstick.
        rets = np.diff(np.log(closes[max(0, i - self.vol_window - 1):min(i, len(closes))]))
        rets = rets[np.isfinite(rets)]
        if len(rets) < MIN_RETURNS_FOR_VOL:
            return None
        vol = max(float(np.std(rets, ddof=1)), self.min_vol)
        surprise_z = surprise / vol
        parts = [(self.surprise_weight, math.tanh(surprise_z / self.surprise_z_scale))]
        reasons = [f"EPS {event.eps_actual:g} vs estimate {event.eps_estimate:g}: surprise {surprise:+.1%}, "
                   f"{surprise_z:+.1f}x daily vol {vol:.2%} ({event.hour.value} {event.date.isoformat()})"]
        reaction_ok = 0 < i < len(closes) and (
            pd.Timestamp(ts[i], tz="UTC") - pd.Timestamp(released) <= pd.Timedelta(MAX_REACTION_GAP))
        if reaction_ok:
            reaction = closes[i] / closes[i - 1] - 1.0
            parts.append((self.reaction_weight, math.tanh(reaction / vol / self.reaction_z_scale)))
            reasons.append(f"first reaction {reaction:+.2%} ({reaction / vol:+.1f}x vol) on the "
                           f"{pd.Timestamp(ts[i]).date().isoformat()} bar")
        elif self.require_reaction:
            return None
        news_ids: tuple[str, ...] = ()
        if self.news_weight > 0 and len(sentiment):
            since = pd.Timestamp(released) - pd.Timedelta(hours=self.news_lead_hours)
            mine = sentiment[(sentiment["symbol"] == event.symbol) & (sentiment["published_at"] >= since)
                             & (sentiment["published_at"] <= now)].drop_duplicates("news_id")
            if len(mine):
                tone = float(np.clip(mine["compound"].astype(float).mean(), -1, 1))
                parts.append((self.news_weight, tone))
                news_ids = tuple(mine["news_id"].astype(str))
                reasons.append(f"news since the report {tone:+.2f} over {len(mine)} item(s)")
        total = sum(w for w, _ in parts)
        score = sum(w * c for w, c in parts) / total
        spread = sum(w * abs(c) for w, c in parts)
        # Agreement: 1 when every component points the same way, 0 when they cancel out.
        agreement = abs(sum(w * c for w, c in parts)) / spread if spread > 0 else 0.0
        coverage = total / (self.surprise_weight + self.reaction_weight + self.news_weight)
        confidence = float(np.clip(agreement * (0.5 + 0.5 * coverage), 0.0, 1.0))
        reasons.append(f"drift score {score:+.2f}, agreement {agreement:.2f}, confidence {confidence:.2f}")
        return Reading(score, confidence, tuple(reasons), news_ids)

    def _signal(self, snap: MarketSnapshot, sym: Symbol, direction: Direction, strength: float, confidence: float,
                reasons: tuple[str, ...], news_ids: tuple[str, ...], sym_bars: pd.DataFrame | None, horizon: int,
                tags: tuple[str, ...] = ()) -> Signal:
        last = sym_bars["ts"].iloc[-1].to_pydatetime() if sym_bars is not None and len(sym_bars) else None
        return Signal(strategy=self.name, symbol=sym, ts=snap.now, direction=direction, strength=strength,
                      confidence=confidence, horizon_days=horizon, reasons=reasons, news_ids=news_ids,
                      bar_ts=last, tags=tags)


def _bars_by_symbol(bars: pd.DataFrame, symbols: list[Symbol]) -> dict[Symbol, pd.DataFrame]:
    if bars.empty or not symbols:
        return {}
    mine = bars.loc[bars["symbol"].isin(symbols), ["symbol", "ts", "close"]].dropna(subset=["close"])
    mine = mine.sort_values(["symbol", "ts"], kind="stable").drop_duplicates(["symbol", "ts"], keep="last")
    return {Symbol(str(k)): g.reset_index(drop=True) for k, g in mine.groupby("symbol", sort=False)}


@register("earnings_drift")
def _factory(**params: Any) -> EarningsDrift:
    ints = ("horizon_days", "vol_window", "pre_window_days", "exit_grace_days")
    # Config numbers arrive as floats from JSON; day counts and windows must be whole.
    cleaned: dict[str, Any] = {k: int(v) if k in ints else v for k, v in params.items()}
    return EarningsDrift(**cleaned)
