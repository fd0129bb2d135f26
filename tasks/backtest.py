"""Backtest tasks: load bars, run the vectorized engine, record results, render the tearsheet, publish artifacts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from strategies.base import SENTIMENT_COLUMNS
from tasks.common import compute_task, io_task
from tradebot.backtest import ledger as bt_ledger
from tradebot.backtest.data import BarArrays, load_bars
from tradebot.backtest.engine import BacktestResult, BacktestSpec, run
from tradebot.backtest.report import headline, summarize
from tradebot.backtest.tearsheet import render
from tradebot.domain import NewsItem
from tradebot.store.db import open_ledger


@io_task(name="load-backtest-bars", retries=0)
def load_backtest_bars(path: str, symbols: list[str] | None = None, timeframe: str | None = None) -> BarArrays:
    """Read the bar file or folder into arrays."""
    return load_bars(path, symbols, timeframe)


def score_news(items: list[NewsItem]) -> pd.DataFrame:
    """Return news items scored by the sentiment model as a SENTIMENT_COLUMNS frame (one row per symbol)."""
    from tradebot.sentiment import SentimentAnalyzer

    results = SentimentAnalyzer().score_many([n.headline for n in items]) if items else []
    rows = [(n.id, str(sym), n.source, n.published_at, r.compound)
            for n, r in zip(items, results, strict=True) for sym in n.symbols]
    return pd.DataFrame(rows, columns=list(SENTIMENT_COLUMNS))


@io_task(name="load-backtest-news", retries=0)
def load_backtest_news(path: str) -> pd.DataFrame:
    """Read a JSON-lines news file and score every headline."""
    from tradebot.adapters.news_files import read_news_jsonl

    return score_news(read_news_jsonl(Path(path), datetime.now(UTC)))


@compute_task(name="run-backtest")
def run_backtest(data: BarArrays, spec: BacktestSpec,
                 news: pd.DataFrame | None = None) -> tuple[BacktestResult, dict[str, Any]]:
    """Run the engine and compute its figures."""
    result = run(data, spec, news)
    return result, summarize(result)


@io_task(name="record-backtest", retries=1)
def record_backtest(ledger_url: str, run_id: str, result: BacktestResult, summary: dict[str, Any],
                    extra: dict[str, Any]) -> None:
    """Write the run, its equity, figures and trades to the ledger."""
    bt_ledger.save(open_ledger(ledger_url), run_id, result, summary, extra)


@compute_task(name="render-tearsheet")
def render_tearsheet(result: BacktestResult, summary: dict[str, Any], path: str, title: str) -> str:
    """Write the HTML tearsheet and return its absolute path."""
    return str(render(result, summary, path, title).resolve())


METRIC_KEYS = ("bars", "seconds", "final_equity", "total_return", "annual_return", "volatility", "sharpe", "sortino",
               "max_drawdown", "max_drawdown_days", "calmar", "trades", "win_rate", "profit_factor", "exposure",
               "turnover")


def metric_rows(summary: dict[str, Any]) -> list[dict[str, str]]:
    """Return the headline figures as (metric, value) rows."""
    return [{"metric": k, "value": _text(summary.get(k))} for k in METRIC_KEYS]


def _text(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


@io_task(name="publish-backtest-artifacts", retries=1)
def publish_backtest_artifacts(run_id: str, summary: dict[str, Any], tearsheet: str) -> None:
    """Write the metrics table and a markdown note pointing at the tearsheet."""
    rows = metric_rows(summary)
    create_table_artifact(key="backtest-metrics", table=rows,
                          description=f"Backtest {run_id}: {summary.get('strategy')}")
    sym_rows = [{k: _text(r.get(k)) for k in ("symbol", "bars", "trades", "win_rate", "profit_factor", "net_pnl",
                                               "total_return", "sharpe", "max_drawdown")}
                for r in summary.get("per_symbol", [])[:200]]
    if sym_rows:
        create_table_artifact(key="backtest-per-symbol", table=sym_rows, description=f"Backtest {run_id} per symbol")
    uri = Path(tearsheet).resolve().as_uri()
    h = headline(summary)
    md = (f"# Backtest `{run_id}`\n\n{h.get('strategy')} on {h.get('bars')} bars ({h.get('series')} series), "
          f"fill {h.get('fill')}, fee {h.get('fee')}\n\n| | |\n|---|---|\n"
          + "".join(f"| {r['metric']} | {r['value']} |\n" for r in rows)
          + f"\nTearsheet: [{tearsheet}]({uri})\n")
    create_markdown_artifact(key="backtest-summary", markdown=md, description=f"Backtest {run_id}")
