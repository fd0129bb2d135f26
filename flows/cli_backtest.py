"""`tradebot backtest` and `tradebot sweep`: the vectorized backtester and distributed parameter sweeps."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer()  # its commands are registered on the root app by flows/cli.py
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="JSON config file (default ./tradebot.json)")]


def parse_value(text: str) -> Any:
    """Return text as a bool, int or float when it reads as one, else as it is."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_params(items: list[str], names: list[str]) -> dict[str, dict[str, Any]]:
    """Return k=v items as parameters per strategy ("name.k=v" targets one strategy, "k=v" the first)."""
    out: dict[str, dict[str, Any]] = {n: {} for n in names}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"expected k=v, got {item!r}", param_hint="--param")
        owner, dot, name = key.strip().rpartition(".")
        if dot and owner not in out:
            raise typer.BadParameter(f"{item!r} names strategy {owner!r}, which is not among {', '.join(names)}",
                                     param_hint="--param")
        out[owner if dot else names[0]][name] = parse_value(value)
    return out


def parse_grid(items: list[str]) -> dict[str, list[Any]]:
    """Return --grid k=v1,v2 items as {k: [v1, v2]}."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        choices = [parse_value(v) for v in values.split(",") if v.strip()]
        if not sep or not key.strip() or not choices:
            raise typer.BadParameter(f"expected k=v1,v2,..., got {item!r}", param_hint="--grid")
        grid[key.strip()] = choices
    return grid


def _clean(obj: Any) -> Any:
    """Return obj with NaN and infinities as None, so the output is strict JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def _check(settings_fn: Any, config: Path | None, strategies: dict[str, dict[str, Any]], fill: str, sizing: str,
           fee: float, cash: float) -> Any:
    from strategies import create
    from tradebot.backtest.engine import BacktestSpec
    from tradebot.errors import ConfigError

    settings = settings_fn(config)
    for name, params in strategies.items():
        try:
            create(name, **params)
        except ValueError as exc:
            raise ConfigError(f"backtest: {exc}") from None
    try:
        BacktestSpec(strategies=tuple(strategies.items()), fill=fill, fee=fee, cash=cash,  # type: ignore[arg-type]
                     sizing=sizing)
    except ValueError as exc:
        raise ConfigError(f"backtest: {exc}") from None
    return settings


@app.command("backtest")
def backtest_command(
    data: Annotated[Path, typer.Option("--data", help="bar file or folder (CSV/Parquet)")],
    strategy: Annotated[list[str], typer.Option("--strategy", help="strategy name (repeat to combine, risk sizing)")],
    param: Annotated[list[str] | None, typer.Option("--param", help="k=v, or name.k=v for one strategy")] = None,
    fill: Annotated[str, typer.Option(help="close | next_open")] = "next_open",
    fee: Annotated[float, typer.Option(help="fee per side, fraction of notional")] = 0.001,
    cash: Annotated[float, typer.Option(help="starting cash")] = 100_000.0,
    sizing: Annotated[str, typer.Option(help="allin (reference rule) | risk (processor, risk, stops)")] = "allin",
    symbols: Annotated[str | None, typer.Option(help="comma-separated subset")] = None,
    timeframe: Annotated[str | None, typer.Option(help="only bars of this timeframe, e.g. 1Day")] = None,
    news: Annotated[Path | None, typer.Option("--news", help="JSON-lines news file for news strategies")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="folder for the tearsheet (default .tradebot/backtests)")]
    = None,
    json_out: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    no_flow: Annotated[bool, typer.Option("--no-flow", help="run in-process, without Prefect")] = False,
    config: ConfigOpt = None,
) -> None:
    """Backtest strategies over historical bars; print the figures and where the tearsheet is."""
    from flows.cli import _settings

    params = parse_params(param or [], strategy)
    settings = _check(_settings, config, params, fill, sizing, fee, cash)
    kwargs = {"data_path": str(data), "strategies": list(params.items()), "fill": fill, "fee": fee, "cash": cash,
              "sizing": sizing, "out_dir": str(out) if out else None,
              "symbols": symbols.split(",") if symbols else None, "timeframe": timeframe,
              "config_path": str(config) if config else None, "news_path": str(news) if news else None}
    try:
        if no_flow:
            summary = run_inline(settings, **kwargs)
        else:
            from flows.backtest import backtest

            summary = backtest(**kwargs)
    except ValueError as exc:  # the engine names the bad input (e.g. mixed timeframes for one clock)
        from tradebot.errors import ConfigError

        raise ConfigError(f"backtest: {exc}") from None
    if json_out:
        typer.echo(json.dumps(_clean(summary), default=str))
        return
    print_summary(summary)


