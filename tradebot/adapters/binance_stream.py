"""Binance spot user data stream (executionReport) as an OrderEventStream, over python-binance's async machinery.

python-binance 1.0.37's `BinanceSocketManager.user_socket()` no longer opens the legacy
`/ws/<listenKey>` stream: it subscribes on the WebSocket API (`userDataStream.subscribe.signature`,
signed with the API secret) and the library routes `{"subscriptionId", "event"}` frames to the socket's
queue. There is no listenKey to keep alive; when the connection drops the library reports an error
frame and this stream subscribes again on a fresh client, with backoff.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Mapping
from decimal import Decimal

from binance.async_client import AsyncClient
from binance.exceptions import BinanceAPIException, BinanceRequestException, BinanceWebsocketUnableToConnect
from binance.ws.constants import WSListenerState
from binance.ws.streams import BinanceSocketManager

from tradebot.adapters.binance_orders import STATUS, BinanceSymbols, dec, ms_to_dt
from tradebot.domain import ZERO, ClientOrderId, Fill, OrderEvent, Side

log = logging.getLogger(__name__)


class _PointedAsyncClient(AsyncClient):
    """AsyncClient whose REST and WebSocket API bases can point anywhere (create() would ping first)."""

    def __init__(self, api_key: str, api_secret: str, *, testnet: bool, rest_url: str | None,
                 ws_api_url: str | None) -> None:
        if ws_api_url is not None:
            self.WS_API_URL = ws_api_url  # read by BaseClient.__init__ to build the ws_api connection
        super().__init__(api_key, api_secret, testnet=testnet and rest_url is None and ws_api_url is None)
        if rest_url is not None:
            self.API_URL = rest_url.rstrip("/") + "/api"
        # The read loop notices shutdown only between recv timeouts (10 s by default): keep closing quick.
        self.ws_api.TIMEOUT = 1
        # No reconnecting inside the library: a new connection would lack the subscription, and its reconnect
        # sleep races with close. BinanceOrderStream resubscribes on a fresh client instead.
        self.ws_api.MAX_RECONNECTS = 0


async def _close(client: AsyncClient, timeout: float = 5.0) -> None:
    """Close the client promptly; a close that fails or hangs is logged, never raised (the stream goes on)."""
    ws_api = client.ws_api
    # Mark the read loop as exiting before closing its socket, else it treats the close as a drop.
    ws_api.ws_state = WSListenerState.EXITING
    try:
        if ws_api.ws is not None:
            await asyncio.wait_for(ws_api.ws.close(), timeout)
        await asyncio.wait_for(client.close_connection(), timeout)
    except (TimeoutError, OSError, BinanceWebsocketUnableToConnect) as exc:
        log.warning("binance user stream: closing the old connection failed (%s)", type(exc).__name__)


def execution_event(msg: Mapping, symbols: BinanceSymbols, commission: Decimal | None = None) -> OrderEvent | None:
    """Map one executionReport to an OrderEvent (None for other event types).

    event_id is PAIR:orderId:executionType:tradeId (or the transaction time when there is no trade),
    stable across redelivery; a TRADE carries a Fill whose fill_id PAIR:tradeId matches fills_since.
    commission is the fill's commission already in the quote currency (computed by the caller).
    """
    if msg.get("e") != "executionReport":
        return None
    pair, execution = str(msg["s"]), str(msg["x"])
    # On a cancel, "c" is the cancel request's own id and "C" the order's.
    cid = ClientOrderId(msg.get("C") or msg["c"]) if execution == "CANCELED" else ClientOrderId(msg["c"])
    trade_id = int(msg.get("t", -1))
    event_id = f"{pair}:{msg['i']}:{execution}:{trade_id if trade_id != -1 else msg['T']}"
    symbol = symbols.symbol(pair)
    fill = None
    if execution == "TRADE":
        fill = Fill(fill_id=f"{pair}:{trade_id}", client_order_id=cid, symbol=symbol,
                    side=Side.BUY if msg["S"] == "BUY" else Side.SELL, qty=dec(msg["l"]), price=dec(msg["L"]),
                    commission=commission if commission is not None else ZERO, ts=ms_to_dt(msg["T"]))
    return OrderEvent(event_id=event_id, client_order_id=cid, broker_order_id=str(msg["i"]),
                      status=STATUS.get(str(msg["X"]), STATUS["NEW"]), ts=ms_to_dt(msg["T"]), fill=fill)


class BinanceOrderStream:
    """OrderEventStream over the spot user data stream; reconnects by itself, may redeliver."""

    def __init__(self, api_key: str, api_secret: str, *, testnet: bool = False, rest_url: str | None = None,
                 ws_api_url: str | None = None, quote_map: Mapping[str, str] | None = None,
                 symbol_map: Mapping[str, str] | None = None, quote_asset: str = "USDT",
                 reconnect_delay: float = 0.5, max_reconnect_delay: float = 30.0) -> None:
        """Connect lazily (in order_events); rest_url / ws_api_url point at a local fake or another venue."""
        self._key, self._secret = api_key, api_secret
        self._testnet, self._rest_url, self._ws_api_url = testnet, rest_url, ws_api_url
        self.symbols = BinanceSymbols(quote_map, symbol_map, quote_asset)
        self._delay, self._max_delay = reconnect_delay, max_reconnect_delay
        self._prices: dict[str, tuple[float, Decimal]] = {}
        self.connects = 0  # subscriptions made, for observability

    def client(self) -> AsyncClient:
        """Return a new python-binance AsyncClient pointed at this stream's endpoints (call inside a loop)."""
        return _PointedAsyncClient(self._key, self._secret, testnet=self._testnet, rest_url=self._rest_url,
                                   ws_api_url=self._ws_api_url)

    async def order_events(self) -> AsyncGenerator[OrderEvent, None]:
        """Yield order updates as they arrive; reconnects on drops; consumers de-duplicate by event_id."""
        delay = self._delay
        while True:
            client = self.client()
            try:
                await self._sync_clock(client)
                async with BinanceSocketManager(client).user_socket() as socket:
                    self.connects += 1
                    delay = self._delay
                    while True:
                        msg = await socket.recv()
                        if msg.get("e") == "error":
                            log.warning("binance user stream dropped (%s); resubscribing", msg.get("type"))
                            break
                        commission = await self._commission(client, msg) if msg.get("x") == "TRADE" else None
                        if (event := execution_event(msg, self.symbols, commission)) is not None:
                            yield event
            except (BinanceWebsocketUnableToConnect, BinanceAPIException, BinanceRequestException, OSError,
                    TimeoutError) as exc:
                log.warning("binance user stream: %s; retrying in %.1f s", type(exc).__name__, delay)
            finally:
                await _close(client)
            await asyncio.sleep(delay)
            delay = min(self._max_delay, delay * 2)

    async def _sync_clock(self, client: AsyncClient) -> None:
        # The subscription is signed with a timestamp: align it to the venue's clock as create() would.
        res = await client.get_server_time()
        client.timestamp_offset = int(res["serverTime"]) - int(time.time() * 1000)

    async def _commission(self, client: AsyncClient, msg: Mapping) -> Decimal:
        """Return the fill's commission in the quote currency (base at the fill price, others at their price)."""
        amount, asset, pair = dec(msg.get("n") or "0"), str(msg.get("N") or ""), str(msg["s"])
        if amount == ZERO:
            return ZERO
        quote = self.symbols.quote_asset
        base = pair.removesuffix(quote) if pair.endswith(quote) else ""
        if asset == quote:
            return amount
        if asset == base:
            return amount * dec(msg["L"])
        price = await self._price(client, asset)
        if price is None:
            log.warning("binance: commission in %s has no %s price; counted as zero", asset, quote)
            return ZERO
        return amount * price

    async def _price(self, client: AsyncClient, asset: str) -> Decimal | None:
        hit = self._prices.get(asset)
        if hit is not None and time.monotonic() - hit[0] < 60:
            return hit[1]
        try:
            tick = await client.get_symbol_ticker(symbol=self.symbols.pair_of_asset(asset))
        except (BinanceAPIException, BinanceRequestException, OSError):
            return None
        price = dec(tick["price"])
        self._prices[asset] = (time.monotonic(), price)
        return price

    def stream_url(self) -> str:
        """Return the WebSocket API URL the user stream subscribes on."""
        if self._ws_api_url is not None:
            return self._ws_api_url
        return AsyncClient.WS_API_TESTNET_URL if self._testnet else AsyncClient.WS_API_URL.format("com")

