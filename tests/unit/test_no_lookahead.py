"""No look-ahead, as a property: data after t (bars, news, earnings actuals) never changes any signal at or before t."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategies import MarketSnapshot, available, create
from strategies.base import announced_at, completed_at
from tradebot.domain import BAR_COLUMNS, AssetClass, EarningsEvent, EarningsHour, Instrument, Position, Symbol

SYMS = ("AAA", "BBB", "CCC")
INSTR = {Symbol(s): Instrument(Symbol(s), AssetClass.EQUITY, s, "X") for s in SYMS}
START = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 120
HOURS = list(EarningsHour)
# Besides its defaults, each strategy runs with settings that make it speak often, so the property bites.
EAGER = {
    "news_sentiment": {"entry": 0.05, "exit": 0.0, "allow_short": True},
    "sma_cross": {"fast": 3, "slow": 10, "allow_short": True},
    "ema_cross": {"fast": 3, "slow": 10, "allow_short": True},
    "rsi_reversion": {"period": 5, "oversold": 45, "exit_level": 50, "overbought": 55, "allow_short": True},
    "bollinger_reversion": {"window": 5, "k": 0.5, "allow_short": True},
    "earnings_drift": {"entry": 0.0, "pre_window_days": 10, "require_reaction": False, "horizon_days": 40},
}


def world(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, list[EarningsEvent]]:
    """Return random daily bars, news and an earnings calendar with actuals, all over the same 120 days."""
    rng = np.random.default_rng(seed)
    frames = []
    for sym in SYMS:
        ts = pd.date_range(START, periods=DAYS, freq="D", tz="UTC")
        c = 50 * np.exp(np.cumsum(rng.normal(0, 0.03, DAYS)))
        frames.append(pd.DataFrame({"symbol": sym, "timeframe": "1Day", "ts": ts, "open": c, "high": c * 1.01,
                                    "low": c * 0.99, "close": c, "volume": 1e5}))
    n = 60
    news = pd.DataFrame({
        "news_id": [f"n{i % 45}" for i in range(n)],  # some ids repeat: reprints
        "symbol": rng.choice(SYMS, n), "source": rng.choice(["a", "b"], n),
        "published_at": START + pd.to_timedelta(rng.integers(0, DAYS * 24 * 60, n), unit="min"),
        "compound": rng.uniform(-1, 1, n),
    })
    events = [EarningsEvent(Symbol(sym), (START + timedelta(days=int(d))).date(), HOURS[int(rng.integers(0, 4))],
                            float(rng.uniform(0.5, 2)), float(rng.uniform(0.3, 2.5)))
              for sym in SYMS for d in rng.choice(np.arange(20, DAYS), 3, replace=False)]
    return pd.concat(frames, ignore_index=True)[list(BAR_COLUMNS)], news, events


def tamper(t: datetime, bars: pd.DataFrame, news: pd.DataFrame, events: list[EarningsEvent], seed: int):
    """Return the same world, with everything that becomes known only after t changed."""
    rng = np.random.default_rng(seed + 1)
    bars = bars.copy()
    late = (completed_at(bars) > t).to_numpy()
    bars.loc[late, ["open", "high", "low", "close"]] *= rng.uniform(0.5, 1.5, (int(late.sum()), 1))
    news = news.copy()
    after = (news["published_at"] > t).to_numpy()
    news.loc[after, "compound"] = -news.loc[after, "compound"]
    extra = pd.DataFrame({"news_id": ["n0", "late"], "symbol": ["AAA", "BBB"], "source": "a",
                          "published_at": [t + timedelta(minutes=1), t + timedelta(hours=5)], "compound": [1.0, -1.0]})
    news = pd.concat([news, extra], ignore_index=True)
    events = [EarningsEvent(e.symbol, e.date, e.hour, e.eps_estimate, -3 * (e.eps_actual or 1.0))
              if announced_at(e) > t else e for e in events]
    return bars, news, events


def runs():
    """Return every registered strategy, at its defaults and at its eager settings."""
    out = []
    for name in available():
        out.append((name, {}))
        if name in EAGER:
            out.append((name, EAGER[name]))
    return out


def positions(held: int) -> dict[Symbol, Position]:
    sides = {"AAA": held % 3 - 1, "BBB": (held // 3) % 3 - 1}
    return {Symbol(s): Position(Symbol(s), Decimal(10 * q), Decimal(50)) for s, q in sides.items() if q}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), minutes=st.integers(30 * 24 * 60, (DAYS - 2) * 24 * 60),
       earlier=st.integers(0, 5 * 24 * 60), held=st.integers(0, 8))
def test_data_after_t_never_changes_a_signal_at_or_before_t(seed, minutes, earlier, held):
    bars, news, events = world(seed)
    t = START + timedelta(minutes=minutes)
    tb, tn, te = tamper(t, bars, news, events, seed)
    pos = positions(held)
    for now in (t, t - timedelta(minutes=earlier)):
        honest = MarketSnapshot.at(now, bars, news, INSTR, pos, events)
        tampered = MarketSnapshot.at(now, tb, tn, INSTR, pos, te)
        for name, params in runs():
            strategy = create(name, **params)
            assert strategy.signals(honest) == strategy.signals(tampered), f"{name} {params} looked ahead at {now}"


@pytest.mark.parametrize(("name", "params"), [(n, p) for n, p in runs() if p])
def test_the_property_is_not_vacuous_every_eager_strategy_speaks(name, params):
    bars, news, events = world(3)
    strategy = create(name, **params)
    spoke = 0
    for day in range(30, DAYS - 1, 3):
        now = START + timedelta(days=day, hours=13)
        spoke += len(strategy.signals(MarketSnapshot.at(now, bars, news, INSTR, positions(2), events)))
    assert spoke > 0


def test_a_hand_made_snapshot_with_a_future_actual_still_hides_it():
    ev = EarningsEvent(Symbol("AAA"), START.date(), EarningsHour.AFTER_CLOSE, 1.0, 9.0)
    snap = MarketSnapshot(START + timedelta(hours=20), pd.DataFrame(columns=list(BAR_COLUMNS)),
                          pd.DataFrame(columns=["news_id", "symbol", "source", "published_at", "compound"]), INSTR,
                          earnings=[ev])
    assert snap.earnings[0].eps_actual is None and snap.earnings[0].eps_estimate == 1.0
