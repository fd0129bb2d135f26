"""Market read views: bars with the signals, fills and stops drawn on them; sentiment over time; headlines."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradebot.store.controls import PositionStopRow
from tradebot.store.market import BarRow, InstrumentRow, NewsItemRow, NewsSymbolRow, SentimentScoreRow
from tradebot.store.trading import FillRow, OrderIntentRow, SignalRow
from tradebot.store.views import _frame


def symbols(s: Session) -> list[str]:
    """Return every instrument symbol in the ledger, sorted."""
    return list(s.scalars(select(InstrumentRow.symbol).order_by(InstrumentRow.symbol)))


def asset_classes(s: Session) -> dict[str, str]:
    """Return each instrument's asset class."""
    return dict(s.execute(select(InstrumentRow.symbol, InstrumentRow.asset_class)).tuples().all())


def bars(s: Session, symbol: str, timeframe: str = "1Day", limit: int = 400) -> pd.DataFrame:
    """Return the symbol's newest limit bars, oldest first."""
    q = (select(BarRow.ts, BarRow.open, BarRow.high, BarRow.low, BarRow.close, BarRow.volume)
         .where(BarRow.symbol == symbol, BarRow.timeframe == timeframe).order_by(BarRow.ts.desc()).limit(limit))
    return _frame(s, q, ["ts", "open", "high", "low", "close", "volume"]).iloc[::-1].reset_index(drop=True)


def closes(s: Session, symbols_: list[str], timeframe: str = "1Day", since: datetime | None = None,
           limit: int = 20000) -> pd.DataFrame:
    """Return closes as a ts x symbol frame (for correlation clusters)."""
    q = select(BarRow.ts, BarRow.symbol, BarRow.close).where(BarRow.symbol.in_(symbols_), BarRow.timeframe == timeframe)
    if since is not None:
        q = q.where(BarRow.ts >= since)
    df = _frame(s, q.order_by(BarRow.ts.desc()).limit(limit), ["ts", "symbol", "close"])
    return df.pivot_table(index="ts", columns="symbol", values="close").sort_index() if len(df) else pd.DataFrame()


def signals_for(s: Session, run_id: str, symbol: str, limit: int = 500) -> pd.DataFrame:
    """Return the run's non-flat signals on symbol, newest first."""
    q = (select(SignalRow.ts, SignalRow.strategy, SignalRow.direction, SignalRow.strength, SignalRow.reasons)
         .where(SignalRow.run_id == run_id, SignalRow.symbol == symbol, SignalRow.direction != "flat")
         .order_by(SignalRow.ts.desc()).limit(limit))
    return _frame(s, q, ["ts", "strategy", "direction", "strength", "reasons"])


def fills_for(s: Session, run_id: str, symbol: str, limit: int = 500) -> pd.DataFrame:
    """Return the run's fills on symbol with the strategy behind each, newest first."""
    q = (select(FillRow.ts, FillRow.side, FillRow.qty, FillRow.price, OrderIntentRow.strategy)
         .join(OrderIntentRow, OrderIntentRow.client_order_id == FillRow.client_order_id)
         .where(FillRow.run_id == run_id, FillRow.symbol == symbol).order_by(FillRow.ts.desc()).limit(limit))
    df = _frame(s, q, ["ts", "side", "qty", "price", "strategy"])
    return df.astype({"qty": float, "price": float})


def stop_levels(s: Session, run_id: str, symbol: str) -> dict[str, float]:
    """Return the position's current stop and target levels (empty when flat)."""
    row = s.get(PositionStopRow, (run_id, symbol))
    if row is None:
        return {}
    out = {k: float(v) for k, v in (("stop", row.stop_loss), ("take_profit", row.take_profit)) if v is not None}
    trail = (row.levels or {}).get("trail")
    if trail is not None:
        out["trail"] = float(trail)
    return out


def sentiment_daily(s: Session, symbols_: list[str], since: datetime, limit: int = 20000) -> pd.DataFrame:
    """Return mean compound sentiment and article count per symbol and day since since."""
    q = (select(NewsSymbolRow.symbol, NewsItemRow.published_at, SentimentScoreRow.compound)
         .join(NewsItemRow, NewsItemRow.id == NewsSymbolRow.news_id)
         .join(SentimentScoreRow, SentimentScoreRow.news_id == NewsItemRow.id)
         .where(NewsSymbolRow.symbol.in_(symbols_), NewsItemRow.published_at >= since)
         .order_by(NewsItemRow.published_at.desc()).limit(limit))
    df = _frame(s, q, ["symbol", "published_at", "compound"])
    if df.empty:
        return pd.DataFrame(columns=["symbol", "day", "mean_compound", "articles"])
    df["day"] = pd.to_datetime(df["published_at"], utc=True).dt.floor("D")
    return (df.groupby(["symbol", "day"]).agg(mean_compound=("compound", "mean"), articles=("compound", "size"))
            .reset_index())


def top_headlines(s: Session, symbols_: list[str], since: datetime, limit: int = 20) -> pd.DataFrame:
    """Return the strongest-sentiment headlines (either sign) on symbols since since."""
    q = (select(NewsItemRow.published_at, NewsSymbolRow.symbol, NewsItemRow.headline, NewsItemRow.source,
                SentimentScoreRow.compound, SentimentScoreRow.label, NewsItemRow.url)
         .join(NewsItemRow, NewsItemRow.id == NewsSymbolRow.news_id)
         .join(SentimentScoreRow, SentimentScoreRow.news_id == NewsItemRow.id)
         .where(NewsSymbolRow.symbol.in_(symbols_), NewsItemRow.published_at >= since)
         .order_by(func.abs(SentimentScoreRow.compound).desc(), NewsItemRow.published_at.desc()).limit(limit))
    return _frame(s, q, ["published_at", "symbol", "headline", "source", "compound", "label", "url"])
