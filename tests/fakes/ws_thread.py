"""Shared base for the WebSocket fakes: a `websockets` server on 127.0.0.1 in its own thread and event loop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, Self

from websockets.asyncio.server import ServerConnection, serve


class ThreadedWebSocketServer:
    """Serve `_handle` on a free port until stop() or max_lifetime seconds, then abort every client."""

    thread_name = "fake-ws"
    max_size: int | None = 2**20  # the websockets default; a fake may allow bigger frames

    def __init__(self, max_lifetime: float) -> None:
        self.max_lifetime = max_lifetime
        self.clients: list[Any] = []  # subclasses append objects with a `.conn` ServerConnection
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)

    def start(self) -> Self:
        """Start serving on a free port; return self."""
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"{self.thread_name} did not start")
        return self

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Close every connection and stop the server thread."""
        if self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(10)

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run coro on the server's loop from a test thread; return its result (10 s timeout)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _handle(self, conn: ServerConnection) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())
        self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with serve(self._handle, "127.0.0.1", 0, max_size=self.max_size) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.max_lifetime)
            for c in list(self.clients):
                c.conn.transport.abort()
