"""The sentinel's config section (env: TRADEBOT_SENTINEL__<KEY>)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SentinelConfig(BaseModel):
    """Stop sentinel settings.

    accounts: ledger runs whose positions are watched (empty: the standing paper account, paper.account).
    alpaca_stocks / alpaca_crypto / binance: which live trade feeds to use (one connection each at most).
    alpaca_stream_url: Alpaca market-data stream base; /v2/<feeds.stock_feed> and /v1beta3/crypto/us are appended.
    binance_stream_url: Binance combined-stream base (python-binance's STREAM_URL).
    stale_after_seconds: a connected feed silent this long while its market is open is stale (and is reconnected).
    unprotected_alert_seconds: alert when a position has had no broker-side protective order this long.
    refresh_seconds: how often the watched positions (and so the subscriptions) are re-read from the ledger.
    write_back_seconds: how often ratcheted levels are written back (and broker-side stops moved up).
    rest_poll_seconds: while a feed is down or stale, poll latest prices over REST this often.
    protect_check_seconds: verify broker-side protection this often while the feeds are healthy.
    backoff_base_seconds / backoff_max_seconds: reconnect backoff (exponential with jitter, see health.Backoff).
    replace_broker_stops: move the broker-side stop when the trailing stop ratchets by replace_min_move_pct.
    enforce_market_hours: never send a stock exit outside regular hours (crypto trades always).
    metrics_port: Prometheus /metrics on 127.0.0.1 (0 picks a free port; null turns it off).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    accounts: tuple[str, ...] = ()
    alpaca_stocks: bool = True
    alpaca_crypto: bool = True
    binance: bool = False
    alpaca_stream_url: str = "wss://stream.data.alpaca.markets"
    binance_stream_url: str = "wss://stream.binance.com:9443/"
    stale_after_seconds: float = Field(default=30.0, gt=0, le=3600)
    unprotected_alert_seconds: float = Field(default=30.0, gt=0, le=86400)
    refresh_seconds: float = Field(default=5.0, gt=0, le=3600)
    write_back_seconds: float = Field(default=2.0, gt=0, le=3600)
    rest_poll_seconds: float = Field(default=2.0, gt=0, le=600)
    protect_check_seconds: float = Field(default=60.0, gt=0, le=86400)
    health_interval_seconds: float = Field(default=0.5, gt=0, le=60)
    backoff_base_seconds: float = Field(default=0.5, gt=0, le=60)
    backoff_max_seconds: float = Field(default=30.0, gt=0, le=600)
    replace_broker_stops: bool = True
    replace_min_move_pct: float = Field(default=0.001, ge=0, le=0.5)
    exit_attempts: int = Field(default=3, ge=1, le=20)
    enforce_market_hours: bool = True
    metrics_port: int | None = Field(default=9465, ge=0, le=65535)

    @model_validator(mode="after")
    def _sane(self) -> SentinelConfig:
        if self.backoff_max_seconds < self.backoff_base_seconds:
            raise ValueError("backoff_max_seconds must be at least backoff_base_seconds")
        for name in ("alpaca_stream_url", "binance_stream_url"):
            if not getattr(self, name).startswith(("ws://", "wss://")):
                raise ValueError(f"{name} must start with ws:// or wss://")
        return self
