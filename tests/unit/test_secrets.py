"""The secret store: encrypted-file keyring, environment fallback, rotation visible after the cache TTL."""

from datetime import UTC, datetime, timedelta

import pytest

from tradebot.adapters.secrets import open_secret_store
from tradebot.errors import ConfigError

CANARY = "sk-canary-7f3a9b"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    return open_secret_store(tmp_path, {"TRADEBOT_KEYRING_PASSWORD": "pw"}, clock)


def test_a_stored_key_is_encrypted_at_rest(store, tmp_path):
    store.set("newsapi_key", CANARY)
    assert store.get("newsapi_key") == CANARY
    assert CANARY not in (tmp_path / "keyring.cfg").read_text()


def test_rotation_takes_effect_after_the_cache_ttl_without_a_restart(store, clock, tmp_path):
    store.set("alpaca_key_id", "old")
    assert store.get("alpaca_key_id") == "old"
    other = open_secret_store(tmp_path, {"TRADEBOT_KEYRING_PASSWORD": "pw"}, clock)  # e.g. the CLI process
    other.rotate("alpaca_key_id", "new")
    assert store.get("alpaca_key_id") == "old"  # still cached
    clock.now += timedelta(seconds=31)
    assert store.get("alpaca_key_id") == "new"


def test_list_shows_names_sources_and_rotation_dates_never_values(store, clock):
    store.set("slack_token", CANARY)
    info = {i.name: i for i in store.list()}
    assert info["slack_token"].source == "keyring" and info["slack_token"].rotated_at == clock.now
    assert info["discord_webhook"].source == "missing"
    assert CANARY not in repr(store.list())


def test_the_environment_is_a_fallback(tmp_path, clock):
    env = {"TRADEBOT_KEYRING_PASSWORD": "pw", "TRADEBOT_SECRET_FINNHUB_TOKEN": "t"}
    store = open_secret_store(tmp_path, env, clock)
    assert store.get("finnhub_token") == "t"
    assert {i.name: i.source for i in store.list()}["finnhub_token"] == "environment"
    store.set("finnhub_token", "from-ring")
    assert store.get("finnhub_token") == "from-ring"


def test_unknown_names_rotating_a_missing_key_and_deleting(store):
    with pytest.raises(ConfigError, match="unknown secret 'nope'; known: alpaca_key_id"):
        store.get("nope")
    with pytest.raises(ConfigError, match="keys set telegram_token"):
        store.rotate("telegram_token", "x")
    store.set("telegram_token", "x")
    store.delete("telegram_token")
    assert store.get("telegram_token") is None
