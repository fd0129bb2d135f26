"""One frozen, validated Settings built from a JSON file plus TRADEBOT_* environment overrides."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tradebot.alerts.config import AlertsConfig
from tradebot.binance_config import BinanceConfig
from tradebot.dashboard_config import DashboardConfig
from tradebot.domain import Mode, RiskLimits
from tradebot.errors import ConfigError
from tradebot.execution.config import ExecutionConfig
from tradebot.sentinel.config import SentinelConfig
from tradebot.services.config import ServicesConfig

ENV_PREFIX = "TRADEBOT_"
DEFAULT_CONFIG_FILE = Path("tradebot.json")
DEFAULT_STOCKS = ("AAPL", "MSFT", "NVDA", "AMZN", "JPM", "XOM", "KO", "TSLA")
DEFAULT_CRYPTO = ("BTC/USD", "ETH/USD")


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class UniverseConfig(_Section):
    """Which symbols the bot trades."""

    stocks: tuple[str, ...] = DEFAULT_STOCKS
    crypto: tuple[str, ...] = DEFAULT_CRYPTO

    @field_validator("stocks", "crypto")
    @classmethod
    def _upper_unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(s.strip().upper() for s in v)
        if any(not s for s in cleaned):
            raise ValueError("symbols must be non-empty strings")
        dupes = sorted({s for s in cleaned if cleaned.count(s) > 1})
        if dupes:
            raise ValueError(f"duplicate symbols {dupes}")
        return cleaned

    @property
    def symbols(self) -> tuple[str, ...]:
        """Return every configured symbol, stocks first."""
        return self.stocks + self.crypto


class DataConfig(_Section):
    """Where bars and news come from."""

    source: Literal["synthetic", "file", "alpaca"] = "synthetic"
    path: Path | None = None  # bars file or folder when source is file
    news_path: Path | None = None  # JSON-lines news file: replaces the news feed when set
    earnings_path: Path | None = None  # earnings CSV (symbol,date,qtr,eps_est,eps,release_time,surp)
    seed: int = Field(default=7, ge=0)
    # Replays and trade cycles step in days; ingestion also takes intraday bars.
    timeframe: Literal["1Min", "5Min", "1Hour", "1Day"] = "1Day"
    # Gate: a close-to-close move beyond this many robust sigmas is quarantined as a bad print.
    jump_sigmas: float = Field(default=8.0, gt=0)
    # Gate: a feed whose newest bar is older than this fails freshness (default: 4 days, a long weekend).
    max_staleness_hours: float = Field(default=96.0, gt=0)


class FeedsConfig(_Section):
    """Real providers (data.source alpaca): endpoints, plans and failover; keys come from `tradebot keys`."""

    stock_feed: Literal["iex", "sip"] = "iex"
    binance_url: str = "https://api.binance.com"
    news_sources: tuple[Literal["alpaca", "newsapi"], ...] = ("alpaca",)
    newsapi_url: str = "https://newsapi.org"
    newsapi_requests_per_day: int = Field(default=100, ge=1)
    earnings_source: Literal["finnhub", "csv", "none"] = "none"
    finnhub_url: str = "https://finnhub.io/api/v1"
    failover_max_lag_minutes: float = Field(default=5.0, gt=0)


class StrategySpec(_Section):
    """One strategy the trade cycle runs, its weight in the signal processor, and its parameters."""

    name: str = Field(min_length=1)
    weight: float = Field(default=1.0, gt=0, le=10)
    params: dict[str, float | int | str | bool | dict[str, float]] = Field(default_factory=dict)


# One of each kind: news-driven, event-driven (earnings) and technical (trend).
DEFAULT_STRATEGIES = (
    StrategySpec(name="news_sentiment", weight=1.0),
    StrategySpec(name="earnings_drift", weight=1.0),
    StrategySpec(name="sma_cross", weight=0.5, params={"fast": 20, "slow": 50}),
)


class SignalsConfig(_Section):
    """How the signal processor turns signals into target weights (risk.earnings_scale cuts pre-earnings)."""

    weight_per_unit: float = Field(default=0.25, gt=0, le=1)


class RiskConfig(_Section):
    """Bounds for the risk rule."""

    max_position_weight: float = Field(default=0.15, gt=0, le=1)
    max_gross_exposure: float = Field(default=1.0, gt=0, le=2)
    max_open_positions: int = Field(default=8, ge=1, le=500)
    min_order_notional: Decimal = Field(default=Decimal("10"), ge=0)
    allow_short: bool = False
    # Sizing: fractional Kelly from each strategy's closed trades x a volatility target per position.
    kelly_fraction: float | None = Field(default=0.5, gt=0, le=1)
    vol_target: float | None = Field(default=0.0025, gt=0, le=0.1)
    fallback_daily_vol: float | None = Field(default=0.02, gt=0, le=1)
    fractional_equities: bool = False
    # Stops in ATR multiples; max_holding_days is the time stop.
    stop_atr: float | None = Field(default=2.0, gt=0, le=50)
    take_profit_atr: float | None = Field(default=4.0, gt=0, le=100)
    trail_atr: float | None = Field(default=3.0, gt=0, le=50)
    max_holding_days: int | None = Field(default=20, ge=1, le=3650)
    # Correlation protection and exposure.
    corr_threshold: float = Field(default=0.80, gt=0, lt=1)
    max_cluster_weight: float | None = Field(default=0.30, gt=0, le=2)
    max_net_exposure: float | None = Field(default=1.0, gt=0, le=2)
    # Daily limits: a loss beyond max_daily_loss (fraction of session-start equity) halts new entries.
    max_daily_loss: float | None = Field(default=0.03, gt=0, le=1)
    flatten_on_daily_loss: bool = False
    max_trades_per_day: int | None = Field(default=50, ge=1)
    max_consecutive_losses: int | None = Field(default=3, ge=1)
    earnings_scale: float = Field(default=0.5, ge=0, le=1)

    def policy_kwargs(self) -> dict[str, object]:
        """Return the risk policy knobs (the risk package builds its RiskPolicy from them)."""
        return self.model_dump(include={
            "kelly_fraction", "vol_target", "fallback_daily_vol", "fractional_equities", "stop_atr",
            "take_profit_atr", "trail_atr", "max_holding_days", "corr_threshold", "max_cluster_weight",
            "max_net_exposure", "max_daily_loss", "flatten_on_daily_loss", "max_trades_per_day",
            "max_consecutive_losses", "earnings_scale",
        })

    def limits(self) -> RiskLimits:
        """Return the domain RiskLimits for these settings."""
        return RiskLimits(
            max_position_weight=self.max_position_weight,
            max_gross_exposure=self.max_gross_exposure,
            max_open_positions=self.max_open_positions,
            min_order_notional=self.min_order_notional,
            allow_short=self.allow_short,
        )


class PaperConfig(_Section):
    """The built-in paper broker's account and cost model."""

    initial_cash: Decimal = Field(default=Decimal("100000"), gt=0)
    slippage_bps: Decimal = Field(default=Decimal("5"), ge=0, le=500)
    commission_bps: Decimal = Field(default=Decimal("1"), ge=0, le=500)
    account: str = Field(default="paper-main", min_length=1, max_length=64)


