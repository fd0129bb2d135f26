"""Exposure per open position as a fraction of equity, labelled with its asset class and correlated cluster."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from dashboard import common
from risk.correlation import cluster_labels, correlation_matrix
from tradebot.store import views_market

LOOKBACK_BARS = 60
MIN_OBS = 20


def exposure_frame(positions: pd.DataFrame, equity: float, run_id: str) -> pd.DataFrame:
    """Return symbol, asset_class, weight (signed value / equity) and cluster ('AAPL+MSFT' style labels)."""
    if positions.empty or not equity:
        return pd.DataFrame(columns=["symbol", "asset_class", "weight", "cluster"])
    df = positions[["symbol", "asset_class"]].copy()
    value = positions["market_value"].fillna(positions["qty"] * positions["avg_price"])
    df["weight"] = value.abs() / equity
    syms = list(df["symbol"])
    newest = positions["opened_at"].max()
    since = (pd.Timestamp(newest).to_pydatetime() - timedelta(days=200)) if pd.notna(newest) else None
    closes = common.read(views_market.closes, syms, common.settings().data.timeframe, since)
    if closes.empty or len(syms) < 2:
        df["cluster"] = df["symbol"]
        return df
    corr = correlation_matrix(closes.reindex(columns=syms), LOOKBACK_BARS, MIN_OBS)
    labels = cluster_labels(corr, common.settings().risk.corr_threshold)
    names = {lab: "+".join(s for s, lb in zip(syms, labels, strict=True) if lb == lab) for lab in set(labels)}
    df["cluster"] = [names[lab] for lab in labels]
    return df
