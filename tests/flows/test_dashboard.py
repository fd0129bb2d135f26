"""The dashboard page renders a replayed ledger: metrics, equity chart, positions, orders with reasons."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


def test_dashboard_shows_the_latest_run_from_the_ledger(replayed, monkeypatch):
    url, _, latest = replayed
    monkeypatch.setenv("TRADEBOT_DASHBOARD_LEDGER_URL", url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.selectbox[0].value == latest["run_id"]
    labels = {m.label: m.value for m in at.metric}
    assert labels["equity"] == f"{float(latest['final_equity']):,.2f}"
    orders = at.dataframe[1].value
    assert len(orders) == latest["orders"] and {"verdict", "risk_reasons"} <= set(orders.columns)


def test_dashboard_can_switch_to_an_older_run(replayed, monkeypatch):
    url, first, _ = replayed
    monkeypatch.setenv("TRADEBOT_DASHBOARD_LEDGER_URL", url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.selectbox[0].select(first["run_id"]).run()
    assert not at.exception
    assert len(at.dataframe[1].value) == first["orders"]


def test_an_empty_ledger_says_how_to_fill_it(ledger_url, monkeypatch):
    monkeypatch.setenv("TRADEBOT_DASHBOARD_LEDGER_URL", ledger_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "make demo" in at.info[0].value
