"""Backtest figures against values worked out by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from tradebot.backtest.metrics import (
    drawdown,
    equity_metrics,
    exposure,
    max_drawdown_duration,
    periods_per_year,
    trade_metrics,
    turnover,
)

DAILY = pd.date_range("2024-01-01", periods=5, freq="D").to_numpy()


def test_total_return_volatility_and_sharpe_follow_the_per_bar_returns():
    equity = np.array([100.0, 110.0, 99.0, 108.9, 119.79])  # +10%, -10%, +10%, +10%
    m = equity_metrics(equity, DAILY, ppy=252)
    r = np.array([0.10, -0.10, 0.10, 0.10])
    assert m["total_return"] == pytest.approx(0.1979)
    sd = math.sqrt(((r - 0.05) ** 2).sum() / 3)  # sample deviation of the four returns: 0.1
    assert sd == pytest.approx(0.1)
    assert m["volatility"] == pytest.approx(0.1 * math.sqrt(252))
    assert m["sharpe"] == pytest.approx(0.05 / 0.1 * math.sqrt(252))
    downside = math.sqrt(0.01 / 4)  # one -10% among four returns
    assert m["sortino"] == pytest.approx(0.05 / downside * math.sqrt(252))
    # Four bars at 252 a year: (1.1979)^(252/4) - 1.
    assert m["annual_return"] == pytest.approx(1.1979 ** 63 - 1)


def test_max_drawdown_is_the_deepest_fall_from_a_peak_and_its_duration_the_longest_time_under_water():
    equity = np.array([100.0, 120.0, 90.0, 96.0, 125.0, 100.0, 110.0])
    assert drawdown(equity)[2] == pytest.approx(0.25)
    m = equity_metrics(equity, pd.date_range("2024-01-01", periods=7, freq="D").to_numpy(), ppy=365.25)
    assert m["max_drawdown"] == pytest.approx(0.25)  # 120 -> 90
    assert max_drawdown_duration(equity) == 2  # under water at 90 and 96; 100, 110 after the 125 peak also 2
    assert m["max_drawdown_days"] == pytest.approx(2.0)
    assert m["calmar"] == pytest.approx(m["annual_return"] / 0.25)


def test_a_curve_that_only_rises_has_no_drawdown_and_no_calmar():
    m = equity_metrics(np.array([1.0, 2.0, 3.0]), DAILY[:3], ppy=252)
    assert m["max_drawdown"] == 0.0
    assert m["max_drawdown_bars"] == 0
    assert m["calmar"] is None


def test_win_rate_and_profit_factor_count_closed_trades_only():
    pnl = np.array([50.0, -20.0, 30.0, -10.0, 999.0])
    closed = np.array([True, True, True, True, False])
    m = trade_metrics(pnl, closed)
    assert m["trades"] == 5
    assert m["closed_trades"] == 4
    assert m["win_rate"] == pytest.approx(0.5)
    assert m["profit_factor"] == pytest.approx(80 / 30)
    assert m["net_pnl"] == pytest.approx(1049.0)


def test_no_losing_trade_gives_an_infinite_profit_factor_and_no_trade_none():
    assert trade_metrics(np.array([5.0, 1.0]))["profit_factor"] == "inf"
    empty = trade_metrics(np.array([]))
    assert empty["win_rate"] is None
    assert empty["profit_factor"] is None


def test_exposure_is_the_mean_gross_share_of_equity_and_turnover_is_traded_over_mean_equity_per_year():
    value = np.array([[0.0, 0.0], [50.0, -50.0], [100.0, 0.0]])
    eq = np.array([100.0, 100.0, 100.0])
    assert exposure(value, eq) == pytest.approx((0 + 1.0 + 1.0) / 3)
    assert turnover(400.0, eq, ppy=2.0) == pytest.approx(4.0)  # 3 bars at 2 a year = 1 year


def test_periods_per_year_is_measured_from_the_index():
    minutes = pd.date_range("2024-01-01", periods=10_001, freq="1min").to_numpy()
    assert periods_per_year(minutes) == pytest.approx(365.25 * 24 * 60)
