"""event_slug_redirect: the address an event had before it moved to another day

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_slug_redirect",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("event_id", GUID(length=16), nullable=False),
        sa.Column("old_slug", sa.String(length=120), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_slug_redirect_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_slug_redirect")),
        sa.UniqueConstraint("old_slug", name=op.f("uq_event_slug_redirect_old_slug")),
    )
    op.create_index(
        op.f("ix_event_slug_redirect_event_id"), "event_slug_redirect", ["event_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_event_slug_redirect_event_id"), table_name="event_slug_redirect")
    op.drop_table("event_slug_redirect")
