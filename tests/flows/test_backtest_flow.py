"""Flow `backtest`: figures, a self-contained tearsheet, the ledger rows and the Prefect artifacts of one run."""

import numpy as np
import pandas as pd
from prefect.artifacts import Artifact
from sqlalchemy import func, select

from tradebot.adapters.files import write_bars
from tradebot.domain import BAR_COLUMNS
from tradebot.store.backtest import BacktestMetricRow, BacktestTradeRow
from tradebot.store.db import make_engine, session_factory
from tradebot.store.trading import EquitySnapshotRow, RunRow


def bar_file(folder, days=300, symbols=("AAA", "BBB"), seed=1):
    """Write a canonical daily bar CSV of random walks and return its path."""
    rng = np.random.default_rng(seed)
    frames = []
    for sym in symbols:
        c = 50 * np.exp(np.cumsum(rng.normal(0.0005, 0.02, days)))
        o = c * np.exp(rng.normal(0, 0.005, days))
        frames.append(pd.DataFrame({"symbol": sym, "timeframe": "1Day",
                                    "ts": pd.date_range("2022-01-03", periods=days, freq="D", tz="UTC"),
                                    "open": o, "high": np.maximum(o, c) * 1.01, "low": np.minimum(o, c) * 0.99,
                                    "close": c, "volume": 1e6}))
    path = folder / "bars.csv"
    write_bars(pd.concat(frames, ignore_index=True)[list(BAR_COLUMNS)], path)
    return path


def test_a_backtest_run_records_figures_trades_equity_and_artifacts_and_writes_an_offline_tearsheet(tmp_path):
    from flows.backtest import backtest

    path = bar_file(tmp_path)
    out = backtest(data_path=str(path), strategies=[("sma_cross", {"fast": 10, "slow": 30})], fill="close",
                   out_dir=str(tmp_path / "sheets"), overrides={"home": str(tmp_path / "home")})
    for key in ("bars", "seconds", "final_equity", "trades", "sharpe", "max_drawdown", "run_id", "tearsheet"):
        assert key in out
    assert out["bars"] == 600 and out["trades"] > 0
    html = (tmp_path / "sheets" / f"{out['run_id']}.html").read_text()
    assert out["tearsheet"].endswith(f"{out['run_id']}.html")
    assert "Plotly.newPlot" in html
    assert "<script src=\"https://cdn" not in html  # plotly.js is inline: the file opens offline
    for title in ("Equity", "Drawdown", "Monthly returns", "Trades"):
        assert title in html

    sessions = session_factory(make_engine(f"sqlite:///{tmp_path / 'home' / 'ledger.db'}"))
    with sessions() as s:
        run = s.get(RunRow, out["run_id"])
        assert run.kind == "backtest" and run.status == "completed"
        assert run.params["strategies"] == [["sma_cross", {"fast": 10, "slow": 30}]]
        assert s.scalar(select(func.count()).select_from(BacktestTradeRow)
                        .where(BacktestTradeRow.run_id == run.run_id)) == out["trades"]
        scopes = set(s.scalars(select(BacktestMetricRow.scope).where(BacktestMetricRow.run_id == run.run_id)))
        assert scopes == {"portfolio", "strategy", "symbol"}
        last = s.scalars(select(EquitySnapshotRow).where(EquitySnapshotRow.run_id == run.run_id)
                         .order_by(EquitySnapshotRow.ts.desc())).first()
        assert float(last.equity) == round(out["final_equity"], 2)

    table = Artifact.get("backtest-metrics")
    assert table is not None and "final_equity" in str(table.data)
    note = Artifact.get("backtest-summary")
    assert note is not None and out["tearsheet"] in str(note.data)


def test_a_missing_data_path_fails_with_the_path_named(tmp_path):
    import pytest

    from flows.backtest import backtest
    from tradebot.errors import DataError

    with pytest.raises(DataError, match="nowhere.csv: no such file"):
        backtest(data_path=str(tmp_path / "nowhere.csv"), overrides={"home": str(tmp_path / "home")})
