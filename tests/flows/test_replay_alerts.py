"""A replay that hits stops, data-quality failures and the daily loss limit alerts each of them once."""

from collections import Counter

from sqlalchemy import select

from tests.fakes.slack_server import FakeSlackServer
from tests.flows.conftest import END
from tradebot.store.db import make_engine, session_factory
from tradebot.store.ops import AlertRow


def test_a_replay_alerts_stops_data_quality_and_the_daily_limit_each_once(tmp_path):
    from flows.replay import replay

    with FakeSlackServer() as slack:
        overrides = {
            "home": str(tmp_path),
            # A tight daily loss limit and tight stops so a dozen sessions are sure to hit both.
            "risk": {"max_daily_loss": 0.001, "stop_atr": 0.5, "take_profit_atr": 8.0},
            "alerts": {"slack": {"enabled": True, "bot_token": FakeSlackServer.TOKEN, "channel": "#trading",
                                 "base_url": slack.api_url, "min_severity": "info"}},
        }
        summary = replay(days=12, end=END, overrides=overrides, artifacts=False)
        posted = slack.messages()
    with session_factory(make_engine(f"sqlite:///{tmp_path / 'ledger.db'}"))() as s:
        rows = s.scalars(select(AlertRow)).all()
    kinds = Counter(r.kind for r in rows)
    assert {"stop_triggered", "data_quality_failure", "daily_limit_hit", "daily_report"} <= set(kinds), kinds
    # Each alert key is recorded once (repeats within the window only raise its count) ...
    keys = Counter(r.key for r in rows)
    assert max(keys.values()) == 1, keys
    assert all(r.delivery == "sent" for r in rows)
    # ... and Slack got exactly one first message per key, plus one "(xN)" summary for each repeated key.
    repeated = sum(1 for r in rows if r.count > 1)
    assert len(posted) == len(rows) + repeated
    assert any(summary["run_id"] in str(m) for m in posted)
