"""job leases: each periodic job runs on one process at a time across all nodes

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = DateTimeUTC(timezone=True)
    op.create_table(
        "job_lease",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("expires_at", moment, nullable=False),
        sa.Column("due_at", moment, nullable=False),
        sa.Column("finished_at", moment, nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("updated_at", moment, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_lease")),
        sa.UniqueConstraint("name", name=op.f("uq_job_lease_name")),
    )


def downgrade() -> None:
    op.drop_table("job_lease")
