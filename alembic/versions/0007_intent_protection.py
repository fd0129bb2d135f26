"""intent protection

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 11:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import tradebot.store.types
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("stop_price", "trail_percent", "protect_stop", "protect_take_profit")


def upgrade() -> None:
    """Apply this revision: an intent keeps its stop fields and the broker-side protection it carries."""
    with op.batch_alter_table("order_intents", schema=None) as batch_op:
        for name in _COLUMNS:
            batch_op.add_column(sa.Column(name, tradebot.store.types.Money(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("order_intents", schema=None) as batch_op:
        for name in reversed(_COLUMNS):
            batch_op.drop_column(name)
