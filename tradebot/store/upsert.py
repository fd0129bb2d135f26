"""Dialect-aware bulk upserts (SQLite and PostgreSQL both speak ON CONFLICT)."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

# SQLite caps bound parameters per statement (32766); chunk well below it.
_CHUNK = 2000


def upsert(s: Session, table: Any, rows: Sequence[dict[str, Any]], keys: Sequence[str],
           update: Sequence[str] = ()) -> None:
    """Insert rows; on a key conflict update the given columns, or do nothing when none are given."""
    if not rows:
        return
    dialect = s.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for i in range(0, len(rows), _CHUNK):
        stmt = insert(table).values(list(rows[i:i + _CHUNK]))
        if update:
            stmt = stmt.on_conflict_do_update(index_elements=list(keys),
                                              set_={c: stmt.excluded[c] for c in update})
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
        s.execute(stmt)
