"""Building a Sentinel from Settings: brokers per account, live feeds, the REST fallback, alerts and metrics."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tradebot.brokers import build_trading
from tradebot.errors import ConfigError
from tradebot.sentinel.feeds import AlpacaTradeFeed, OnTrade
from tradebot.sentinel.health import Backoff
from tradebot.sentinel.metrics import sentinel_metrics
from tradebot.sentinel.notify import Notifier
from tradebot.sentinel.runner import Feed, Sentinel


def alpaca_keys(settings: Any, secret: Callable[[str], str | None]) -> tuple[str, str]:
    """Return the Alpaca key id and secret (config/env first, then the keyring); ConfigError naming what is missing."""
    keys = []
    for field, name in (("key_id", "alpaca_key_id"), ("secret_key", "alpaca_secret_key")):
        configured = getattr(settings.alpaca, field)
        value = configured.get_secret_value() if configured is not None else secret(name)
        if not value:
            raise ConfigError(f"the stop sentinel needs {name} for Alpaca market data: `tradebot keys set {name}` "
                              f"(or TRADEBOT_SECRET_{name.upper()})")
        keys.append(value)
    return keys[0], keys[1]


def build_feeds(settings: Any, key: str, secret: str, on_trade: OnTrade) -> list[Feed]:
    """Return the configured live feeds, one connection each (Alpaca stocks, Alpaca crypto, Binance)."""
    cfg = settings.sentinel
    backoff = Backoff(cfg.backoff_base_seconds, cfg.backoff_max_seconds)
    base = cfg.alpaca_stream_url.rstrip("/")
    feeds: list[Feed] = []
    if cfg.alpaca_stocks:
        feeds.append(AlpacaTradeFeed("alpaca-stocks", False, f"{base}/v2/{settings.feeds.stock_feed}", key, secret,
                                     on_trade, backoff, feed=settings.feeds.stock_feed))
    if cfg.alpaca_crypto:
        feeds.append(AlpacaTradeFeed("alpaca-crypto", True, f"{base}/v1beta3/crypto/us", key, secret, on_trade,
                                     backoff))
    if cfg.binance:
        from tradebot.sentinel.binance_feed import BinanceTradeFeed

        feeds.append(BinanceTradeFeed("binance", cfg.binance_stream_url, on_trade, backoff,
                                      quote_map=settings.binance.quote_map))
    if not feeds:
        raise ConfigError("config: sentinel has no feed enabled (alpaca_stocks, alpaca_crypto, binance)")
    return feeds


def build_sentinel(settings: Any, *, secret: Callable[[str], str | None] | None = None,
                   clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Sentinel:
    """Return a Sentinel wired from settings: ledger, brokers, feeds, REST fallback, alert router and metrics."""
    from tradebot.adapters.alpaca_data import AlpacaPriceFeed
    from tradebot.alerts.setup import build_router
    from tradebot.store.db import open_ledger

    if secret is None:
        from tradebot.adapters.secrets import open_secret_store

        secret = open_secret_store(settings.home).get
    key, secret_key = alpaca_keys(settings, secret)
    sessions = open_ledger(settings.ledger_url)
    accounts = list(settings.sentinel.accounts or (settings.paper.account,))
    router = build_router(settings, sessions)
    prices = AlpacaPriceFeed(settings.alpaca.data_url, key, secret_key, clock, stock_feed=settings.feeds.stock_feed)

    def rest_prices(symbols: Sequence[str]) -> dict[str, Decimal]:
        return {s: t.price for s, t in prices.latest_trades(symbols).items()}

    trading = {a: build_trading(settings, sessions, a, secret=secret) for a in accounts}
    # One Alpaca key has one trade_updates channel: the standing account follows it, other accounts poll.
    streams = {a: stream for a, (_, stream) in trading.items() if stream is not None and a == settings.paper.account}
    return Sentinel(settings.sentinel, sessions, {a: broker for a, (broker, _) in trading.items()}, [],
                    rest_prices=rest_prices, notifier=Notifier(router.send), metrics=sentinel_metrics(), clock=clock,
                    make_feeds=lambda on_trade: build_feeds(settings, key, secret_key, on_trade), order_streams=streams)