def run_inline(settings: Any, data_path: str, strategies: list, fill: str, fee: float, cash: float, sizing: str,
               out_dir: str | None, symbols: list[str] | None, timeframe: str | None, news_path: str | None = None,
               **_: Any) -> dict[str, Any]:
    """Run the backtest tasks' functions directly (no Prefect): load, run, tearsheet, ledger."""
    from flows.backtest import spec_from
    from tasks.backtest import load_backtest_bars, load_backtest_news, record_backtest, render_tearsheet, run_backtest
    from tradebot.backtest.ledger import new_run_id

    spec = spec_from(settings, strategies, fill, fee, cash, sizing)
    run_id = new_run_id()
    data = load_backtest_bars.fn(data_path, symbols, timeframe)
    news = load_backtest_news.fn(news_path) if news_path else None
    result, summary = run_backtest.fn(data, spec, news)
    folder = Path(out_dir) if out_dir else settings.home / "backtests"
    sheet = render_tearsheet.fn(result, summary, str(folder / f"{run_id}.html"), f"Backtest {run_id}: {spec.label}")
    record_backtest.fn(settings.ledger_url, run_id, result, summary, {"data_path": data_path, "tearsheet": sheet})
    return {"run_id": run_id, **summary, "tearsheet": sheet}


def print_summary(s: dict[str, Any]) -> None:
    """Print a backtest's headline figures as aligned lines."""
    def pct(k: str) -> str:
        v = s.get(k)
        return "n/a" if v is None else f"{v:+.2%}"

    def num(k: str, fmt: str = ".2f") -> str:
        v = s.get(k)
        return "n/a" if v is None or isinstance(v, str) else format(v, fmt)

    lines = [
        f"run            {s['run_id']}  {s['strategy']}  (sizing {s['sizing']}, fill {s['fill']}, fee {s['fee']})",
        f"bars           {s['bars']:,} in {s['series']} series, {s['first_bar']} .. {s['last_bar']}",
        f"speed          {s['seconds']:.3f} s  ({num('bars_per_second', ',.0f')} bars/s)",
        f"final equity   {s['final_equity']:,.2f} from {s['cash']:,.2f}  (total {pct('total_return')}, "
        f"annual {pct('annual_return')})",
        f"risk           vol {num('volatility', '.2%')}, Sharpe {num('sharpe')}, Sortino {num('sortino')}, "
        f"max drawdown {num('max_drawdown', '.2%')} over {num('max_drawdown_days', '.0f')} days, "
        f"Calmar {num('calmar')}",
        f"trades         {s['trades']}  (win rate {num('win_rate', '.1%')}, profit factor {num('profit_factor')}, "
        f"exposure {num('exposure', '.1%')}, turnover {num('turnover', '.1f')}x/yr)",
        f"tearsheet      {s['tearsheet']}",
    ]
    typer.echo("\n".join(lines))


@app.command("sweep")
def sweep_command(
    data: Annotated[Path, typer.Option("--data", help="bar file or folder (CSV/Parquet)")],
    strategy: Annotated[str, typer.Option("--strategy", help="strategy name")],
    grid: Annotated[list[str], typer.Option("--grid", help="k=v1,v2,... (repeat per parameter)")],
    param: Annotated[list[str] | None, typer.Option("--param", help="fixed k=v")] = None,
    fill: Annotated[str, typer.Option(help="close | next_open")] = "next_open",
    fee: Annotated[float, typer.Option()] = 0.001,
    cash: Annotated[float, typer.Option()] = 100_000.0,
    sizing: Annotated[str, typer.Option(help="allin | risk")] = "allin",
    rank_by: Annotated[str, typer.Option("--rank-by", help="figure to rank by (higher is better)")] = "sharpe",
    address: Annotated[str | None, typer.Option(help="Dask scheduler, e.g. tcp://host:8786 (default: a local "
                                                     "cluster of 2 workers)")] = None,
    workers: Annotated[int, typer.Option(min=1, help="local cluster workers")] = 2,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    config: ConfigOpt = None,
) -> None:
    """Sweep a parameter grid on a Dask cluster, with a progress bar; print the ranked table."""
    from flows.cli import _settings
    from tradebot.errors import ConfigError

    fixed = parse_params(param or [], [strategy])[strategy]
    settings_grid = parse_grid(grid)
    _check(_settings, config, {strategy: fixed}, fill, sizing, fee, cash)
    from flows.sweep import sweep_parameters

    try:
        ranked = sweep_parameters(data_path=str(data), strategy=strategy, grid=settings_grid, fixed=fixed, fill=fill,
                                  fee=fee, cash=cash, sizing=sizing, rank_by=rank_by, address=address,
                                  n_workers=workers, show_progress=not json_out)
    except ValueError as exc:
        raise ConfigError(f"sweep: {exc}") from None
    if json_out:
        typer.echo(json.dumps(_clean(ranked), default=str))
        return
    from flows.sweep import format_table

    typer.echo(format_table(ranked))
