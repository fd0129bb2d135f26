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
    "strategies": [{"name": "news_sentiment", "weight": 1.0, "params": {"entry": 0.25, "exit": -0.05}}],
    "signals": {"_doc": "target weight = combined strength x weight_per_unit; pre-earnings targets are scaled",
                "weight_per_unit": 0.25, "pre_earnings_scale": 0.5},
    "risk": {
        "_doc": "weights are fractions of equity",
        "max_position_weight": 0.15, "max_gross_exposure": 1.0, "max_open_positions": 8,
        "min_order_notional": "10", "allow_short": False,
    },
    "paper": {"_doc": "built-in paper broker: fills at the next bar's open plus slippage",
              "initial_cash": "100000", "slippage_bps": "5", "commission_bps": "1", "account": "paper-main"},
    "alpaca": {"_doc": "keys belong in the environment (TRADEBOT_ALPACA__KEY_ID, TRADEBOT_ALPACA__SECRET_KEY)",
               "trading_url": "https://paper-api.alpaca.markets", "data_url": "https://data.alpaca.markets"},
}


def write_example(path: Path, force: bool = False) -> None:
    """Write the example config to path (refusing to overwrite unless force)."""
    if path.exists() and not force:
        from tradebot.errors import ConfigError

        raise ConfigError(f"{path} already exists: pass --force to overwrite it")
    path.write_text(json.dumps(EXAMPLE, indent=2) + "\n")
