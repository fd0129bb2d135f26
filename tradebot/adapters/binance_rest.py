"""Binance spot REST transport over python-binance's Client: one attempt per order write, retried reads.

Every call goes through `BinanceRest.call`, which rate-limits (orders and request weight apart),
classifies failures (unknown outcome -> BrokerUnavailable, bad credentials -> BrokerError) and never
lets a key, secret or signed URL into a message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import requests
from binance.client import Client
from binance.exceptions import BinanceAPIException, BinanceRequestException
from requests.adapters import HTTPAdapter

from tradebot.adapters.binance_orders import BinanceSymbols, LocalReject, PairRules, commission_in_quote, dec, dt_to_ms
from tradebot.adapters.http import BINANCE_RATE, RateLimit, TokenBucket, retry_after_seconds
from tradebot.domain import ZERO, ClientOrderId
from tradebot.errors import BrokerError, BrokerUnavailable

log = logging.getLogger(__name__)

NOT_FOUND = -2013  # "Order does not exist." / "Order list does not exist."
INVALID_SYMBOL = -1121
AUTH_CODES = frozenset({-1002, -1022, -2014, -2015})
UNKNOWN_OUTCOME_CODES = frozenset({-1000, -1001, -1006, -1007})  # Binance: "execution status unknown"
_WEIGHTS = {"order": 4.0, "openOrders": 80.0, "openOrderList": 6.0, "myTrades": 20.0, "account": 20.0,
            "exchangeInfo": 20.0, "orderList": 4.0}
TRADES_PAGE = 1000
DAY_MS = 24 * 3600 * 1000  # myTrades refuses a startTime-endTime window longer than this
MAX_SCAN_DAYS = 7  # beyond this, paging all trades by id costs less request weight than day windows


class BinanceRest:
    """python-binance's Client behind our rate limits and error classes."""

    def __init__(self, api_key: str, api_secret: str, symbols: BinanceSymbols, *, testnet: bool,
                 rest_url: str | None, timeout: float, order_rate: float, read_attempts: int,
                 max_retry_after: float, sleep: Callable[[float], None]) -> None:
        if order_rate <= 0 or timeout <= 0 or read_attempts < 1:
            raise ValueError("binance: order_rate and timeout must be positive, read_attempts at least 1")
        self.symbols = symbols
        self.timeout = timeout
        self._read_attempts = read_attempts
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        self._orders_bucket = TokenBucket(RateLimit("binance-orders", order_rate * 60, max(1.0, order_rate)),
                                          sleep=sleep)
        self._reads_bucket = TokenBucket(BINANCE_RATE, sleep=sleep)
        # ping=False: no network at construction. The library builds its own session; ours never retries.
        self.client = Client(api_key, api_secret, requests_params={"timeout": (min(3.05, timeout), timeout)},
                             testnet=testnet and rest_url is None, ping=False)
        if rest_url is not None:
            self.client.API_URL = rest_url.rstrip("/") + "/api"
        adapter = HTTPAdapter(max_retries=0)  # a POST must never be resent behind our back
        self.client.session.mount("http://", adapter)
        self.client.session.mount("https://", adapter)
        self._rules_by_pair: dict[str, PairRules] = {}
        self._cid_of: dict[tuple[str, int], ClientOrderId] = {}  # (pair, orderId) -> client order id

    @property
    def api_url(self) -> str:
        """Return the REST base URL requests go to."""
        return self.client._create_api_uri("", signed=True).removesuffix("/v3/")

    def pair_rules(self, pair: str, cid: str) -> PairRules:
        """Return pair's filters; LocalReject when Binance does not list it."""
        rules = self.rules(pair, cid)
        if rules is None:
            raise LocalReject(f"binance does not list {pair}")
        return rules

    def rules(self, pair: str, cid: str = "") -> PairRules | None:
        """Return pair's filters from exchangeInfo (cached), None when Binance does not list it."""
        if pair not in self._rules_by_pair:
            # One pair's filters, not the whole venue list get_symbol_info would download.
            info = self.read_or_none("GET /api/v3/exchangeInfo", cid, self.client._get, codes=(INVALID_SYMBOL,),
                                     path="exchangeInfo", data={"symbol": pair})
            if info is None or not info.get("symbols"):
                return None
            self._rules_by_pair[pair] = PairRules.parse(info["symbols"][0])
        return self._rules_by_pair[pair]

    def balances(self) -> dict[str, Decimal]:
        """Return free plus locked per asset (non-zero ones)."""
        account = self.call("GET /api/v3/account", "", self.client.get_account, omitZeroBalances="true")
        return {b["asset"]: dec(b["free"]) + dec(b["locked"]) for b in account.get("balances", [])}

    def trades(self, pair: str, since: datetime | None) -> list[dict]:
        """Return myTrades for pair after since, oldest first, paging by trade id.

        Binance caps a startTime-endTime window at 24 hours: a recent since is found by scanning day
        windows; an old one (more than MAX_SCAN_DAYS back) pages from the first trade and filters instead.
        """
        from_id = 0
        if since is not None:
            start, end = dt_to_ms(since) + 1, dt_to_ms(datetime.now(UTC)) + 60_000
            if end - start <= MAX_SCAN_DAYS * DAY_MS:
                first: list[dict] = []
                while start <= end and not first:
                    first = self.call("GET /api/v3/myTrades", "", self.client.get_my_trades, symbol=pair,
                                      startTime=start, endTime=min(end, start + DAY_MS - 1), limit=TRADES_PAGE)
                    start += DAY_MS
                if not first:
                    return []
                from_id = int(first[0]["id"])
        out: list[dict] = []
        while True:
            page = self.call("GET /api/v3/myTrades", "", self.client.get_my_trades, symbol=pair, fromId=from_id,
                             limit=TRADES_PAGE)
            out += page
            if len(page) < TRADES_PAGE:
                break
            from_id = int(page[-1]["id"]) + 1
        return out if since is None else [t for t in out if int(t["time"]) > dt_to_ms(since)]

    def client_id(self, pair: str, order_id: int) -> ClientOrderId:
        """Return the client order id of pair's order_id (myTrades does not carry it), cached."""
        key = (pair, order_id)
        if key not in self._cid_of:
            raw = self.call("GET /api/v3/order", "", self.client.get_order, symbol=pair, orderId=order_id)
            self._cid_of[key] = ClientOrderId(raw["clientOrderId"])
        return self._cid_of[key]

    def commission(self, trade: Mapping, rules: PairRules | None) -> Decimal:
        """Return one trade's commission in the quote currency."""
        amount, asset = dec(trade.get("commission", "0")), str(trade.get("commissionAsset", ""))
        if rules is None or amount == ZERO:
            return amount
        price = dec(trade["price"])
        asset_price = None
        if asset not in (rules.base, rules.quote):
            tick = self.read_or_none("GET /api/v3/ticker/price", "", self.client.get_symbol_ticker,
                                     codes=(INVALID_SYMBOL,), symbol=self.symbols.pair_of_asset(asset))
            asset_price = dec(tick["price"]) if tick else None
            if asset_price is None:
                log.warning("binance: commission in %s has no %s price; counted as zero", asset,
                            self.symbols.quote_asset)
        return commission_in_quote(amount, asset, rules, price, asset_price)

    def read_or_none(self, op: str, cid: str, fn: Callable[..., Any], codes: Sequence[int] = (NOT_FOUND,),
                      **params: Any) -> Any:
        """Call like `call`, returning None for the given not-found codes (other refusals raise BrokerError)."""
        try:
            return self.call(op, cid, fn, **params)
        except BinanceAPIException as exc:
            if exc.code in codes:
                return None
            raise BrokerError(f"binance: {op}{_for(cid)} failed: code {exc.code} {exc.message}") from None

    def call(self, op: str, cid: str, fn: Callable[..., Any], *, write: bool = False, **params: Any) -> Any:
        """Call python-binance once per attempt; writes get one attempt, reads a few (Retry-After honoured).

        Returns the reply; raises BrokerUnavailable when the outcome is unknown, BrokerError on bad keys,
        and lets other BinanceAPIException through for the caller to map.
        """
        what = f"binance: {op}{_for(cid)}"
        attempts = 1 if write else self._read_attempts
        resynced = False
        attempt = 0
        while True:
            attempt += 1
            if write:
                self._orders_bucket.acquire()
            else:
                self._reads_bucket.acquire(_WEIGHTS.get(op.rsplit("/", 1)[-1], 1.0))
            wait = 0.2 * attempt
            try:
                return fn(**dict(params))
            except requests.Timeout:
                problem = f"timed out after {self.timeout:g} s; outcome unknown"
            except requests.ConnectionError:
                problem = "connection dropped; outcome unknown"
            except requests.RequestException:  # e.g. a reply cut off mid-body
                problem = "reply was cut off; outcome unknown"
            except BinanceRequestException:
                problem = "returned an unreadable reply; outcome unknown"
            except BinanceAPIException as exc:
                status, code = exc.status_code, exc.code
                if code in AUTH_CODES or status == 401:
                    raise BrokerError(f"{what} refused our credentials (code {code}: {exc.message}): check "
                                      "binance_api_key / binance_api_secret and the key's permissions") from None
                if code == -1021 and not resynced:  # our clock drifted: not executed, safe to resend once
                    resynced = True
                    self.server_time()
                    attempt -= 1
                    continue
                if status in (418, 429):
                    header = None if exc.response is None else exc.response.headers.get("Retry-After")
                    told = retry_after_seconds(header)
                    problem = f"rate limited (status {status}, Retry-After {told if told is not None else '?'} s)"
                    if told is not None:
                        if told > self._max_retry_after:
                            attempts = attempt
                        wait = max(wait, told)
                elif status >= 500 or code in UNKNOWN_OUTCOME_CODES:
                    problem = f"failed with status {status} (code {code}); outcome unknown"
                else:
                    raise
            if attempt >= attempts:
                raise BrokerUnavailable(f"{what} {problem}") from None
            log.warning("%s %s (attempt %d); retrying in %.2f s", what, problem, attempt, wait)
            self._sleep(wait)

    def server_time(self) -> datetime:
        """Return Binance's clock and align our request timestamps to it."""
        res = self.call("GET /api/v3/time", "", self.client.get_server_time)
        self.client.timestamp_offset = int(res["serverTime"]) - int(time.time() * 1000)
        return datetime.fromtimestamp(int(res["serverTime"]) / 1000, UTC)


def _for(cid: str) -> str:
    return f" for {cid}" if cid else ""



def average_cost(trades: list[dict], held: Decimal) -> Decimal:
    """Return the average cost of the current holding from the trade history (sells keep the average)."""
    qty, cost = ZERO, ZERO
    for t in sorted(trades, key=lambda t: (t["time"], t["id"])):
        q, p = dec(t["qty"]), dec(t["price"])
        if t.get("isBuyer"):
            qty, cost = qty + q, cost + q * p
        elif qty > ZERO:
            sold = min(q, qty)
            cost -= cost * sold / qty
            qty -= sold
    return (cost / qty).quantize(Decimal("0.00000001")) if qty > ZERO and held > ZERO else ZERO
