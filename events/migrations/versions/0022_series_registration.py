"""series: the registration settings and questions every occurrence gets

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("series") as batch:
        batch.add_column(
            sa.Column("waitlist_enabled", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch.add_column(
            sa.Column("requires_approval", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(
            sa.Column("guest_allowance", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column(
                "confirm_email_first", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch.add_column(sa.Column("questions", sa.JSON(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("series") as batch:
        for column in (
            "questions",
            "confirm_email_first",
            "guest_allowance",
            "requires_approval",
            "waitlist_enabled",
        ):
            batch.drop_column(column)
