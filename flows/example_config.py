"""The documented example config that `tradebot init` writes."""

from __future__ import annotations

import json
from pathlib import Path

from tradebot.config import DEFAULT_CRYPTO, DEFAULT_STOCKS

EXAMPLE = {
    "_doc": "tradebot configuration. Keys starting with '_' are comments. Every key can be overridden by an "
            "environment variable TRADEBOT_<SECTION>__<KEY>, e.g. TRADEBOT_RISK__MAX_POSITION_WEIGHT=0.1.",
    "mode": "paper",
    "_mode": "paper (built-in broker) | alpaca-paper | live (needs keys and --confirm-live)",
    "home": ".tradebot",
    "_home": "folder for the SQLite ledger and the local Prefect server's database",
    "database_url": None,
    "_database_url": "SQLAlchemy URL; null means SQLite under home. PostgreSQL: postgresql+psycopg://user@host/db",
    "universe": {"stocks": list(DEFAULT_STOCKS), "crypto": list(DEFAULT_CRYPTO)},
    "data": {
        "_doc": "source: synthetic (seeded built-in market) | file (CSV/Parquet bars at path)",
        "source": "synthetic", "path": None, "seed": 7, "timeframe": "1Day",
    },
    "_strategies": "each: name (see `tradebot strategies`), weight in the signal processor, params for it",
    "strategies": [
        {"name": "news_sentiment", "weight": 1.0, "params": {"entry": 0.25, "exit": -0.05}},
        {"name": "earnings_drift", "weight": 1.0, "params": {"horizon_days": 20, "pre_window_days": 3}},
        {"name": "sma_cross", "weight": 0.5, "params": {"fast": 20, "slow": 50}},
    ],
    "signals": {"_doc": "target weight = combined strength x weight_per_unit", "weight_per_unit": 0.25},
    "risk": {
        "_doc": "weights are fractions of equity",
        "max_position_weight": 0.15, "max_gross_exposure": 1.0, "max_open_positions": 8,
        "min_order_notional": "10", "allow_short": False,
        "_sizing": "fractional Kelly (from each strategy's closed trades) x a daily volatility target per position",
        "kelly_fraction": 0.5, "vol_target": 0.0025, "fallback_daily_vol": 0.02, "fractional_equities": False,
        "_stops": "ATR multiples; trailing stops only ratchet in the position's favour; max_holding_days: time stop",
        "stop_atr": 2.0, "take_profit_atr": 4.0, "trail_atr": 3.0, "max_holding_days": 20,
        "_correlation": "entries correlated above corr_threshold with held exposure are resized or rejected",
        "corr_threshold": 0.8, "max_cluster_weight": 0.3, "max_net_exposure": 1.0,
        "_daily": "a loss beyond max_daily_loss of session-start equity halts new entries until the next session",
        "max_daily_loss": 0.03, "flatten_on_daily_loss": False, "max_trades_per_day": 50,
        "max_consecutive_losses": 3, "earnings_scale": 0.5,
    },
    "paper": {"_doc": "built-in paper broker: fills at the next bar's open plus slippage",
              "initial_cash": "100000", "slippage_bps": "5", "commission_bps": "1", "account": "paper-main"},
    "alpaca": {"_doc": "keys belong in the keyring (`tradebot keys set alpaca_key_id`) or the environment",
               "trading_url": "https://paper-api.alpaca.markets", "data_url": "https://data.alpaca.markets"},
    "binance": {"_doc": "spot orders for crypto when execution.crypto_broker is binance; keys via `tradebot keys`",
                "testnet": True, "quote_asset": "USDT"},
    "execution": {"_doc": "exactly-once submission, market hours, reconciliation (see README: Exactly-once orders)",
                  "extended_hours": False, "submit_attempts": 4, "outside_positions": "ignore",
                  "crypto_broker": "alpaca"},
    "sentinel": {"_doc": "the stop sentinel's feeds and health thresholds (seconds)",
                 "stale_after_seconds": 30, "unprotected_alert_seconds": 30, "metrics_port": 9465},
    "dashboard": {"_doc": "login session timeout, lockout after failed logins, metrics endpoints to show",
                  "session_timeout_minutes": 30, "max_failed_logins": 5, "lockout_minutes": 15,
                  "scrape_urls": ["http://127.0.0.1:9464/metrics", "http://127.0.0.1:9465/metrics"]},
    "services": {"_doc": "`tradebot up` ports; prefect_database_url: PostgreSQL for the Prefect server at scale",
                 "host": "127.0.0.1", "prefect_port": 4200, "dashboard_port": 8501, "metrics_port": 9464,
                 "prefect_database_url": None, "dask_address": None},
}


def write_example(path: Path, force: bool = False) -> None:
    """Write the example config to path (refusing to overwrite unless force)."""
    if path.exists() and not force:
        from tradebot.errors import ConfigError

        raise ConfigError(f"{path} already exists: pass --force to overwrite it")
    path.write_text(json.dumps(EXAMPLE, indent=2) + "\n")
