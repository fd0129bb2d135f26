"""The per-process runtime a flow hands its tasks: settings, ledger sessions, feeds, broker, models."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from tradebot.adapters.paper import PaperBroker
from tradebot.adapters.ports import Broker
from tradebot.config import Settings
from tradebot.domain import AssetClass, Instrument, Symbol
from tradebot.errors import ConfigError, DataError
from tradebot.store.db import open_ledger, transaction
from tradebot.store.ledger import ensure_run
from tradebot.store.marketdata import upsert_instruments

if TYPE_CHECKING:
    from strategies.base import Strategy
    from tradebot.alerts import AlertRouter
    from tradebot.sentiment import SentimentAnalyzer

# The synthetic market always starts here, so every run and every `now` sees the same history
# (a later end only appends days); it extends a week past now so live paper mode has data.
SYNTHETIC_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
SYNTHETIC_AHEAD = timedelta(days=7)


@dataclass
class Runtime:
    """What every task needs, built once per flow run from the frozen Settings."""

    settings: Settings
    sessions: sessionmaker[Session]
    run_id: str
    instruments: dict[Symbol, Instrument]
    prices: Any  # a PriceFeed: synthetic, file, or the real providers
    news: Any  # a NewsFeed (plus request_earnings where it has a calendar), or None
    broker: Broker
    kind: str = "paper"
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def symbols(self) -> list[str]:
        """Return the traded symbols."""
        return list(self.instruments)

    @cached_property
    def analyzer(self) -> SentimentAnalyzer:
        """Return the sentiment model, loaded on first use."""
        from tradebot.sentiment import SentimentAnalyzer

        return SentimentAnalyzer()

    @cached_property
    def strategies(self) -> list[Strategy]:
        """Return the configured strategies, built once per runtime."""
        from strategies import create

        built = []
        for i, spec in enumerate(self.settings.strategies):
            try:
                built.append(create(spec.name, **spec.params))
            except ValueError as exc:
                raise ConfigError(f"config: strategies[{i}] ({spec.name}): {exc}") from None
        return built

    @cached_property
    def alerts(self) -> AlertRouter:
        """Return the alert router, with channel secrets looked up in the keyring."""
        from tradebot.alerts.setup import build_router

        return build_router(self.settings, self.sessions)

    @property
    def strategy_weights(self) -> dict[str, float]:
        """Return each strategy's weight in the signal processor, by strategy name."""
        return {spec.name: spec.weight for spec in self.settings.strategies}


def build_runtime(settings: Settings, run_id: str, kind: str, now: datetime,
                  start: datetime | None = None, until: datetime | None = None) -> Runtime:
    """Open the ledger, resolve the universe and feeds, and open the paper account for run_id.

    now is the run's (possibly simulated) start; start and until bound the data it will ask for.
    """
    settings.require_runnable()
    sessions = open_ledger(settings.ledger_url)
    from tradebot.config_audit import record_config_change

    record_config_change(sessions, settings)
    if kind != "replay":
        from tradebot.commands import apply_risk_overrides

        # Limits an admin changed at run time (dashboard or `tradebot trading limits set`) beat the file;
        # a replay simulates the configured rules, as it ignores the kill switch.
        settings = apply_risk_overrides(settings, sessions)
    data = settings.data
    if data.source == "file":
        from tradebot.adapters.feeds import FilePriceFeed

        if data.path is None:
            raise ConfigError("config: data.path is required when data.source is 'file'")
        prices: Any = FilePriceFeed(data.path, settings.universe.symbols, data.timeframe)
        instruments = {Symbol(s): _file_instrument(s) for s in settings.universe.symbols}
        news = None
    elif data.source == "alpaca":
        from tradebot.adapters.providers import build_provider_feeds
        from tradebot.adapters.secrets import open_secret_store

        store = open_secret_store(settings.home)
        prices, news = build_provider_feeds(settings, store.get, lambda: datetime.now(UTC))
        instruments = {Symbol(s): _file_instrument(s) for s in settings.universe.symbols}
    else:
        from tradebot.adapters.feeds import SyntheticFeed
        from tradebot.adapters.synthetic import DEFAULT_CRYPTO, DEFAULT_STOCKS

        known = {i.symbol: i for i in (*DEFAULT_STOCKS, *DEFAULT_CRYPTO)}
        unknown = [s for s in settings.universe.symbols if s not in known]
        if unknown:
            raise DataError(f"unknown symbol(s) {', '.join(unknown)}: the built-in market has {', '.join(known)}")
        instruments = {Symbol(s): known[s] for s in settings.universe.symbols}
        first = min(SYNTHETIC_EPOCH, start or now)
        last = max(now, until or now) + SYNTHETIC_AHEAD
        prices = news = SyntheticFeed(data.seed, list(instruments.values()), first, last)
    if data.news_path is not None:
        from tradebot.adapters.news_files import FileNewsFeed

        news = FileNewsFeed(data.news_path, now)
    from tradebot.brokers import build_broker

    # Replays simulate: they always fill on the paper broker, whatever the mode.
    broker = build_broker(settings, sessions, run_id, simulated=kind == "replay")
    with transaction(sessions) as s:
        upsert_instruments(s, list(instruments.values()))
        # started_at is when the run really began (wall clock), whatever simulated time it replays.
        ensure_run(s, run_id, kind, settings.mode.value, settings.paper.initial_cash, datetime.now(UTC),
                   {"strategies": [sp.name for sp in settings.strategies], "data": data.source, "seed": data.seed,
                    "simulated_start": now.isoformat()})
    if isinstance(broker, PaperBroker):
        broker.open_account(now)
    return Runtime(settings, sessions, run_id, instruments, prices, news, broker, kind)


def _file_instrument(symbol: str) -> Instrument:
    crypto = "/" in symbol or symbol.endswith(("USDT", "USDC", "BUSD"))
    return Instrument(
        symbol=Symbol(symbol), asset_class=AssetClass.CRYPTO if crypto else AssetClass.EQUITY, name=symbol,
        exchange="BINANCE" if crypto else "US", min_qty=Decimal("0.0001") if crypto else Decimal("1"),
        qty_step=Decimal("0.0001") if crypto else Decimal("1"),
    )
