"""`tradebot backtest ... --json`, run as a user runs it (each call is a fresh process: ~5-10 s here)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import SHARED_DATA
from tests.flows.test_backtest_flow import bar_file

pytestmark = pytest.mark.slow  # several processes, each importing pandas, prefect and plotly

TRADEBOT = str(Path(sys.executable).parent / "tradebot")
AAPL = SHARED_DATA / "prices" / "daily_sp500_2013_2018" / "AAPL_data.csv"
REFERENCE = ("--strategy", "sma_cross", "--param", "fast=20", "--param", "slow=50", "--fill", "close",
             "--fee", "0.001")


def tradebot(*args: str, cwd: Path, timeout: int = 240) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TRADEBOT_")}
    return subprocess.run([TRADEBOT, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**clean, "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})


def test_json_output_is_one_object_with_the_agreed_keys_and_the_tearsheet_exists(tmp_path):
    path = bar_file(tmp_path)
    p = tradebot("backtest", "--data", str(path), *REFERENCE, "--cash", "50000", "--json", "--no-flow",
                 "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)  # exactly one JSON document on stdout
    for key in ("bars", "seconds", "final_equity", "trades", "sharpe", "max_drawdown"):
        assert key in out, key
    assert out["bars"] == 600 and out["cash"] == 50000
    assert Path(out["tearsheet"]).is_file() and Path(out["tearsheet"]).parent == tmp_path / "out"


@pytest.mark.slow
def test_the_default_path_runs_the_prefect_flow_and_prints_the_summary(tmp_path):
    path = bar_file(tmp_path)
    p = tradebot("backtest", "--data", str(path), "--strategy", "sma_cross", "--param", "fast=10", "--param",
                 "slow=30", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "final equity" in p.stdout and "tearsheet" in p.stdout
    assert (tmp_path / ".tradebot" / "backtests").is_dir()


@pytest.mark.skipif(not AAPL.is_file(), reason=f"{AAPL} is absent (../shared/data not here)")
def test_the_cli_matches_vectorbt_on_a_real_file(tmp_path):
    vbt = pytest.importorskip("vectorbt")
    p = tradebot("backtest", "--data", str(AAPL), *REFERENCE, "--cash", "100000", "--json", "--no-flow",
                 cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    close = pd.read_csv(AAPL)["close"].astype(float)
    fast, slow = close.rolling(20).mean().to_numpy(), close.rolling(50).mean().to_numpy()
    pf = vbt.Portfolio.from_signals(close, fast > slow, fast <= slow, init_cash=100_000.0, fees=0.001)
    assert out["final_equity"] == pytest.approx(float(pf.final_value()), rel=1e-6)
    assert out["trades"] == int(pf.trades.count())
    assert np.isfinite(out["sharpe"]) and 0 < out["max_drawdown"] < 1


@pytest.mark.parametrize("args,needle", [
    (("--strategy", "nope"), "unknown strategy 'nope'"),
    (("--strategy", "sma_cross", "--param", "fast=60", "--param", "slow=50"), "need 1 <= fast < slow"),
    (("--strategy", "sma_cross", "--fill", "tomorrow"), "fill must be one of close, next_open"),
])
def test_bad_arguments_fail_with_one_line_naming_the_problem(tmp_path, args, needle):
    path = bar_file(tmp_path, days=60)
    p = tradebot("backtest", "--data", str(path), *args, "--no-flow", cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert needle in p.stderr and "Traceback" not in p.stderr


def test_a_missing_data_file_fails_with_its_path_named(tmp_path):
    p = tradebot("backtest", "--data", "missing.csv", "--strategy", "sma_cross", "--no-flow", cwd=tmp_path)
    assert p.returncode == 2
    assert "missing.csv: no such file or folder" in p.stderr
