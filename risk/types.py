"""Risk inputs and outputs: policy, persisted state, clock, market history, proposals and results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd

from tradebot.domain import OrderIntent, RiskDecision, RiskLimits, Symbol

if TYPE_CHECKING:
    from risk.stops import StopLevels
    from strategies.processor import Target


@dataclass(frozen=True, slots=True)
class RiskPolicy:
    """Every bound and knob of the risk engine; None switches a rule off."""

    limits: RiskLimits = RiskLimits()
    # Sizing: fractional Kelly (with shrinkage toward a prior) times a daily volatility target.
    kelly_fraction: float | None = 0.5
    kelly_cap: float = 0.25
    prior_win_rate: float = 0.5
    prior_payoff: float = 1.5
    prior_trades: int = 20
    vol_target: float | None = 0.0025  # expected daily move of one position, as a fraction of equity
    ewma_lambda: float = 0.94  # RiskMetrics decay for daily returns
    vol_min_obs: int = 10
    fallback_daily_vol: float | None = None  # used when history is too short; None rejects instead
    max_order_notional: Decimal | None = None
    max_position_notional: Decimal | None = None
    symbol_caps: Mapping[str, float] = field(default_factory=dict)  # per-symbol max weight overrides
    fractional_equities: bool = False  # Alpaca trades fractional shares; most brokers do not
    fractional_step: Decimal = Decimal("0.0001")
    crypto_min_notional: Decimal = Decimal("10")  # Binance-style minimum order value
    # Stops, in ATR multiples of the entry bar's ATR.
    atr_period: int = 14
    stop_atr: float | None = 2.0
    take_profit_atr: float | None = 4.0
    trail_atr: float | None = 3.0
    min_stop_pct: float = 0.005  # floor on the stop distance so a flat ATR cannot put it at the entry
    max_holding_days: int | None = 20
    # Correlation protection.
    corr_lookback: int | None = 60
    corr_min_obs: int = 20
    corr_threshold: float = 0.80
    corr_reject: float = 0.95
    corr_scale: float = 1 / 3  # share of its own allowance a correlated entry may take
    cluster_threshold: float = 0.70
    max_cluster_weight: float | None = 0.30
    max_net_exposure: float | None = 1.0
    # Daily limits and pauses.
    max_daily_loss: float | None = 0.03
    flatten_on_daily_loss: bool = False
    max_trades_per_day: int | None = 50
    max_consecutive_losses: int | None = 3
    loss_cooldown: timedelta = timedelta(hours=24)
    earnings_scale: float = 0.5

    def __post_init__(self) -> None:
        checks = {
            "kelly_fraction": self.kelly_fraction is None or 0 < self.kelly_fraction <= 1,
            "kelly_cap": 0 < self.kelly_cap <= 1,
            "prior_win_rate": 0 < self.prior_win_rate < 1,
            "prior_payoff": self.prior_payoff > 0,
            "prior_trades": self.prior_trades >= 0,
            "vol_target": self.vol_target is None or self.vol_target > 0,
            "ewma_lambda": 0 < self.ewma_lambda < 1,
            "fractional_step": self.fractional_step > 0,
            "stop_atr": self.stop_atr is None or self.stop_atr > 0,
            "take_profit_atr": self.take_profit_atr is None or self.take_profit_atr > 0,
            "trail_atr": self.trail_atr is None or self.trail_atr > 0,
            "min_stop_pct": 0 < self.min_stop_pct < 1,
            "corr_threshold": 0 < self.corr_threshold <= self.corr_reject <= 1,
            "corr_scale": 0 <= self.corr_scale <= 1,
            "max_daily_loss": self.max_daily_loss is None or 0 < self.max_daily_loss < 1,
            "earnings_scale": 0 <= self.earnings_scale <= 1,
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid risk policy value(s): {', '.join(f'{k}={getattr(self, k)!r}' for k in bad)}")

    @classmethod
    def simple(cls, limits: RiskLimits) -> RiskPolicy:
        """Return a policy enforcing only the plain caps of limits (the original rule)."""
        return cls(limits=limits, kelly_fraction=None, vol_target=None, stop_atr=None, take_profit_atr=None,
                   trail_atr=None, max_holding_days=None, corr_lookback=None, max_cluster_weight=None,
                   max_net_exposure=None, max_daily_loss=None, max_trades_per_day=None, max_consecutive_losses=None,
                   crypto_min_notional=Decimal("0"))


@dataclass(frozen=True, slots=True)
class RiskClock:
    """The instant a cycle runs at and the trading session it belongs to."""

    now: datetime
    session_day: date
    session_start_equity: Decimal | None = None  # None: equity at the first cycle of the session


@dataclass(frozen=True, slots=True)
class RiskState:
    """Daily risk state the caller persists between cycles, so a restart cannot reset a halt."""

    day: date | None = None
    session_start_equity: Decimal | None = None
    trades_today: int = 0
    consecutive_losses: int = 0
    halted: bool = False
    halt_reason: str = ""
    kill_switch: bool = False
    kill_reason: str = ""
    cooldown_until: datetime | None = None
    closed_seen: Mapping[str, int] = field(default_factory=dict)  # closed trades already counted, per strategy

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict (Decimals and dates as strings)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = dict(v) if isinstance(v, Mapping) else _encode(v)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RiskState:
        """Rebuild a state from to_dict's output (unknown keys are ignored, missing ones default)."""
        return cls(
            day=date.fromisoformat(d["day"]) if d.get("day") else None,
            session_start_equity=Decimal(d["session_start_equity"]) if d.get("session_start_equity") else None,
            trades_today=int(d.get("trades_today", 0)),
            consecutive_losses=int(d.get("consecutive_losses", 0)),
            halted=bool(d.get("halted", False)),
            halt_reason=str(d.get("halt_reason", "")),
            kill_switch=bool(d.get("kill_switch", False)),
            kill_reason=str(d.get("kill_reason", "")),
            cooldown_until=datetime.fromisoformat(d["cooldown_until"]) if d.get("cooldown_until") else None,
            closed_seen={str(k): int(v) for k, v in (d.get("closed_seen") or {}).items()},
        )


