"""personal feeds

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 02:15:00
"""

from __future__ import annotations

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)
    op.create_table(
        "personal_feed",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("updated_at", moment, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_feed")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_personal_feed_token_hash")),
    )
    with op.batch_alter_table("personal_feed", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_personal_feed_email"), ["email"], unique=False)


def downgrade() -> None:
    op.drop_table("personal_feed")
