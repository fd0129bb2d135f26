"""The chaos test, small: faulty fake Alpaca and Binance, the real clients, a worker killed twice, reconciliation."""

import pytest

from bench.chaos import Chaos, run, summary_line


@pytest.mark.slow
def test_orders_survive_faults_kills_and_duplicate_events_with_no_duplicate_loss_or_drift(tmp_path):
    result = run(Chaos(intents=100, seed=11, fault_rate=0.2, kills=2, deadline=120.0), workdir=tmp_path)
    line = summary_line(result)
    assert result["faults"]["worker_killed"] == 2 and result["restarts"] == 2, line
    # Faults really happened on both venues' order endpoints, and events really were redelivered.
    assert any(k.startswith("alpaca.") and v for k, v in result["faults"].items()), line
    assert any(k.startswith("binance.") and v for k, v in result["faults"].items()), line
    assert result["event_duplicates"] > 0, line
    assert (result["duplicates"], result["lost"], result["drift"]) == (0, 0, 0), result.get("examples")
    assert result["orders"] == 100, line
