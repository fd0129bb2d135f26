"""dashboard users

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import tradebot.store.types  # noqa: F401

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    # Slot reserved for the #9 dashboard helper; filled in by that work.


def downgrade() -> None:
    """Revert this revision."""
