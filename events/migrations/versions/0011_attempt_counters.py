"""attempt counters: exact rate limits shared by every process (one atomic upsert each)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attempt_counter",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("window_ends_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempt_counter")),
        sa.UniqueConstraint("key", name=op.f("uq_attempt_counter_key")),
    )
    op.create_index(
        op.f("ix_attempt_counter_window_ends_at"), "attempt_counter", ["window_ends_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_attempt_counter_window_ends_at"), table_name="attempt_counter")
    op.drop_table("attempt_counter")
