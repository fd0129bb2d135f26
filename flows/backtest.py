"""Flow `backtest`: replay bar files through the vectorized strategies, risk and fills; record and report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow

from flows.hooks import FAILURE_HOOKS
from tasks.backtest import (
    load_backtest_bars,
    load_backtest_news,
    publish_backtest_artifacts,
    record_backtest,
    render_tearsheet,
    run_backtest,
)
from tasks.progress import ProgressArtifact
from tradebot.backtest.engine import BacktestSpec
from tradebot.backtest.ledger import new_run_id
from tradebot.config import load_settings


@flow(name="backtest", log_prints=True, **FAILURE_HOOKS)
def backtest(data_path: str, strategies: list[tuple[str, dict[str, Any]]] | None = None, fill: str = "next_open",
             fee: float = 0.001, cash: float = 100_000.0, sizing: str = "allin", out_dir: str | None = None,
             symbols: list[str] | None = None, timeframe: str | None = None, config_path: str | None = None,
             overrides: dict | None = None, run_id: str | None = None, record: bool = True,
             artifacts: bool = True, news_path: str | None = None, news: Any = None,
             slippage_bps: float | None = None) -> dict[str, Any]:
    """Backtest the strategies over the bars at data_path; return the figures, run id and tearsheet path."""
    settings = load_settings(config_path, **(overrides or {}))
    run_id = run_id or new_run_id()
    spec = spec_from(settings, strategies or [("sma_cross", {})], fill, fee, cash, sizing, slippage_bps)
    # Steps are weighed in percent; every step is pushed (min_interval 0), as the flow has only four.
    progress = ProgressArtifact("backtest-progress", total=100, description=f"backtest {run_id}", min_interval=0) \
        if artifacts else None
    data = load_backtest_bars(data_path, symbols, timeframe)
    if news is None and news_path:
        news = load_backtest_news(news_path)
    _advance(progress, 25)
    result, summary = run_backtest(data, spec, news)
    _advance(progress, 60)
    folder = Path(out_dir) if out_dir else settings.home / "backtests"
    tearsheet = render_tearsheet(result, summary, str(folder / f"{run_id}.html"), f"Backtest {run_id}: {spec.label}")
    _advance(progress, 80)
    if record:
        record_backtest(settings.ledger_url, run_id, result, summary,
                        {"data_path": str(data_path), "news_path": news_path, "tearsheet": tearsheet})
    if artifacts:
        publish_backtest_artifacts(run_id, summary, tearsheet)
    _advance(progress, 100)
    return {"run_id": run_id, **summary, "tearsheet": tearsheet}


def spec_from(settings: Any, strategies: list, fill: str, fee: float, cash: float, sizing: str,
              slippage_bps: float | None = None) -> BacktestSpec:
    """Return the run's spec; risk sizing takes the config's risk policy and the paper broker's slippage."""
    from risk import RiskPolicy

    policy = RiskPolicy(limits=settings.risk.limits(), **settings.risk.policy_kwargs())
    if slippage_bps is None:
        slippage_bps = float(settings.paper.slippage_bps) if sizing == "risk" else 0.0
    return BacktestSpec(strategies=tuple((n, dict(p)) for n, p in strategies), fill=fill, fee=fee,  # type: ignore
                        cash=cash, sizing=sizing, slippage_bps=slippage_bps, policy=policy,
                        weight_per_unit=settings.signals.weight_per_unit)


def _advance(progress: ProgressArtifact | None, pct: int) -> None:
    if progress is not None:
        progress.advance(pct - progress.completed)
