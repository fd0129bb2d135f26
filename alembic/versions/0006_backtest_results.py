"""backtest results

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 10:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tradebot.store.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "backtest_metrics",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "scope", "name"),
    )
    op.create_table(
        "backtest_trades",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("entry_ts", tradebot.store.types.UTCDateTime(), nullable=False),
        sa.Column("exit_ts", tradebot.store.types.UTCDateTime(), nullable=True),
        sa.Column("qty", tradebot.store.types.Money(), nullable=False),
        sa.Column("entry_price", tradebot.store.types.Money(), nullable=False),
        sa.Column("exit_price", tradebot.store.types.Money(), nullable=False),
        sa.Column("pnl", tradebot.store.types.Money(), nullable=False),
        sa.Column("ret", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_backtest_trades_run_id", "backtest_trades", ["run_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_backtest_trades_run_id", table_name="backtest_trades")
    op.drop_table("backtest_trades")
    op.drop_table("backtest_metrics")
