"""research loop: walk-forward results (issue 21) (reserved slot)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 18:30:00
"""

from collections.abc import Sequence

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: reserved so parallel work chains its migrations in a fixed order."""


def downgrade() -> None:
    """Revert this revision."""