class AlpacaConfig(_Section):
    """Alpaca credentials and endpoints (keys belong in the environment or keyring, not the file)."""

    key_id: SecretStr | None = None
    secret_key: SecretStr | None = None
    trading_url: str = "https://paper-api.alpaca.markets"
    data_url: str = "https://data.alpaca.markets"
    stream_url: str = "wss://paper-api.alpaca.markets/stream"  # trade_updates (live: wss://api.alpaca.markets/stream)
    order_rate_per_minute: float = Field(default=60, gt=0, le=200)  # client-side cap on order endpoints
    order_timeout_seconds: float = Field(default=10.0, gt=0, le=120)


class Settings(BaseSettings):
    """Everything configurable, validated once at the edge and passed down frozen."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        nested_model_default_partial_update=True,
    )

    # The parsed JSON file, bound per load on a throwaway subclass (see load_settings).
    file_data: ClassVar[dict[str, Any]] = {}

    mode: Mode = Mode.PAPER
    live_confirmed: bool = False
    home: Path = Path(".tradebot")
    database_url: str | None = None
    universe: UniverseConfig = UniverseConfig()
    data: DataConfig = DataConfig()
    strategies: tuple[StrategySpec, ...] = Field(default=DEFAULT_STRATEGIES, min_length=1)
    signals: SignalsConfig = SignalsConfig()
    risk: RiskConfig = RiskConfig()
    paper: PaperConfig = PaperConfig()
    alpaca: AlpacaConfig = AlpacaConfig()
    binance: BinanceConfig = BinanceConfig()
    alerts: AlertsConfig = AlertsConfig()
    feeds: FeedsConfig = FeedsConfig()
    services: ServicesConfig = ServicesConfig()
    execution: ExecutionConfig = ExecutionConfig()
    dashboard: DashboardConfig = DashboardConfig()
    sentinel: SentinelConfig = SentinelConfig()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Order sources: explicit arguments, then environment, then the JSON file."""
        return (init_settings, env_settings, _FileSource(settings_cls))

    @property
    def ledger_url(self) -> str:
        """Return the ledger's SQLAlchemy URL (SQLite under home unless set)."""
        return self.database_url or f"sqlite:///{(self.home / 'ledger.db').resolve()}"

    @property
    def prefect_home(self) -> Path:
        """Return the folder that holds the local Prefect server's database."""
        return (self.home / "prefect").resolve()

    def require_runnable(self, confirm_live: bool = False) -> None:
        """Refuse to run a mode whose keys or confirmation are missing."""
        if self.mode is Mode.PAPER:
            return
        for key in ("key_id", "secret_key"):
            if getattr(self.alpaca, key) is None:
                env = f"{ENV_PREFIX}ALPACA__{key.upper()}"
                raise ConfigError(f"mode {self.mode.value} needs alpaca.{key}: set {env} in the environment")
        if self.mode is Mode.LIVE and not (confirm_live or self.live_confirmed):
            raise ConfigError(
                "mode live places real orders: pass --confirm-live or set TRADEBOT_LIVE_CONFIRMED=true"
            )


