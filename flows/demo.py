"""`tradebot demo`: a replay of built-in data through the flows, and a summary a person can read."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
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
        "  dashboard:  .venv/bin/tradebot dashboard   then open http://127.0.0.1:8501",
    ]
    typer.echo("\n".join(lines))


def _quality_line(q: dict) -> str:
    batches = ", ".join(f"{n} {kind}" for kind, n in sorted(q.get("batches", {}).items())) or "none"
    failed = ", ".join(f"{name} {n}" for name, n in sorted(q.get("failed", {}).items()))
    return f"{batches} batches gated, {q.get('quarantined', 0)} rows quarantined" + (f" ({failed})" if failed else "")


def _by_strategy(counts: dict) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items())) or "none"
