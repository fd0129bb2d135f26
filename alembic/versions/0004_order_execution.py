"""order execution: submissions, de-duplicated order events, order stop/parent/last-event columns, paper stops

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import tradebot.store.types
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "order_submissions",
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("broker", sa.String(length=16), nullable=False),
        sa.Column("intent", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lookups", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", tradebot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tradebot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_order_id"], ["order_intents.client_order_id"],
                                name=op.f("fk_order_submissions_client_order_id_order_intents")),
        sa.PrimaryKeyConstraint("client_order_id", name=op.f("pk_order_submissions")),
    )
    with op.batch_alter_table("order_submissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_submissions_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_submissions_broker"), ["broker"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_submissions_state"), ["state"], unique=False)
    op.create_table(
        "order_events",
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("broker", sa.String(length=16), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("broker_order_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("ts", tradebot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("fill_id", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("received_at", tradebot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_order_events")),
    )
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_events_client_order_id"), ["client_order_id"], unique=False)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stop_price", tradebot.store.types.Money(), nullable=True))
        batch_op.add_column(sa.Column("parent_client_order_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("last_event_ts", tradebot.store.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_orders_broker_order_id"), ["broker_order_id"], unique=False)
    with op.batch_alter_table("paper_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stop_price", tradebot.store.types.Money(), nullable=True))
        batch_op.add_column(sa.Column("trail_percent", tradebot.store.types.Money(), nullable=True))
        batch_op.add_column(sa.Column("time_in_force", sa.String(length=8), server_default="day", nullable=False))
        batch_op.add_column(sa.Column("parent_client_order_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("paper_orders", schema=None) as batch_op:
        batch_op.drop_column("parent_client_order_id")
        batch_op.drop_column("time_in_force")
        batch_op.drop_column("trail_percent")
        batch_op.drop_column("stop_price")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_broker_order_id"))
        batch_op.drop_column("last_event_ts")
        batch_op.drop_column("parent_client_order_id")
        batch_op.drop_column("stop_price")
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_events_client_order_id"))
    op.drop_table("order_events")
    with op.batch_alter_table("order_submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_submissions_state"))
        batch_op.drop_index(batch_op.f("ix_order_submissions_broker"))
        batch_op.drop_index(batch_op.f("ix_order_submissions_run_id"))
    op.drop_table("order_submissions")
