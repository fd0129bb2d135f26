"""Dashboard read views and figures: positions with marks and broker-side stops; drawdown, Sharpe, win rate."""

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from dashboard import perf
from tradebot.domain import Fill, Order, OrderIntent, OrderStatus, OrderType, RiskDecision, Side, Symbol, Verdict
from tradebot.store import ledger
from tradebot.store.db import transaction
from tradebot.store.market import BarRow
from tradebot.store.views_trading import positions_detail

T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def _order(s, cid: str, side: Side, otype: OrderType, status: OrderStatus, stop: str | None = None) -> None:
    intent = OrderIntent(cid, "sma_cross", Symbol("AAPL"), side, Decimal("10"), T0, order_type=otype,
                         stop_price=Decimal(stop) if stop else None)
    ledger.record_proposal(s, "acct", "c1", intent,
                           RiskDecision(cid, Verdict.ACCEPTED, Decimal("10"), Decimal("10"), ()), None, T0)
    ledger.upsert_order(s, "acct", "paper", Order(cid, Symbol("AAPL"), side, Decimal("10"), otype, status, T0,
                                                  stop_price=Decimal(stop) if stop else None), T0)


def test_a_position_shows_its_mark_unrealized_pnl_and_the_working_broker_stop(sessions):
    with transaction(sessions) as s:
        ledger.ensure_run(s, "acct", "paper", "paper", Decimal("100000"), T0)
        _order(s, "tb-buy", Side.BUY, OrderType.MARKET, OrderStatus.FILLED)
        ledger.record_fills(s, "acct", [Fill("f1", "tb-buy", Symbol("AAPL"), Side.BUY, Decimal("10"), Decimal("100"),
                                             Decimal("0"), T0)])
        ledger.rebuild_positions(s, "acct", T0)
        for day, close in ((1, 104.0), (2, 110.0)):
            s.add(BarRow(symbol="AAPL", timeframe="1Day", ts=T0 + timedelta(days=day), open=close, high=close,
                         low=close, close=close, volume=1.0, source="test", ingested_at=T0))
    with sessions() as s:
        before = positions_detail(s, "acct").iloc[0]
    assert (before["last"], before["unrealized_pnl"]) == (110.0, 100.0)
    assert before["broker_protection"].startswith("none")
    with transaction(sessions) as s:
        _order(s, "tb-stop", Side.SELL, OrderType.STOP, OrderStatus.SUBMITTED, stop="95.5")
    with sessions() as s:
        protection = positions_detail(s, "acct").iloc[0]["broker_protection"]
    assert protection == "stop @ 95.5 submitted at the broker (tb-stop)"


def _equity(values):
    ts = pd.date_range("2026-10-01", periods=len(values), freq="D", tz="UTC")
    return pd.DataFrame({"ts": ts, "equity": [float(v) for v in values]})


def test_drawdown_is_measured_from_the_running_peak():
    dd = perf.drawdown(_equity([100, 110, 99, 120]))
    assert list(dd["peak"]) == [100, 110, 110, 120]
    assert dd["drawdown"].min() == pytest.approx(-0.1)


def test_sharpe_and_sortino_are_annualized_and_undefined_without_variance_or_losses():
    r = pd.Series([0.01, -0.005, 0.02, 0.0])
    assert perf.sharpe(r) == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(252))
    downside = math.sqrt((0.005**2) / 4)
    assert perf.sortino(r) == pytest.approx(r.mean() / downside * math.sqrt(252))
    assert math.isnan(perf.sharpe(pd.Series([0.01, 0.01]))) and math.isnan(perf.sortino(pd.Series([0.01, 0.02])))
    s = perf.summary(_equity([100, 101, 99.99, 102]), 100.0)
    assert s["total_return"] == pytest.approx(0.02) and s["days"] == 3


def test_per_strategy_counts_trades_and_wins():
    table = perf.per_strategy({"a": [0.1, -0.05, 0.02], "b": []}).set_index("strategy")
    assert table.loc["a", "trades"] == 3 and table.loc["a", "win_rate"] == pytest.approx(2 / 3)
    assert table.loc["a", "total_return"] == pytest.approx(1.1 * 0.95 * 1.02 - 1)
    assert table.loc["b", "trades"] == 0 and math.isnan(table.loc["b", "win_rate"])
