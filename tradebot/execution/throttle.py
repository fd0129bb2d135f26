"""A client-side rate limit on a broker's order endpoints (submit, lookup, cancel), shared per process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Throttle:
    """Token bucket: at most `rate` calls per second on average, bursts up to `burst`."""

    def __init__(self, rate: float, burst: int = 5, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate, self.burst = rate, max(1, burst)
        self._clock, self._sleep = clock, sleep
        self._tokens = float(self.burst)
        self._last = clock()
        self._lock = threading.Lock()
        self.waited = 0.0

    def acquire(self) -> float:
        """Take one token, sleeping until one is available; return the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate
            self._tokens -= 1
        if wait > 0:
            self._sleep(wait)
            self.waited += wait
        return wait


_BUCKETS: dict[tuple[str, float], Throttle] = {}
_BUCKETS_LOCK = threading.Lock()


def throttle_for(broker: str, rate: float) -> Throttle:
    """Return the process-wide throttle for broker at rate (one bucket per broker and rate)."""
    with _BUCKETS_LOCK:
        key = (broker, rate)
        if key not in _BUCKETS:
            _BUCKETS[key] = Throttle(rate)
        return _BUCKETS[key]
