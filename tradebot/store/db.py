"""Engines, sessions and migrations for the ledger."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tradebot.errors import LedgerError

ALEMBIC_DIR = Path(__file__).resolve().parents[2] / "alembic"


def redact_url(url: str) -> str:
    """Return the URL with any password masked, safe for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable url>"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the dashboard read while a flow writes; foreign keys are off by default in SQLite.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str) -> Engine:
    """Create an engine for url; SQLite gets its folder, WAL and foreign keys."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise LedgerError(f"database_url {url!r} is not a valid SQLAlchemy URL (e.g. sqlite:///path.db)") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5})


def check_reachable(engine: Engine) -> None:
    """Open one connection or raise LedgerError naming the (redacted) URL."""
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise LedgerError(
            f"cannot reach the ledger at {redact_url(str(engine.url.render_as_string(False)))}: {reason}; "
            "check database_url (TRADEBOT_DATABASE_URL)"
        ) from None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory bound to engine."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Yield a session that commits on success and rolls back everything on error."""
    with factory() as session, session.begin():
        yield session


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    # Passed as an attribute, not an ini option, so '%' in passwords needs no escaping.
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to revision."""
    from alembic import command

    check_reachable(make_engine(url))
    command.upgrade(_alembic_config(url), revision)


def downgrade(url: str, revision: str = "-1") -> None:
    """Revert migrations down to revision."""
    from alembic import command

    check_reachable(make_engine(url))
    command.downgrade(_alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    """Return the ledger's Alembic revision, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """Return the newest migration revision shipped with the code."""
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head())


def open_ledger(url: str, migrate: bool = True) -> sessionmaker[Session]:
    """Reach the ledger, bring it to the current schema (if migrate), and return a session factory."""
    engine = make_engine(url)
    check_reachable(engine)
    if migrate and current_revision(engine) != head_revision():
        upgrade(url)
    elif not migrate and "runs" not in inspect(engine).get_table_names():
        raise LedgerError(f"ledger at {redact_url(url)} has no schema: run `tradebot db upgrade`")
    return session_factory(engine)
