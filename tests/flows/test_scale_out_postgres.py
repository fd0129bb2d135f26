"""Scale-out: the same flows run against a PostgreSQL ledger when database_url points there."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from tradebot.store.db import open_ledger
from tradebot.store.trading import EquitySnapshotRow

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 10, 29, 21, 0, tzinfo=UTC)
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def pg_ledger(tmp_path):
    """A fresh schema on the machine's PostgreSQL (skipped with the reason where none answers)."""
    try:
        admin = create_engine(PG_ADMIN, connect_args={"connect_timeout": 2})
        with admin.connect():
            pass
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432 ({str(exc).splitlines()[0]})")
    schema = f"t_{uuid.uuid4().hex[:10]}"
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield {"home": str(tmp_path / "home"), "database_url": f"{PG_ADMIN}?options=-csearch_path%3D{schema}"}
    with admin.begin() as c:
        c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def test_ingest_trade_and_report_run_on_a_postgresql_ledger(pg_ledger):
    from flows.daily_report import daily_report
    from flows.ingest_prices import ingest_prices
    from flows.trade_cycle import trade_cycle

    assert ingest_prices(end=NOW, overrides=pg_ledger, assets="all")["new_symbols"]
    cycle = trade_cycle(now=NOW, overrides=pg_ledger)
    report = daily_report(day=NOW.date(), overrides=pg_ledger, alert=False)
    sessions = open_ledger(pg_ledger["database_url"])
    with sessions() as s:
        snap = s.scalars(select(EquitySnapshotRow).order_by(EquitySnapshotRow.id.desc())).first()
    assert isinstance(snap.equity, Decimal) and snap.equity == Decimal(cycle["equity"])
    assert Decimal(report["end_equity"]) == snap.equity
    assert not (Path(pg_ledger["home"]) / "ledger.db").exists()  # nothing fell back to SQLite
