"""The `binance` config section: spot order execution (keys come from the environment or `tradebot keys`)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class BinanceConfig(BaseModel):
    """Binance spot trading: testnet switch, endpoint overrides, symbol mapping and client-side order rate.

    api_key / api_secret: set TRADEBOT_BINANCE__API_KEY / __API_SECRET or keyring names binance_api_key /
    binance_api_secret (never the config file). testnet (default true) sends orders to
    testnet.binance.vision; rest_url / ws_api_url override either venue (a local fake in tests).
    quote_map maps our quote currency to Binance's (USD -> USDT); symbol_map maps whole symbols
    (e.g. {"BTC/USD": "BTCFDUSD"}). stop_slippage_bps is how far below (sells) or above (buys) its
    trigger a plain stop's STOP_LOSS_LIMIT limit sits.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    testnet: bool = True
    rest_url: str | None = None
    ws_api_url: str | None = None
    quote_asset: str = Field(default="USDT", min_length=2, max_length=10)
    quote_map: dict[str, str] = Field(default_factory=lambda: {"USD": "USDT"})
    symbol_map: dict[str, str] = Field(default_factory=dict)
    order_rate: float = Field(default=5.0, gt=0, le=100)  # orders per second, client-side
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    stop_slippage_bps: Decimal = Field(default=Decimal("50"), ge=0, le=2000)

    @field_validator("rest_url", "ws_api_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://", "ws://", "wss://")):
            raise ValueError("must be an http(s):// or ws(s):// URL")
        return v.rstrip("/") if v else v
