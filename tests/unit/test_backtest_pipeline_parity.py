"""The vectorized pipeline makes the per-snapshot pipeline's decisions: the same strategies, the same processor,
risk.evaluate (Kelly x vol sizing, caps, stops, daily limits) and the same fills, bar after bar."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from risk import MarketData, RiskPolicy, RiskState, evaluate, make_clock
from strategies import MarketSnapshot, create
from strategies.processor import targets_from_signals
from tradebot.backtest.data import from_arrays
from tradebot.backtest.engine import BacktestSpec, run
from tradebot.domain import BAR_COLUMNS, AssetClass, Instrument, Portfolio, Position, RiskLimits, Side, Symbol

SYMS = ("AAA", "BBB", "CCC")
INSTR = {Symbol(s): Instrument(Symbol(s), AssetClass.EQUITY, s, "X") for s in SYMS}
START = datetime(2023, 1, 2, tzinfo=UTC)
T = 160
FEE = 0.001
CASH = 100_000.0
STRATEGIES = (("sma_cross", {"fast": 5, "slow": 20}), ("rsi_reversion", {"period": 6, "oversold": 40,
                                                                          "exit_level": 55, "overbought": 70}))
POLICY = RiskPolicy(limits=RiskLimits(max_position_weight=0.3, max_open_positions=2), corr_lookback=None,
                    max_cluster_weight=None, vol_target=0.01, max_holding_days=15, max_consecutive_losses=2,
                    kelly_fraction=0.5, prior_trades=5)


def market(seed=8):
    rng = np.random.default_rng(seed)
    close = np.round(40 * np.exp(np.cumsum(rng.normal(0.001, 0.025, (T, 3)), axis=0)), 2)
    opn = np.round(close * np.exp(rng.normal(0, 0.01, close.shape)), 2)
    high = np.round(np.maximum(opn, close) * (1 + rng.uniform(0, 0.03, close.shape)), 2)
    low = np.round(np.minimum(opn, close) * (1 - rng.uniform(0, 0.03, close.shape)), 2)
    return close, high, low, opn


def per_snapshot(close, high, low, opn=None, slip=0.0):
    """Step the per-snapshot pipeline bar by bar; orders fill at that close, or (opn given) at the next open with
    the paper broker's slippage. Return equity, fill count and closed-trade returns."""
    ts = pd.date_range(START, periods=T, freq="D")
    bars = pd.concat([pd.DataFrame({"symbol": s, "timeframe": "1Day", "ts": ts, "open": close[:, j],
                                    "high": high[:, j], "low": low[:, j], "close": close[:, j], "volume": 1.0})
                      for j, s in enumerate(SYMS)], ignore_index=True)[list(BAR_COLUMNS)]
    strategies = [create(n, **p) for n, p in STRATEGIES]
    empty = pd.DataFrame(columns=["news_id", "symbol", "source", "published_at", "compound"])
    cash, pos, avg = Decimal(str(CASH)), {s: Decimal(0) for s in SYMS}, {s: Decimal(0) for s in SYMS}
    state, stops, returns, owner, book = RiskState(), {}, {}, {}, {}
    equity, fills, prev_eq, pending = [], 0, Decimal(str(CASH)), []

    def fill(p, price):
        nonlocal cash, fills
        q, sym = p.decision.approved_qty, p.intent.symbol
        signed = q if p.intent.side is Side.BUY else -q
        fee = q * price * Decimal(str(FEE))
        if signed > 0 and q * price + fee > cash:
            return  # the paper broker rejects a buy it cannot pay for at the fill
        if pos[sym] == 0:
            owner[sym] = p.intent.strategy
            book[sym] = [Decimal(0), Decimal(0)]
        if signed > 0:
            book[sym][0] += q * price + fee
            avg[sym] = (pos[sym] * avg[sym] + q * price) / (pos[sym] + q)
        else:
            book[sym][1] += q * price - fee
        cash -= signed * price + fee
        pos[sym] += signed
        fills += 1
        if pos[sym] == 0:
            returns.setdefault(owner.pop(sym), []).append(float(book[sym][1] / book[sym][0] - 1))
            avg[sym] = Decimal(0)
            stops.pop(sym, None)

    for t in range(T):
        now = START + timedelta(days=t + 1)
        # Sells settle first, then buys, each at the open with slippage against us.
        for p in sorted(pending, key=lambda p: p.intent.side is Side.BUY):
            j = SYMS.index(p.intent.symbol)
            s = Decimal(repr(slip)) * (1 if p.intent.side is Side.BUY else -1)
            fill(p, Decimal(repr(float(opn[t, j]))) * (1 + s))
        pending = []
        seen = bars[bars["ts"] <= ts[t]]
        prices = {Symbol(s): Decimal(repr(float(close[t, j]))) for j, s in enumerate(SYMS)}
        positions = {Symbol(s): Position(Symbol(s), q, avg[s]) for s, q in pos.items() if q}
        pf = Portfolio(cash, positions)
        eq = pf.equity(prices)
        snap = MarketSnapshot.at(now, seen, empty, INSTR, positions, (), {Symbol(k): v for k, v in owner.items()})
        signals = [x for s in strategies for x in s.signals(snap)]
        held = {s: float(p.qty * prices[s] / eq) for s, p in positions.items()}
        targets = targets_from_signals(signals, 0.25, pre_earnings_scale=1.0, current_weights=held)
        clock = make_clock(now, [AssetClass.EQUITY], session_start_equity=prev_eq)
        result = evaluate(targets, pf, MarketData.from_bars(seen), POLICY, state, clock, f"c{t}", instruments=INSTR,
                          strategy_stats=returns, stops=stops, prices=prices)
        state, stops = result.state, dict(result.stops)
        for p in result.all_proposals:
            if not p.decision.approved_qty:
                continue
            if opn is None:
                fill(p, prices[p.intent.symbol])
            else:
                pending.append(p)
        prev_eq = Portfolio(cash, {}).cash + sum((pos[s] * prices[s] for s in SYMS), Decimal(0))
        equity.append(float(prev_eq))
    return np.array(equity), fills, returns


@pytest.mark.slow
@pytest.mark.parametrize("seed,fill", [(8, "close"), (9, "close"), (10, "close"), (8, "next_open"),
                                       (9, "next_open")])  # between them: every stop kind, resizes, rejections
def test_the_vectorized_pipeline_trades_like_the_per_snapshot_pipeline_bar_for_bar(seed, fill):
    close, high, low, opn = market(seed)
    slip = 0.0005 if fill == "next_open" else 0.0
    ref_equity, ref_fills, ref_returns = per_snapshot(close, high, low, opn if fill == "next_open" else None, slip)
    data = from_arrays(close, pd.date_range(START, periods=T, freq="D"), list(SYMS), open_=opn, high=high,
                       low=low, timeframe="1Day")
    spec = BacktestSpec(strategies=STRATEGIES, fill=fill, fee=FEE, cash=CASH, sizing="risk", policy=POLICY,
                        slippage_bps=slip * 10_000)
    ours = run(data, spec)
    closed = ours.trades.exit_idx >= 0
    assert sum(len(v) for v in ref_returns.values()) == int(closed.sum())
    assert ref_fills > 20  # the comparison has teeth: entries, resizes, stops and exits happen
    assert ours.fees_paid > 0
    np.testing.assert_allclose(ours.equity, ref_equity, rtol=1e-9)
