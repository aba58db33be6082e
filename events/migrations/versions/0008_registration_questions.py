"""registration questions: the organiser's questions on an event, the answers on a registration

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("questions", sa.JSON(), server_default="[]", nullable=False))
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answers", sa.JSON(), server_default="{}", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_column("answers")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("questions")
