"""`tradebot demo`: a replay of built-in data through the flows, and a summary a person can read."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer


def run_demo(config: Path | None, days: int, reset: bool, settings_fn: Callable[..., Any]) -> None:
    """Run the demo replay under a new run id and print its summary."""
    from tradebot.config import load_settings

    if reset:
        home = load_settings(config).home
        if home.exists():
            shutil.rmtree(home)
            typer.echo(f"reset: removed {home}/")
    settings = settings_fn(config, runnable=True)
    typer.echo(f"tradebot demo: replaying {days} trading days of built-in data "
               f"({len(settings.universe.symbols)} symbols, seed {settings.data.seed}, mode {settings.mode.value})")
    typer.echo("starting a local Prefect server (the first run builds its database: ~10-20 s)...")
    t0 = time.perf_counter()
    from flows.replay import replay

    summary = replay(days=days, config_path=str(config) if config else None, show_progress=True)
    print_summary(summary, time.perf_counter() - t0, settings.home)
    backtest_demo(settings, config)


def backtest_demo(settings: Any, config: Path | None) -> str:
    """Backtest the technical strategies over the demo market's whole history; print where the tearsheet is."""
    from flows.backtest import backtest
    from flows.cli_backtest import print_summary as print_backtest

    path, news = demo_bars_path(settings)
    names = ["news_sentiment", "sma_cross", "ema_cross"] if news else ["sma_cross", "ema_cross"]
    typer.echo(f"\nbacktest: {' + '.join(names)} through the processor, risk engine and next-open fills over "
               f"{path.name}...")
    out = backtest(data_path=str(path), strategies=[(n, {}) for n in names], fill="next_open",
                   fee=float(settings.paper.commission_bps) / 10_000, sizing="risk",
                   cash=float(settings.paper.initial_cash), config_path=str(config) if config else None,
                   news_path=str(news) if news else None)
    print_backtest(out)
    typer.echo(f"\nopen the tearsheet: {out['tearsheet']}")
    return str(out["tearsheet"])


def demo_bars_path(settings: Any) -> tuple[Path, Path | None]:
    """Return bar and news files of the demo's market: the configured files, or the built-in market's, written out."""
    if settings.data.source == "file" and settings.data.path is not None:
        return Path(settings.data.path), settings.data.news_path
    from flows.replay import DEFAULT_END
    from tasks.runtime import SYNTHETIC_EPOCH
    from tradebot.adapters.files import write_bars
    from tradebot.adapters.synthetic import DEFAULT_CRYPTO, DEFAULT_STOCKS, SyntheticMarket

    known = {i.symbol: i for i in (*DEFAULT_STOCKS, *DEFAULT_CRYPTO)}
    instruments = [known[s] for s in settings.universe.symbols if s in known]
    target = settings.home / "backtests" / f"demo-bars-seed{settings.data.seed}.parquet"
    news = target.with_name(f"demo-news-seed{settings.data.seed}.jsonl")
    if not target.exists() or not news.exists():
        market = SyntheticMarket(settings.data.seed, SYNTHETIC_EPOCH.date(), DEFAULT_END, instruments)
        write_bars(market.bars(), target)
        end = datetime.combine(DEFAULT_END, datetime.min.time(), UTC)
        news.write_text("".join(json.dumps({"source": n.source, "headline": n.headline, "url": n.url,
                                            "symbols": list(n.symbols), "published_at": n.published_at.isoformat()})
                                + "\n" for n in market.news(end)), encoding="utf-8")
    return target, news


def print_summary(s: dict, seconds: float | None = None, home: Path | None = None) -> None:
    """Print a run summary as short aligned lines."""
    v = s.get("verdicts", {})
    pnl = float(s["pnl"])
    bh = float(s["buy_and_hold_equity"]) - float(s["initial_cash"])
    lines = [
        "",
        f"run            {s['run_id']}  ({s['days']} calendar days, {s['first_day']} .. {s['last_day']})",
        f"symbols        {', '.join(s['symbols'])}",
        f"signals        {s['signals']}  ({_by_strategy(s.get('signals_by_strategy', {}))})",
        f"intents        {s['intents']}  (accepted {v.get('accepted', 0)}, resized {v.get('resized', 0)}, "
        f"rejected {v.get('rejected', 0)})",
        *(f"  e.g. {verdict:8} {text}" for verdict, text in s.get("examples", {}).items()),
        f"orders         {s['orders']}",
        f"fills          {s['fills']}   open positions {s['open_positions']}",
        f"final equity   {float(s['final_equity']):,.2f}  from {float(s['initial_cash']):,.2f}",
        f"PnL            {pnl:+,.2f}   buy-and-hold (equal weight) {bh:+,.2f}",
        f"data quality   {_quality_line(s.get('data_quality', {}))}",
        f"ledger         {s['ledger']}",
    ]
    if seconds is not None:
        lines.append(f"wall time      {seconds:.1f} s")
    prefect_home = (home or Path(".tradebot")).resolve() / "prefect"
    lines += [
        "",
        "next:",
        f"  Prefect UI: PREFECT_HOME={prefect_home} .venv/bin/prefect server start --host 127.0.0.1 --port 4200",
        "              then open http://127.0.0.1:4200/runs (the replay run, its tasks and trade-cycle artifacts)",
        "  dashboard:  .venv/bin/tradebot users add admin --role admin   (once: sets the login password)",
        "              .venv/bin/tradebot dashboard   then open http://127.0.0.1:8501 and log in",
        "  services:   make up   (Prefect server + deployments + worker + sentinel + dashboard; make down stops them)",
    ]
    typer.echo("\n".join(lines))


def _quality_line(q: dict) -> str:
    batches = ", ".join(f"{n} {kind}" for kind, n in sorted(q.get("batches", {}).items())) or "none"
    failed = ", ".join(f"{name} {n}" for name, n in sorted(q.get("failed", {}).items()))
    return f"{batches} batches gated, {q.get('quarantined', 0)} rows quarantined" + (f" ({failed})" if failed else "")


def _by_strategy(counts: dict) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items())) or "none"
