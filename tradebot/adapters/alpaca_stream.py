"""AlpacaOrderStream: Alpaca's trade_updates WebSocket (alpaca-py TradingStream) as OrderEvents.

alpaca-py reconnects on its own after a dropped socket; Alpaca does not replay what was sent meanwhile, so
consumers still reconcile through the REST API (AlpacaBroker.get_order / fills_since). Events may arrive twice
or out of order: each carries a stable event_id (the execution id) for de-duplication.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from alpaca.trading.stream import TradingStream

from tradebot.adapters.alpaca_orders import trade_update_event
from tradebot.domain import OrderEvent
from tradebot.errors import BrokerError, ConfigError

log = logging.getLogger(__name__)


class _TradingStream(TradingStream):
    """TradingStream that gives up on a refused key instead of retrying it forever."""

    refused = False

    async def _auth(self) -> None:
        try:
            await super()._auth()
        except ValueError:
            self.refused = True
            await self.stop_ws()
            raise


class AlpacaOrderStream:
    """OrderEventStream over Alpaca trade_updates: order status changes and fills as they happen."""

    name = "alpaca"

    def __init__(self, key_id: str, secret_key: str, stream_url: str | None = None, *, paper: bool = True,
                 stop_timeout: float = 5.0) -> None:
        if not key_id or not secret_key:
            raise ConfigError("alpaca: key_id and secret_key are both required for the trade_updates stream")
        self._key, self._secret = key_id, secret_key
        self._url = stream_url
        self.paper = paper
        self._stop_timeout = stop_timeout

    def __repr__(self) -> str:
        return f"AlpacaOrderStream(url={self._url!r}, paper={self.paper})"

    async def order_events(self) -> AsyncIterator[OrderEvent]:
        """Yield updates as they arrive (run inside your loop); closing the iterator stops the socket."""
        # An empty override makes alpaca-py pick its paper or live endpoint.
        stream = _TradingStream(self._key, self._secret, paper=self.paper, raw_data=True,
                                url_override=self._url or "")
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def on_update(message: dict[str, Any]) -> None:
            queue.put_nowait(message)

        stream.subscribe_trade_updates(on_update)
        runner = asyncio.create_task(stream._run_forever(), name="alpaca-trade-updates")
        try:
            while True:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({getter, runner}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    raise self._ended(stream, runner)
                event = _event(getter.result())
                if event is not None:
                    yield event
        finally:
            await _shutdown(stream, runner, self._stop_timeout)

    def _ended(self, stream: _TradingStream, runner: asyncio.Task[None]) -> BrokerError:
        if stream.refused:
            return BrokerError("alpaca trade_updates: the stream refused the API key; check alpaca key_id and "
                               "secret_key (paper keys need paper=True)")
        exc = None if runner.cancelled() else runner.exception()
        return BrokerError(f"alpaca trade_updates: the stream stopped ({type(exc).__name__ if exc else 'closed'})")


def _event(message: dict[str, Any]) -> OrderEvent | None:
    try:
        return trade_update_event(message["data"])
    except (KeyError, TypeError, ValueError) as exc:
        # One malformed update must not end the stream; reconciliation catches what it carried.
        log.warning("alpaca trade_updates: skipped an update in an unexpected shape (%r)", exc)
        return None


async def _shutdown(stream: _TradingStream, runner: asyncio.Task[None], timeout: float) -> None:
    await stream.stop_ws()
    # Closing the socket wakes the reader at once instead of after its 5 s receive timeout.
    with contextlib.suppress(Exception):
        await stream.close()
    try:
        await asyncio.wait_for(asyncio.shield(runner), timeout)
    except (TimeoutError, asyncio.CancelledError, Exception):
        runner.cancel()
        with contextlib.suppress(BaseException):
            await runner
