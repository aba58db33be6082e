"""sign-up requests: an account is created only from a link mailed to its address

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27 10:00:00
"""

from __future__ import annotations

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)
    op.create_table(
        "signup_request",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column("next_path", sa.String(length=500), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", moment, nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("updated_at", moment, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signup_request")),
        sa.UniqueConstraint("email", name=op.f("uq_signup_request_email")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_signup_request_token_hash")),
    )
    with op.batch_alter_table("signup_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signup_request_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("signup_request")
