"""The HTML tearsheet: equity, drawdown, monthly returns and trades, in one self-contained Plotly file.

plotly.js is written inline (~4.5 MB), so the file opens offline with no CDN fetch.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradebot.backtest.engine import BacktestResult
from tradebot.backtest.metrics import drawdown

MAX_POINTS = 5000  # per line; a 1M-bar curve is thinned by taking every k-th bar plus the last
MAX_TRADE_ROWS = 200


def _thin(n: int) -> np.ndarray:
    step = max(1, int(np.ceil(n / MAX_POINTS)))
    return np.unique(np.r_[np.arange(0, n, step), n - 1])


def monthly_returns(equity: np.ndarray, index: pd.DatetimeIndex) -> pd.DataFrame:
    """Return a year x month table of returns from month-end equity."""
    s = pd.Series(equity, index=index)
    month_end = s.resample("ME").last().dropna()
    start = pd.concat([pd.Series([float(equity[0])], index=[index[0]]), month_end])
    rets = (month_end / start.shift(1).iloc[1:].to_numpy() - 1.0)
    table = pd.DataFrame({"year": rets.index.year, "month": rets.index.month, "ret": rets.to_numpy()})
    return table.pivot(index="year", columns="month", values="ret").reindex(columns=range(1, 13))


def render(result: BacktestResult, summary: dict[str, Any], path: str | Path, title: str = "") -> Path:
    """Write the tearsheet HTML to path and return it."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    data = result.data
    index = data.index_utc
    eq = result.equity
    keep = _thin(len(eq))
    x = index[keep]
    fig = make_subplots(rows=4, cols=1, vertical_spacing=0.06, row_heights=[0.34, 0.16, 0.25, 0.25],
                        subplot_titles=("Equity", "Drawdown", "Monthly returns", "Trades (return per round trip)"))
    fig.add_trace(go.Scatter(x=x, y=eq[keep], name="portfolio", line={"width": 1.5}), row=1, col=1)
    if result.spec.sizing == "allin" and 1 < len(data.keys) <= 10:  # each series' own sleeve
        for j, key in enumerate(data.keys):
            fig.add_trace(go.Scatter(x=x, y=result.column_equity[keep, j], name=key, line={"width": 0.8},
                                     opacity=0.6), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=-drawdown(eq)[keep], name="drawdown", fill="tozeroy",
                             line={"color": "#d62728", "width": 1}), row=2, col=1)
    table = monthly_returns(eq, index)
    fig.add_trace(go.Heatmap(z=table.to_numpy() * 100, x=["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                                                          "Sep", "Oct", "Nov", "Dec"],
                             y=[str(y) for y in table.index], colorscale="RdYlGn", zmid=0,
                             colorbar={"title": "%", "len": 0.22, "y": 0.36},
                             hovertemplate="%{y} %{x}: %{z:.2f}%<extra></extra>"), row=3, col=1)
    t = result.trades
    if len(t):
        fig.add_trace(go.Scatter(x=index[t.entry_idx], y=t.ret * 100, mode="markers", name="trades",
                                 marker={"size": 4, "color": np.where(t.ret > 0, "#2ca02c", "#d62728")},
                                 text=[data.keys[c] for c in t.column],
                                 hovertemplate="%{text} entry %{x}: %{y:.2f}%<extra></extra>"), row=4, col=1)
    fig.update_yaxes(tickformat=".1%", row=2, col=1)
    fig.update_layout(height=1300, title=title or f"Backtest: {result.spec.label}", showlegend=True,
                      template="plotly_white", margin={"l": 60, "r": 30, "t": 80, "b": 40})
    body = fig.to_html(full_html=False, include_plotlyjs=True)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(_page(title or "Backtest tearsheet", summary, body, result), encoding="utf-8")
    return target


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.4f}" if abs(v) < 1e6 else f"{v:,.0f}"
    return html.escape(str(v))


def _page(title: str, summary: dict[str, Any], body: str, result: BacktestResult) -> str:
    keys = ("strategy", "sizing", "fill", "fee", "bars", "series", "first_bar", "last_bar", "final_equity",
            "total_return", "annual_return", "volatility", "sharpe", "sortino", "max_drawdown", "max_drawdown_days",
            "calmar", "trades", "win_rate", "profit_factor", "exposure", "turnover", "seconds")
    head = "".join(f"<tr><th>{k}</th><td>{_fmt(summary.get(k))}</td></tr>" for k in keys)
    sym_cols = ("symbol", "bars", "trades", "win_rate", "profit_factor", "net_pnl", "exposure", "total_return",
                "sharpe", "max_drawdown")
    sym_rows = "".join("<tr>" + "".join(f"<td>{_fmt(r.get(c, ''))}</td>" for c in sym_cols) + "</tr>"
                       for r in summary.get("per_symbol", [])[:500])
    strat_cols = ("strategy", "trades", "closed_trades", "win_rate", "profit_factor", "net_pnl")
    strat_rows = "".join("<tr>" + "".join(f"<td>{_fmt(r.get(c, ''))}</td>" for c in strat_cols) + "</tr>"
                         for r in summary.get("per_strategy", []))
    t, idx = result.trades, result.data.index_utc
    last = np.argsort(t.entry_idx, kind="stable")[-MAX_TRADE_ROWS:][::-1]
    trade_rows = "".join(
        f"<tr><td>{html.escape(result.data.keys[t.column[k]])}</td><td>{idx[t.entry_idx[k]]}</td>"
        f"<td>{idx[t.exit_idx[k]] if t.exit_idx[k] >= 0 else 'open'}</td><td>{t.entry_price[k]:.6g}</td>"
        f"<td>{t.exit_price[k]:.6g}</td><td>{t.pnl[k]:,.2f}</td><td>{t.ret[k]:+.2%}</td></tr>" for k in last)
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in summary.get("notes", []))
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:20px}}table{{border-collapse:collapse;margin:8px 0 20px}}
td,th{{border:1px solid #ddd;padding:3px 8px;font-size:13px;text-align:right}}th{{background:#f4f4f4}}</style>
</head><body><h1>{html.escape(title)}</h1>
<table>{head}</table>{f"<ul>{notes}</ul>" if notes else ""}
{body}
<h2>Per strategy</h2><table><tr>{"".join(f"<th>{c}</th>" for c in strat_cols)}</tr>{strat_rows}</table>
<h2>Per symbol</h2><table><tr>{"".join(f"<th>{c}</th>" for c in sym_cols)}</tr>{sym_rows}</table>
<h2>Latest trades</h2><table><tr><th>symbol</th><th>entry</th><th>exit</th><th>entry price</th>
<th>exit price</th><th>PnL</th><th>return</th></tr>{trade_rows}</table>
</body></html>"""
