"""every order the bot places is a ledger order (issue 16) (reserved slot)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 18:30:00
"""

from collections.abc import Sequence

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: reserved so parallel work chains its migrations in a fixed order."""


def downgrade() -> None:
    """Revert this revision."""
