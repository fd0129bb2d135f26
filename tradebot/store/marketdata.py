"""Reads and writes of bars, news, sentiment and earnings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradebot.domain import BAR_COLUMNS, EarningsEvent, EarningsHour, Instrument, NewsItem, SentimentScore, Symbol
from tradebot.store.market import (
    BarRow,
    EarningsEventRow,
    InstrumentRow,
    NewsItemRow,
    NewsSymbolRow,
    SentimentScoreRow,
)
from tradebot.store.upsert import upsert

_PRICE_COLS = ("open", "high", "low", "close", "volume")


def upsert_instruments(s: Session, instruments: Sequence[Instrument]) -> None:
    """Insert or refresh instrument rows."""
    rows = [{"symbol": i.symbol, "asset_class": i.asset_class.value, "name": i.name, "exchange": i.exchange,
             "min_qty": str(i.min_qty), "qty_step": str(i.qty_step)} for i in instruments]
    upsert(s, InstrumentRow.__table__, rows, ["symbol"], ["asset_class", "name", "exchange", "min_qty", "qty_step"])


def upsert_bars(s: Session, bars: pd.DataFrame, source: str, now: datetime) -> int:
    """Store validated bars; a bar already stored for (symbol, timeframe, ts) is overwritten, never doubled."""
    if bars.empty:
        return 0
    frame = bars.loc[:, list(BAR_COLUMNS)].copy()
    frame["ts"] = [t.to_pydatetime() for t in frame["ts"]]
    frame["source"], frame["ingested_at"] = source, now
    rows = frame.to_dict("records")
    upsert(s, BarRow.__table__, rows, ["symbol", "timeframe", "ts"], [*_PRICE_COLS, "source", "ingested_at"])
    return len(rows)


def last_bar_ts(s: Session, symbols: Sequence[str], timeframe: str) -> dict[str, datetime]:
    """Return the newest stored bar time per symbol (for incremental ingestion)."""
    q = (select(BarRow.symbol, func.max(BarRow.ts)).where(BarRow.symbol.in_(symbols), BarRow.timeframe == timeframe)
         .group_by(BarRow.symbol))
    from tradebot.store.types import UTCDateTime  # max() loses the column type on SQLite

    conv = UTCDateTime().process_result_value
    return {sym: conv(ts, s.get_bind().dialect) for sym, ts in s.execute(q) if ts is not None}  # type: ignore[misc]


def read_bars(s: Session, symbols: Sequence[str], timeframe: str, start: datetime | None,
              end: datetime) -> pd.DataFrame:
    """Return stored bars with start <= ts <= end as a BAR_COLUMNS frame sorted by symbol and ts."""
    q = select(*(getattr(BarRow, c) for c in BAR_COLUMNS)).where(
        BarRow.symbol.in_(symbols), BarRow.timeframe == timeframe, BarRow.ts <= end)
    if start is not None:
        q = q.where(BarRow.ts >= start)
    df = pd.DataFrame(s.execute(q.order_by(BarRow.symbol, BarRow.ts)).all(), columns=list(BAR_COLUMNS))
    if df.empty:
        return df.astype({c: "float64" for c in _PRICE_COLS})
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    return df


def upsert_news(s: Session, items: Sequence[NewsItem]) -> int:
    """Store news items and their symbol links; an item already stored is left as it was."""
    rows = [{"id": n.id, "source": n.source, "headline": n.headline, "summary": n.summary, "url": n.url,
             "published_at": n.published_at, "ingested_at": n.ingested_at} for n in items]
    known = set(s.scalars(select(NewsItemRow.id).where(NewsItemRow.id.in_([r["id"] for r in rows])))) if rows else set()
    upsert(s, NewsItemRow.__table__, rows, ["id"])
    links = [{"news_id": n.id, "symbol": sym} for n in items for sym in n.symbols]
    upsert(s, NewsSymbolRow.__table__, links, ["news_id", "symbol"])
    return len({r["id"] for r in rows} - known)


def unscored_news(s: Session, model_version: str, until: datetime) -> list[tuple[str, str]]:
    """Return (news id, headline) of items published by until that model_version has not scored."""
    scored = select(SentimentScoreRow.news_id).where(SentimentScoreRow.model_version == model_version)
    q = (select(NewsItemRow.id, NewsItemRow.headline).where(NewsItemRow.published_at <= until)
         .where(NewsItemRow.id.not_in(scored)).order_by(NewsItemRow.published_at))
    return [(i, h) for i, h in s.execute(q)]


def insert_scores(s: Session, scores: Sequence[SentimentScore], now: datetime) -> None:
    """Store sentiment scores (one per item and model version)."""
    rows = [{"news_id": sc.news_id, "compound": sc.compound, "label": sc.label.value,
             "model_version": sc.model_version, "scored_at": now} for sc in scores]
    upsert(s, SentimentScoreRow.__table__, rows, ["news_id", "model_version"])


def read_sentiment(s: Session, symbols: Sequence[str], model_version: str, since: datetime,
                   until: datetime) -> pd.DataFrame:
    """Return scored news per symbol published in [since, until]: news_id, symbol, source, published_at, compound."""
    q = (select(NewsItemRow.id, NewsSymbolRow.symbol, NewsItemRow.source, NewsItemRow.published_at,
                SentimentScoreRow.compound)
         .join(NewsSymbolRow, NewsSymbolRow.news_id == NewsItemRow.id)
         .join(SentimentScoreRow, SentimentScoreRow.news_id == NewsItemRow.id)
         .where(SentimentScoreRow.model_version == model_version, NewsSymbolRow.symbol.in_(symbols),
                NewsItemRow.published_at >= since, NewsItemRow.published_at <= until))
    df = pd.DataFrame(s.execute(q).all(), columns=["news_id", "symbol", "source", "published_at", "compound"])
    df["published_at"] = pd.to_datetime(df["published_at"], utc=True)
    return df


def upsert_earnings(s: Session, events: Sequence[EarningsEvent], source: str) -> None:
    """Store earnings events; a re-read event refreshes its numbers."""
    rows = [{"symbol": e.symbol, "date": e.date, "hour": e.hour.value, "eps_estimate": e.eps_estimate,
             "eps_actual": e.eps_actual, "revenue_estimate": e.revenue_estimate,
             "revenue_actual": e.revenue_actual, "source": source} for e in events]
    upsert(s, EarningsEventRow.__table__, rows, ["symbol", "date"],
           ["hour", "eps_estimate", "eps_actual", "revenue_estimate", "revenue_actual", "source"])


def read_earnings(s: Session, symbols: Sequence[str], start: date, end: date) -> list[EarningsEvent]:
    """Return stored earnings events of symbols dated in [start, end]."""
    q = (select(EarningsEventRow).where(EarningsEventRow.symbol.in_(symbols), EarningsEventRow.date >= start,
                                        EarningsEventRow.date <= end).order_by(EarningsEventRow.date))
    return [EarningsEvent(symbol=Symbol(r.symbol), date=r.date, hour=EarningsHour(r.hour), eps_estimate=r.eps_estimate,
                          eps_actual=r.eps_actual, revenue_estimate=r.revenue_estimate,
                          revenue_actual=r.revenue_actual) for r in s.scalars(q)]
