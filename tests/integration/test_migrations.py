"""Migrations: the same Alembic history upgrades and downgrades on SQLite and PostgreSQL."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, inspect, text

from tradebot.errors import LedgerError
from tradebot.store.db import current_revision, downgrade, head_revision, make_engine, open_ledger, upgrade
from tradebot.store.models import metadata

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_available() -> str | None:
    try:
        with create_engine(PG_ADMIN, connect_args={"connect_timeout": 2}).connect():
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        return str(exc).splitlines()[0]


@pytest.fixture
def pg_url():
    """A fresh schema on the local PostgreSQL, dropped afterwards; skips where no server answers."""
    reason = _pg_available()
    if reason:
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432 ({reason})")
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG_ADMIN}?options=-csearch_path%3D{schema}"
    with admin.begin() as c:
        c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def _roundtrip(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    assert current_revision(engine) == head_revision()
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    downgrade(url, "base")
    assert current_revision(engine) is None
    assert not set(metadata.tables) & set(inspect(engine).get_table_names())
    upgrade(url)
    assert current_revision(engine) == head_revision()


def test_sqlite_upgrades_downgrades_and_upgrades_again(tmp_path):
    _roundtrip(f"sqlite:///{tmp_path / 'l.db'}")


@pytest.mark.postgres
def test_postgresql_upgrades_downgrades_and_upgrades_again(pg_url):
    _roundtrip(pg_url)


@pytest.mark.postgres
def test_money_and_time_round_trip_exactly_on_postgresql(pg_url):
    _money_and_time_round_trip(pg_url)


def test_money_and_time_round_trip_exactly_on_sqlite(tmp_path):
    _money_and_time_round_trip(f"sqlite:///{tmp_path / 'l.db'}")


def _money_and_time_round_trip(url: str) -> None:
    from tradebot.store.db import transaction
    from tradebot.store.paper import PaperAccountRow

    sessions = open_ledger(url)
    when = datetime(2026, 5, 1, 13, 30, 0, 123456, tzinfo=UTC)
    cash = Decimal("12345678.0123456789")
    with transaction(sessions) as s:
        s.add(PaperAccountRow(account="a", cash=cash, created_at=when))
    with sessions() as s:
        row = s.get(PaperAccountRow, "a")
        assert row.cash == cash and isinstance(row.cash, Decimal)
        assert row.created_at == when and row.created_at.tzinfo is not None


def test_floats_and_naive_times_are_refused_at_the_boundary(ledger_url):
    from tradebot.store.db import transaction
    from tradebot.store.paper import PaperAccountRow

    sessions = open_ledger(ledger_url)
    with pytest.raises(Exception, match="money columns take Decimal"), transaction(sessions) as s:
        s.add(PaperAccountRow(account="f", cash=1.1, created_at=datetime.now(UTC)))
    with pytest.raises(Exception, match="naive datetime"), transaction(sessions) as s:
        s.add(PaperAccountRow(account="n", cash=Decimal(1), created_at=datetime(2026, 1, 1)))


def test_unreachable_database_is_one_line_with_the_password_masked():
    with pytest.raises(LedgerError) as err:
        open_ledger("postgresql+psycopg://bot:hunter2@127.0.0.1:1/x")
    msg = str(err.value)
    assert "hunter2" not in msg and "***" in msg and "TRADEBOT_DATABASE_URL" in msg


def test_garbage_url_is_named():
    with pytest.raises(LedgerError, match="not a valid SQLAlchemy URL"):
        open_ledger("not a url")


def test_upgrading_to_the_hash_chain_chains_existing_audit_entries(tmp_path):
    from tradebot.store.audit import verify_chain
    from tradebot.store.db import session_factory

    url = f"sqlite:///{tmp_path / 'l.db'}"
    upgrade(url, "0002")
    with make_engine(url).begin() as c:
        for i in range(3):
            c.execute(text("INSERT INTO audit_log (ts, actor, action, target, before, after, reason) VALUES "
                           "(:ts, 'u', :action, '', 'null', 'null', 'r')"),
                      {"ts": f"2026-01-0{i + 1} 00:00:00", "action": f"a{i}"})
    upgrade(url)
    with session_factory(make_engine(url))() as s:
        report = verify_chain(s)
    assert report.ok and report.entries == 3