class _FileSource(PydanticBaseSettingsSource):
    """The JSON config file's contents, already parsed, as the lowest-priority source."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        """Unused: __call__ returns the whole mapping at once."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(getattr(self.settings_cls, "file_data", {}))


def _strip_comments(value: Any) -> Any:
    # Keys starting with "_" are documentation in the example file, not settings.
    if isinstance(value, dict):
        return {k: _strip_comments(v) for k, v in value.items() if not str(k).startswith("_")}
    return value


def _format_error(err: ValidationError) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "<root>"
    if first["type"] == "extra_forbidden":
        return f"config: unknown key '{key}' (check spelling; `tradebot init` writes every valid key)"
    secret = any(word in key for word in ("key", "secret", "token", "password"))
    shown = "<redacted>" if secret else repr(first.get("input"))
    return f"config: {key} = {shown} is invalid: {first['msg']}"


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse the JSON config file; raise ConfigError naming the file on any problem."""
    if not path.is_file():
        raise ConfigError(f"config file {path} not found: run `tradebot init` to write one")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a JSON object at the top level")
    data = _strip_comments(data)
    if _holds_secrets(data) and path.stat().st_mode & 0o077:
        raise ConfigError(f"config file {path} holds secrets but other users can read it: run `chmod 600 {path}` "
                          "(or move the keys to `tradebot keys set`)")
    return data


SECRET_WORDS = ("key", "secret", "token", "password", "webhook")


def _holds_secrets(value: Any, name: str = "") -> bool:
    """Return True when any non-empty string sits under a key that names a secret."""
    if isinstance(value, dict):
        return any(_holds_secrets(v, str(k).lower()) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_secrets(v, name) for v in value)
    # A webhook URL is itself the credential; other URLs (endpoints) are not secrets.
    secret_name = any(w in name for w in SECRET_WORDS) and ("url" not in name or "webhook" in name)
    return isinstance(value, str) and bool(value) and secret_name


def load_settings(path: Path | str | None = None, **overrides: Any) -> Settings:
    """Build Settings from the JSON file (if any), the environment and overrides; ConfigError if bad."""
    cfg_path = Path(path) if path is not None else None
    if cfg_path is None and DEFAULT_CONFIG_FILE.exists():
        cfg_path = DEFAULT_CONFIG_FILE
    file_data = read_config_file(cfg_path) if cfg_path is not None else {}
    bound = type("Settings", (Settings,), {"file_data": file_data, "__module__": __name__})
    try:
        return bound(**overrides)
    except ValidationError as err:
        raise ConfigError(_format_error(err)) from None
