"""Config: JSON file plus environment, frozen, and one-line errors that name the key."""

import json

import pytest

from tradebot.config import load_settings
from tradebot.domain import Mode
from tradebot.errors import ConfigError


def write(tmp_path, data) -> str:
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(path)


def test_defaults_are_paper_mode_with_sqlite_under_home(tmp_path):
    s = load_settings()
    assert s.mode is Mode.PAPER
    assert s.ledger_url.startswith("sqlite:///") and s.ledger_url.endswith(".tradebot/ledger.db")
    assert "BTC/USD" in s.universe.symbols


def test_environment_overrides_the_file_key_by_key(tmp_path, monkeypatch):
    path = write(tmp_path, {"risk": {"max_position_weight": 0.2, "max_open_positions": 4}})
    monkeypatch.setenv("TRADEBOT_RISK__MAX_OPEN_POSITIONS", "3")
    s = load_settings(path)
    assert s.risk.max_position_weight == 0.2
    assert s.risk.max_open_positions == 3


def test_settings_are_frozen():
    s = load_settings()
    with pytest.raises(Exception):
        s.mode = Mode.LIVE  # type: ignore[misc]


def test_comment_keys_are_ignored(tmp_path):
    s = load_settings(write(tmp_path, {"_doc": "hi", "risk": {"_doc": "x", "max_open_positions": 2}}))
    assert s.risk.max_open_positions == 2


@pytest.mark.parametrize("data,needle", [
    ({"risk": {"max_position_weight": 1.5}}, "risk.max_position_weight = 1.5 is invalid: Input should be less"),
    ({"mode": "yolo"}, "mode = 'yolo' is invalid: Input should be 'paper', 'alpaca-paper' or 'live'"),
    ({"risk": {"max_pos": 1}}, "unknown key 'risk.max_pos'"),
    ({"universe": {"stocks": ["AAPL", "aapl"]}}, "universe.stocks"),
    ({"paper": {"initial_cash": "-5"}}, "paper.initial_cash"),
])
def test_a_bad_value_fails_with_one_line_naming_key_value_and_rule(tmp_path, data, needle):
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, data))
    assert needle in str(err.value)
    assert "\n" not in str(err.value)


def test_bad_environment_value_is_named_too(monkeypatch):
    monkeypatch.setenv("TRADEBOT_RISK__MAX_OPEN_POSITIONS", "lots")
    with pytest.raises(ConfigError, match="risk.max_open_positions = 'lots'"):
        load_settings()


@pytest.mark.parametrize("text,needle", [("{not json", "not valid JSON"), ("[1, 2]", "JSON object")])
def test_malformed_file_is_named(tmp_path, text, needle):
    with pytest.raises(ConfigError, match=needle):
        load_settings(write(tmp_path, text))


def test_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ConfigError, match="tradebot init"):
        load_settings(tmp_path / "nope.json")


def test_live_refuses_without_keys_then_without_confirmation(monkeypatch):
    monkeypatch.setenv("TRADEBOT_MODE", "live")
    with pytest.raises(ConfigError, match="TRADEBOT_ALPACA__KEY_ID"):
        load_settings().require_runnable()
    monkeypatch.setenv("TRADEBOT_ALPACA__KEY_ID", "AKTEST")
    monkeypatch.setenv("TRADEBOT_ALPACA__SECRET_KEY", "s3cr3t-canary")
    with pytest.raises(ConfigError, match="--confirm-live"):
        load_settings().require_runnable()
    load_settings().require_runnable(confirm_live=True)


def test_secret_values_never_appear_in_errors_or_dumps(monkeypatch):
    monkeypatch.setenv("TRADEBOT_ALPACA__SECRET_KEY", "s3cr3t-canary")
    s = load_settings()
    assert "s3cr3t-canary" not in s.model_dump_json()
    assert "s3cr3t-canary" not in repr(s)


def test_a_readable_config_file_holding_secrets_is_refused_with_the_chmod(tmp_path):
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"alpaca": {"key_id": "AK1", "secret_key": "shh"}}))
    path.chmod(0o644)
    with pytest.raises(ConfigError, match=f"run `chmod 600 {path}`") as err:
        load_settings(path)
    assert "shh" not in str(err.value)
    path.chmod(0o600)
    assert load_settings(path).alpaca.key_id.get_secret_value() == "AK1"


def test_a_readable_config_file_without_secrets_is_fine(tmp_path):
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"alpaca": {"trading_url": "http://127.0.0.1:1"}, "risk": {"max_open_positions": 3}}))
    path.chmod(0o644)
    assert load_settings(path).risk.max_open_positions == 3


def test_a_webhook_url_counts_as_a_secret_for_the_permission_check(tmp_path):
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"alerts": {"discord": {"webhook_url": "https://discord.example/api/webhooks/1/x"}}}))
    path.chmod(0o640)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_settings(path)
