"""AlpacaBroker: the Broker port over Alpaca's trading API (alpaca-py TradingClient), exactly-once friendly.

The contract that matters is how failures are told apart: a call whose outcome is unknown (timeout, dropped
connection, 5xx, a 429 on an order) raises BrokerUnavailable so the caller looks the order up before retrying;
a definite refusal (422/403/400) comes back as a REJECTED order with Alpaca's message; Alpaca's duplicate
client_order_id refusal raises DuplicateClientOrderId. Order writes are sent exactly once per call: alpaca-py's
own retry loop is switched off and our session retries only reads.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NoReturn
from urllib.parse import urlsplit

import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.requests import GetOrdersRequest, OrderRequest

from tradebot.adapters import alpaca_orders as m
from tradebot.adapters.http import ALPACA_RATE, RateLimit, RetryPolicy, TokenBucket, retry_after_seconds
from tradebot.domain import (
    ClientOrderId,
    Fill,
    Order,
    OrderIntent,
    OrderStatus,
    OrderType,
    Position,
    Protection,
    Side,
    Symbol,
)
from tradebot.errors import BrokerError, BrokerUnavailable, ConfigError, DuplicateClientOrderId
from tradebot.logs import register_accounts

log = logging.getLogger(__name__)

# Alpaca does not publish an order-rate limit separate from its 200 requests/min; staying well below it
# leaves room for the reads reconciliation needs while orders go out.
ORDER_RATE = RateLimit("alpaca-orders", 60, 10)
_DUPLICATE = "client_order_id must be unique"
_PAGE = 100
_WRITES = frozenset({"submit_order", "cancel_order"})
_HINT = "; outcome unknown, look the order up by client order id before retrying"
_READ_RETRY = RetryPolicy(base_delay=0.2, max_delay=5.0)  # only its backoff curve is used: 0.2 s doubling to 5 s


class _TradingSession(requests.Session):
    """Rate-limits every call, puts order writes behind their own bucket, and retries reads only."""

    def __init__(self, timeout: float | tuple[float, float], api_bucket: TokenBucket, order_bucket: TokenBucket,
                 read_attempts: int, max_retry_after: float, sleep: Callable[[float], None]) -> None:
        super().__init__()
        self._timeout = timeout
        self._api, self._orders = api_bucket, order_bucket
        self._attempts = max(1, read_attempts)
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        self._rng = random.Random()

    def request(self, method, url, **kwargs):  # type: ignore[override]
        """Send one call: writes once, reads with bounded retries on 429 / 5xx / timeouts."""
        kwargs["timeout"] = self._timeout
        path = urlsplit(url).path
        if method.upper() != "GET":
            if "/orders" in path:
                self._orders.acquire()
            self._api.acquire()
            # Exactly one attempt: a resent POST /orders whose first copy arrived would place a second order.
            return super().request(method, url, **kwargs)
        for attempt in range(1, self._attempts + 1):
            self._api.acquire()
            last = attempt == self._attempts
            try:
                response = super().request(method, url, **kwargs)
            except (requests.Timeout, requests.ConnectionError) as exc:
                if last:
                    raise
                delay = self._backoff(attempt)
                log.warning("alpaca: GET %s %s (attempt %d); retrying in %.2f s", path, type(exc).__name__,
                            attempt, delay)
                self._sleep(delay)
                continue
            if last or (response.status_code != 429 and response.status_code < 500):
                return response
            delay = self._backoff(attempt)
            told = retry_after_seconds(response.headers.get("Retry-After"))
            if told is not None:
                if told > self._max_retry_after:
                    return response
                delay = max(delay, told)
            log.warning("alpaca: GET %s status %d (attempt %d); retrying in %.2f s", path, response.status_code,
                        attempt, delay)
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        return _READ_RETRY.backoff(attempt, self._rng)


def _api_message(exc: APIError) -> str:
    try:
        return str(exc.message)
    except (ValueError, KeyError, TypeError):
        return str(exc)[:300]


class AlpacaBroker:
    """Broker over Alpaca trading (paper or live), stocks and crypto, with broker-side protective stops."""

    name = "alpaca"

    def __init__(self, key_id: str, secret_key: str, trading_url: str, *, paper: bool = True,
                 timeout: float | tuple[float, float] = (3.05, 10.0), order_rate: TokenBucket | None = None,
                 api_rate: TokenBucket | None = None, read_attempts: int = 3, max_retry_after: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not key_id or not secret_key:
            raise ConfigError("alpaca: key_id and secret_key are both required for trading "
                              "(set them with `tradebot keys set alpaca_key_id` / `alpaca_secret_key`)")
        self.paper = paper
        self._secrets = (key_id, secret_key)
        # raw_data=True: alpaca-py returns plain dicts (numbers as strings), typed loosely here.
        self._client: Any = TradingClient(key_id, secret_key, paper=paper, raw_data=True,
                                     url_override=trading_url.rstrip("/"))
        self._client._session.close()
        self._client._session = _TradingSession(timeout, api_rate or TokenBucket(ALPACA_RATE, sleep=sleep),
                                                order_rate or TokenBucket(ORDER_RATE, sleep=sleep),
                                                read_attempts, max_retry_after, sleep)
        # alpaca-py would resend a 429/504'd POST after a blind 3 s sleep: never for orders, and reads retry above.
        self._client._retry = 0
        self._read_timeout = timeout[1] if isinstance(timeout, tuple) else timeout
        self._by_order_id: dict[str, Order] = {}  # what fills need: client id and our symbol spelling

    def __repr__(self) -> str:
        return f"AlpacaBroker(url={self._client._base_url!r}, paper={self.paper})"

    # --- errors ----------------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    @contextmanager
    def _calling(self, operation: str, cid: str = "", *, refusals: bool = False) -> Iterator[None]:
        """Translate transport and API failures; with refusals, 4xx refusals propagate as APIError."""
        what = f"alpaca {operation}" + (f" {cid}" if cid else "")
        hint = _HINT if operation in _WRITES else ""
        try:
            yield
        except requests.Timeout:
            raise BrokerUnavailable(f"{what}: no reply within {self._read_timeout:g} s{hint}") from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise BrokerUnavailable(f"{what}: connection failed or dropped ({type(exc).__name__}){hint}") from None
        except APIError as exc:
            if refusals and exc.status_code in (400, 403, 404, 422):
                raise
            self._raise_api(what, exc)
        except ValueError as exc:  # a reply cut short or not JSON (requests' JSONDecodeError is a ValueError)
            raise BrokerUnavailable(f"{what}: unreadable reply ({type(exc).__name__}){hint}") from None

    def _raise_api(self, what: str, exc: APIError) -> NoReturn:
        status, message = exc.status_code, self._scrub(_api_message(exc))[:300]
        if status is None or status >= 500 or status in (408, 429):
            hint = _HINT if what.split()[1] in _WRITES else ""
            raise BrokerUnavailable(f"{what}: alpaca answered {status} ({message}){hint}") from None
        if status == 401:
            raise BrokerError(f"{what}: alpaca refused the API key (401); check alpaca key_id and secret_key") \
                from None
        if status == 422 and _DUPLICATE in message:
            raise DuplicateClientOrderId(f"{what}: alpaca already holds this client order id ({message})") from None
        raise BrokerError(f"{what}: alpaca refused with status {status}: {message}") from None

    # --- Broker protocol -------------------------------------------------------------------------

    def submit_order(self, intent: OrderIntent, now: datetime) -> Order:
        """Place intent once; a refusal comes back REJECTED, an unknown outcome raises BrokerUnavailable."""
        try:
            request = m.order_request(intent)
        except ValueError as exc:
            return self._rejected(intent, now, f"invalid order for alpaca: {exc}")
        return self._submit(request, intent.client_order_id, lambda reason: self._rejected(intent, now, reason))

    def protect(self, symbol: Symbol, qty: Decimal, protection: Protection, client_order_id: ClientOrderId,
                now: datetime) -> Order:
        """Place an OCO exit (target + stop) or a lone stop for a holding; an existing id returns that order."""
        if qty == 0:
            raise BrokerError(f"alpaca protect {client_order_id}: nothing to protect, qty is 0 for {symbol}")
        request = m.protect_request(symbol, qty, protection, client_order_id)

        def rejected(reason: str) -> Order:
            return Order(client_order_id, symbol, Side.SELL if qty > 0 else Side.BUY, abs(qty),
                         OrderType(request.type.value), OrderStatus.REJECTED, now, reject_reason=reason,
                         stop_price=protection.stop_price, limit_price=protection.take_profit)
        try:
            return self._submit(request, client_order_id, rejected)
        except DuplicateClientOrderId:
            existing = self.get_order(client_order_id)
            if existing is None:
                raise BrokerUnavailable(f"alpaca protect {client_order_id}: refused as a duplicate but the lookup "
                                        "finds no such order; look it up again") from None
            return existing

    def _submit(self, request: OrderRequest, cid: ClientOrderId, rejected: Callable[[str], Order]) -> Order:
        try:
            with self._calling("submit_order", cid, refusals=True):
                raw = self._client.submit_order(request)
        except APIError as exc:
            message = self._scrub(_api_message(exc))
            if exc.status_code == 422 and _DUPLICATE in message:
                raise DuplicateClientOrderId(f"alpaca submit_order {cid}: alpaca already holds this client "
                                             f"order id ({message})") from None
            return rejected(message or f"refused with status {exc.status_code}")
        return self._remember(raw)[0]

    def _rejected(self, intent: OrderIntent, now: datetime, reason: str) -> Order:
        return Order(intent.client_order_id, intent.symbol, intent.side, intent.qty, intent.order_type,
                     OrderStatus.REJECTED, now, limit_price=intent.limit_price, stop_price=intent.stop_price,
                     reject_reason=reason)

    def _remember(self, raw: dict[str, Any]) -> list[Order]:
        try:
            orders = m.with_legs(raw)
        except (KeyError, TypeError, ValueError) as exc:
            raise BrokerUnavailable(f"alpaca: order reply in an unexpected shape ({exc!r}); outcome unknown") \
                from None
        for order in orders:
            self._by_order_id[order.broker_order_id] = order
        return orders

    def get_order(self, client_order_id: ClientOrderId) -> Order | None:
        """Look an order up by our client order id; None when Alpaca has never seen it."""
        try:
            with self._calling("get_order", client_order_id, refusals=True):
                raw = self._client.get_order_by_client_id(client_order_id)
        except APIError as exc:
            if exc.status_code == 404:
                return None
            self._raise_api(f"alpaca get_order {client_order_id}", exc)
        return self._remember(raw)[0]

    def cancel_order(self, client_order_id: ClientOrderId, now: datetime) -> Order:
        """Cancel a working order (bracket legs go with it); a terminal order is returned unchanged."""
        order = self.get_order(client_order_id)
        if order is None:
            raise BrokerError(f"alpaca cancel_order {client_order_id}: alpaca has no order under this id")
        if order.status.terminal:
            return order
        try:
            with self._calling("cancel_order", client_order_id, refusals=True):
                self._client.cancel_order_by_id(order.broker_order_id)
        except APIError as exc:
            # 422: no longer cancelable (filled or done meanwhile); the fresh state below says which.
            if exc.status_code not in (404, 422):
                self._raise_api(f"alpaca cancel_order {client_order_id}", exc)
        return self.get_order(client_order_id) or order

    def open_orders(self) -> Sequence[Order]:
        """Return every working order, bracket/OCO legs included with parent_client_order_id set."""
        with self._calling("open_orders"):
            raws = self._client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN, nested=True, limit=500))
        if len(raws) >= 500:
            log.warning("alpaca: 500 open orders returned, the most Alpaca lists at once; some may be missing")
        out: list[Order] = []
        for raw in raws:
            out.extend(o for o in self._remember(raw) if not o.status.terminal)
        return out

    def fills_since(self, since: datetime | None) -> Sequence[Fill]:
        """Return FILL activities after since (all when None), oldest first, with their client order ids."""
        params: dict[str, Any] = {"direction": "asc", "page_size": _PAGE}
        if since is not None:
            if since.tzinfo is None:
                raise ValueError("fills_since needs a timezone-aware since (UTC)")
            params["after"] = since.astimezone(UTC).isoformat()
        raws: list[dict[str, Any]] = []
        while True:
            with self._calling("fills_since"):
                page = self._client.get("/account/activities/FILL", params)
            raws.extend(page)
            if len(page) < _PAGE:
                break
            params["page_token"] = page[-1]["id"]
        fills: list[Fill] = []
        for raw in raws:
            try:
                fills.append(m.activity_fill(raw, self._order_by_id(str(raw["order_id"]))))
            except (KeyError, TypeError, ValueError) as exc:
                raise BrokerError(f"alpaca fills_since: a FILL activity in an unexpected shape ({exc!r})") from None
        return fills

    def _order_by_id(self, order_id: str) -> Order:
        if (order := self._by_order_id.get(order_id)) is None:
            with self._calling("get_order_by_id", order_id):
                self._remember(self._client.get_order_by_id(order_id))
            order = self._by_order_id[order_id]
        return order

    def positions(self) -> Sequence[Position]:
        """Return open positions (short ones with negative qty)."""
        with self._calling("positions"):
            raws = self._client.get_all_positions()
        try:
            return [Position(m.our_symbol(p["symbol"], p.get("asset_class")), _signed_qty(p),
                             m.dec(p["avg_entry_price"])) for p in raws]
        except (KeyError, TypeError, ValueError) as exc:
            raise BrokerError(f"alpaca positions: a position in an unexpected shape ({exc!r})") from None

    def cash(self) -> Decimal:
        """Return the account's cash."""
        with self._calling("cash"):
            account = self._client.get_account()
        # Account numbers identify a person's brokerage account: logs show only their hashed reference.
        register_accounts(*(str(account.get(k) or "") for k in ("account_number", "id")))
        try:
            return m.dec(account["cash"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BrokerError(f"alpaca cash: account in an unexpected shape ({exc!r})") from None


def _signed_qty(raw: dict[str, Any]) -> Decimal:
    qty = m.dec(raw["qty"])
    return -abs(qty) if raw.get("side") == "short" else qty


def build_alpaca_trading(config: Any, secret: Callable[[str], str | None], *, paper: bool = True) -> tuple[Any, Any]:
    """Return (AlpacaBroker, AlpacaOrderStream) from settings.alpaca, keys from the file/env or the secret store."""
    from tradebot.adapters.alpaca_stream import AlpacaOrderStream

    keys = [trading_key("alpaca", getattr(config, field), secret, name)
            for field, name in (("key_id", "alpaca_key_id"), ("secret_key", "alpaca_secret_key"))]
    bucket = TokenBucket(RateLimit("alpaca-orders", config.order_rate_per_minute,
                                   max(1.0, min(10.0, config.order_rate_per_minute / 6))))
    broker = AlpacaBroker(keys[0], keys[1], config.trading_url, paper=paper,
                          timeout=(3.05, config.order_timeout_seconds), order_rate=bucket)
    return broker, AlpacaOrderStream(keys[0], keys[1], config.stream_url, paper=paper)


def trading_key(venue: str, configured: Any, secret: Callable[[str], str | None], name: str) -> str:
    """Return the configured key, else the stored secret `name`; raise ConfigError naming it if neither is set."""
    value = configured.get_secret_value() if configured is not None else secret(name)
    if not value:
        raise ConfigError(f"{venue} trading needs {name}: `tradebot keys set {name}` "
                          f"(or TRADEBOT_SECRET_{name.upper()})")
    return str(value)
