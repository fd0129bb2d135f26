"""Plotly figures for the pages: equity and drawdown, daily PnL, exposure, candlesticks with trades, sentiment."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

LAYOUT = {"margin": {"l": 10, "r": 10, "t": 30, "b": 10}, "height": 360, "legend": {"orientation": "h"}}


def equity_drawdown(dd: pd.DataFrame) -> go.Figure:
    """Return equity (top) and drawdown below its running peak (bottom)."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.04)
    fig.add_trace(go.Scatter(x=dd["ts"], y=dd["equity"], name="equity", line={"width": 2}), row=1, col=1)
    fig.add_trace(go.Scatter(x=dd["ts"], y=dd["peak"], name="peak", line={"dash": "dot", "width": 1}), row=1, col=1)
    fig.add_trace(go.Scatter(x=dd["ts"], y=dd["drawdown"] * 100, name="drawdown %", fill="tozeroy",
                             line={"color": "#d62728"}), row=2, col=1)
    fig.update_layout(**{**LAYOUT, "height": 420}, title="Equity and drawdown")
    return fig


def daily_pnl(df: pd.DataFrame) -> go.Figure:
    """Return daily PnL bars, green up and red down."""
    colors = ["#2ca02c" if v >= 0 else "#d62728" for v in df["pnl"]]
    fig = go.Figure(go.Bar(x=df["day"], y=df["pnl"], marker_color=colors, name="daily PnL"))
    fig.update_layout(**LAYOUT, title="Daily PnL")
    return fig


def exposure(df: pd.DataFrame, by: str, title: str) -> go.Figure:
    """Return gross exposure bars grouped by the column by (asset class or cluster)."""
    g = df.groupby(by, as_index=False)["weight"].sum()
    fig = go.Figure(go.Bar(x=g[by].astype(str), y=g["weight"] * 100, name="% of equity"))
    fig.update_layout(**{**LAYOUT, "height": 280}, title=title, yaxis_title="% of equity")
    return fig


def candles(bars: pd.DataFrame, symbol: str, signals: pd.DataFrame, fills: pd.DataFrame,
            levels: dict[str, float]) -> go.Figure:
    """Return a candlestick chart with signal, entry and exit markers and the current stop/target levels."""
    fig = go.Figure(go.Candlestick(x=bars["ts"], open=bars["open"], high=bars["high"], low=bars["low"],
                                   close=bars["close"], name=symbol))
    if len(signals):
        close_at = bars.set_index("ts")["close"]
        for direction, marker, color in (("long", "triangle-up", "#2ca02c"), ("short", "triangle-down", "#d62728")):
            sig = signals[signals["direction"] == direction]
            if len(sig):
                day = pd.to_datetime(sig["ts"], utc=True).dt.floor("D")
                y = [close_at.asof(d) if len(close_at) else None for d in day]
                fig.add_trace(go.Scatter(x=sig["ts"], y=y, mode="markers", name=f"{direction} signal",
                                         marker={"symbol": marker, "size": 9, "color": color, "opacity": 0.6},
                                         text=sig["strategy"]))
    for side, marker, color, name in (("buy", "circle", "#1f77b4", "entry (buy)"), ("sell", "x", "#ff7f0e",
                                                                                      "exit (sell)")):
        f = fills[fills["side"] == side] if len(fills) else fills
        if len(f):
            fig.add_trace(go.Scatter(x=f["ts"], y=f["price"], mode="markers", name=name, text=f["strategy"],
                                     marker={"symbol": marker, "size": 11, "color": color,
                                             "line": {"width": 1, "color": "black"}}))
    for key, color in (("stop", "#d62728"), ("take_profit", "#2ca02c"), ("trail", "#9467bd")):
        if key in levels:
            fig.add_hline(y=levels[key], line_dash="dash", line_color=color, annotation_text=f"{key} {levels[key]:.2f}")
    fig.update_layout(**{**LAYOUT, "height": 520}, title=symbol, xaxis_rangeslider_visible=False)
    return fig


def sentiment(df: pd.DataFrame) -> go.Figure:
    """Return one line of mean daily compound sentiment per symbol."""
    fig = go.Figure()
    for sym, g in df.groupby("symbol"):
        fig.add_trace(go.Scatter(x=g["day"], y=g["mean_compound"], mode="lines+markers", name=str(sym),
                                 text=g["articles"].map(lambda n: f"{n} articles")))
    fig.add_hline(y=0, line_color="grey", line_width=1)
    fig.update_layout(**LAYOUT, title="Mean daily sentiment (compound)", yaxis_range=[-1, 1])
    return fig
