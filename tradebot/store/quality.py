"""Recording data-quality results and quarantined rows."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from tradebot.store.ops import DataQualityRow, QuarantineRow


def record_gate(s: Session, outcome: Any, now: datetime) -> None:
    """Store one row per expectation and one quarantine row per refused row or item."""
    for e in outcome.expectations:
        s.add(DataQualityRow(batch=outcome.batch, kind=outcome.kind, expectation=e.expectation, column=e.column,
                             success=e.success, unexpected_count=e.unexpected_count,
                             element_count=e.element_count, details=e.details[:4000], checked_at=now))
    bad = outcome.quarantined
    if isinstance(bad, pd.DataFrame):
        for rec in json.loads(bad.to_json(orient="records", date_format="iso")):
            s.add(QuarantineRow(batch=outcome.batch, kind=outcome.kind, symbol=rec.get("symbol"),
                                failed=str(rec.pop("failed", "")), payload=rec, quarantined_at=now))
    else:
        for item, failed in bad:
            payload = {"id": item.id, "source": item.source, "headline": item.headline, "url": item.url,
                       "published_at": item.published_at.isoformat() if item.published_at else None,
                       "symbols": list(item.symbols)}
            s.add(QuarantineRow(batch=outcome.batch, kind=outcome.kind, symbol=",".join(item.symbols) or None,
                                failed=failed, payload=payload, quarantined_at=now))
