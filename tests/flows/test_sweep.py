"""Flow `sweep_parameters`: a small grid on a local Dask cluster of 2 workers, ranked, with artifacts."""

import pytest
from prefect.artifacts import Artifact

from flows.sweep import batches, expand_grid, rank
from tests.flows.test_backtest_flow import bar_file
from tradebot.backtest.data import load_bars
from tradebot.backtest.engine import BacktestSpec, run


def test_the_grid_expands_to_every_combination_over_the_fixed_parameters():
    sets = expand_grid({"fast": [5, 10], "slow": [30, 50, 80]}, {"allow_short": False})
    assert len(sets) == 6
    assert {"fast": 5, "slow": 80, "allow_short": False} in sets
    assert [len(b) for b in batches(sets, n_workers=2)] == [1] * 6
    assert [len(b) for b in batches(sets, n_workers=1, batch_size=4)] == [4, 2]


def test_ranking_puts_the_best_first_and_refused_parameter_sets_last():
    rows = [{"params": {"a": 1}, "sharpe": 0.5}, {"params": {"a": 2}, "error": "bad"},
            {"params": {"a": 3}, "sharpe": 1.5}]
    ranked = rank(rows, "sharpe")
    assert [r["params"]["a"] for r in ranked] == [3, 1, 2]
    assert rank(rows[:1] + [{"params": {}, "max_drawdown": 0.1}, {"params": {}, "max_drawdown": 0.3}],
                "max_drawdown")[0]["max_drawdown"] == 0.1
    with pytest.raises(ValueError, match="cannot rank by 'luck'"):
        rank(rows, "luck")


@pytest.mark.slow
def test_a_sweep_on_a_two_worker_local_cluster_ranks_every_set_like_single_runs(tmp_path):
    from flows.sweep import sweep_parameters

    path = bar_file(tmp_path, days=400)
    grid = {"fast": [5, 10, 20], "slow": [30, 60]}
    ranked = sweep_parameters(data_path=str(path), strategy="sma_cross", grid=grid, fill="close", n_workers=2,
                              rank_by="final_equity")
    assert len(ranked) == 6
    finals = [r["final_equity"] for r in ranked]
    assert finals == sorted(finals, reverse=True)
    # Each row is what a single backtest of those parameters gives.
    data = load_bars(path)
    best = ranked[0]
    single = run(data, BacktestSpec(strategies=(("sma_cross", best["params"]),), fill="close"))
    assert single.equity[-1] == pytest.approx(best["final_equity"], rel=1e-12)
    table = Artifact.get("sweep-ranking")
    assert table is not None and "fast=" in str(table.data)
    assert Artifact.get("sweep-progress") is not None
