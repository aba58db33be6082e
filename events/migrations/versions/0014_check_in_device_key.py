"""check_in: the key of the phone that scanned, stable when its label is renamed

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("check_in") as batch:
        batch.add_column(sa.Column("device_key", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("check_in") as batch:
        batch.drop_column("device_key")
