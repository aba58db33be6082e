"""outbox: mails queued with what to render, rendered by the mail worker

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("render_spec", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("render_spec")
