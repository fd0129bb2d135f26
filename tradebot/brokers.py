"""Which broker an account trades through: one factory for the trade cycle, the commands and the sentinel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tradebot.domain import ClientOrderId, Mode


def build_broker(settings: Any, sessions: sessionmaker[Session], account: str, *, simulated: bool = False) -> Any:
    """Return the paper broker in paper mode (and for every simulation), else Alpaca, crypto on Binance if set."""
    return build_trading(settings, sessions, account, simulated=simulated)[0]


def build_trading(settings: Any, sessions: sessionmaker[Session], account: str, *, simulated: bool = False,
                  secret: Callable[[str], str | None] | None = None) -> tuple[Any, Any]:
    """Return (broker, its Alpaca order stream or None): see build_broker; the paper broker has no stream."""
    if simulated or settings.mode is Mode.PAPER:
        from tradebot.adapters.paper import PaperBroker

        p = settings.paper
        return PaperBroker(sessions, account=account, initial_cash=p.initial_cash, slippage_bps=p.slippage_bps,
                           commission_bps=p.commission_bps, allow_short=settings.risk.allow_short), None
    from tradebot.adapters.alpaca_broker import build_alpaca_trading, trading_key

    if secret is None:
        from tradebot.adapters.secrets import open_secret_store

        secret = open_secret_store(settings.home).get
    alpaca, stream = build_alpaca_trading(settings.alpaca, secret, paper=settings.mode is not Mode.LIVE)
    if settings.execution.crypto_broker != "binance":
        return alpaca, stream
    from tradebot.adapters.binance_broker import BinanceBroker
    from tradebot.adapters.routing import RoutingBroker

    keys = [trading_key("binance", getattr(settings.binance, field), secret, name)
            for field, name in (("api_key", "binance_api_key"), ("api_secret", "binance_api_secret"))]
    binance = BinanceBroker.from_config(settings.binance, keys[0], keys[1], symbols=settings.universe.crypto)
    return RoutingBroker(alpaca, binance, lambda cid: _intent_symbol(sessions, cid)), stream


def _intent_symbol(sessions: sessionmaker[Session], cid: ClientOrderId) -> str | None:
    from tradebot.store.trading import OrderIntentRow

    with sessions() as s:
        return s.scalar(select(OrderIntentRow.symbol).where(OrderIntentRow.client_order_id == str(cid)))