def _encode(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, date | datetime):
        return v.isoformat()
    return v


@dataclass(frozen=True, slots=True)
class MarketData:
    """Recent bars as wide float frames (ts x symbol, tz-naive UTC index, oldest first)."""

    close: pd.DataFrame
    high: pd.DataFrame | None = None
    low: pd.DataFrame | None = None
    bars_per_day: float = 1.0  # scales per-bar volatility to daily

    @classmethod
    def from_bars(cls, bars: pd.DataFrame, bars_per_day: float = 1.0) -> MarketData:
        """Pivot a long BAR_COLUMNS frame into wide close/high/low frames."""
        if bars.empty:
            return cls.empty()
        ts = pd.to_datetime(bars["ts"], utc=True).dt.tz_localize(None)
        frame = bars.assign(ts=ts)

        def wide(col: str) -> pd.DataFrame:
            return frame.pivot_table(index="ts", columns="symbol", values=col, aggfunc="last").astype(float)

        return cls(wide("close"), wide("high"), wide("low"), bars_per_day)

    @classmethod
    def empty(cls) -> MarketData:
        """Return market data with no history (sizing falls back to the plain caps)."""
        return cls(pd.DataFrame(dtype=float))


@dataclass(frozen=True, slots=True)
class TradeStats:
    """A strategy's closed-trade record: wins, losses and mean fractional win and loss."""

    wins: int
    losses: int
    avg_win: float
    avg_loss: float  # positive magnitude

    @property
    def count(self) -> int:
        """Return the number of closed trades."""
        return self.wins + self.losses

    @classmethod
    def from_returns(cls, returns: list[float] | tuple[float, ...]) -> TradeStats:
        """Summarize closed-trade fractional returns (a zero return counts as a loss: fees were paid)."""
        wins = [r for r in returns if r > 0]
        losses = [-r for r in returns if r <= 0]
        return cls(len(wins), len(losses), sum(wins) / len(wins) if wins else 0.0,
                   sum(losses) / len(losses) if losses else 0.0)


@dataclass(frozen=True, slots=True)
class Proposal:
    """An intent at the size the strategy asked for, and risk's verdict on it."""

    intent: OrderIntent
    decision: RiskDecision
    target: Target


@dataclass(frozen=True, slots=True)
class RiskResult:
    """What one risk evaluation decided: proposals, protective exits, stop levels and the new state."""

    proposals: list[Proposal]
    exits: list[Proposal]
    stops: dict[Symbol, StopLevels]
    state: RiskState
    equity: Decimal
    notes: tuple[str, ...] = ()

    @property
    def all_proposals(self) -> list[Proposal]:
        """Return protective exits first, then the target-driven proposals, in submission order."""
        return [*self.exits, *self.proposals]
