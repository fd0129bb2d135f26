"""audit log hash chain

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 08:24:41.574429
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tradebot.store.types


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=False, server_default=""))
    # Chain the entries written before this revision, in id order, so verification covers them too.
    from tradebot.store.audit import GENESIS, entry_hash

    audit = sa.table(
        "audit_log", sa.column("id", sa.Integer), sa.column("ts", tradebot.store.types.UTCDateTime()),
        sa.column("actor", sa.String), sa.column("action", sa.String), sa.column("target", sa.String),
        sa.column("before", sa.JSON), sa.column("after", sa.JSON), sa.column("reason", sa.String),
        sa.column("prev_hash", sa.String), sa.column("hash", sa.String),
    )
    bind = op.get_bind()
    prev = GENESIS
    for r in bind.execute(sa.select(audit).order_by(audit.c.id)).mappings().all():
        digest = entry_hash(prev, r["ts"], r["actor"], r["action"], r["target"], r["before"], r["after"], r["reason"])
        bind.execute(audit.update().where(audit.c.id == r["id"]).values(prev_hash=prev, hash=digest))
        prev = digest


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")

