"""venue: the organiser's switch to make an address public before any event there is

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("venue") as batch:
        batch.add_column(
            sa.Column("address_public", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("venue") as batch:
        batch.drop_column("address_public")
