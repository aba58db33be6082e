"""external calendars

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 10:00:00
"""

from __future__ import annotations

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)
    guid = advanced_alchemy.types.guid.GUID(length=16)
    op.create_table(
        "external_calendar",
        sa.Column("id", guid, nullable=False),
        sa.Column("community_id", guid, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("etag", sa.String(length=500), server_default="", nullable=False),
        sa.Column("last_modified", sa.String(length=100), server_default="", nullable=False),
        sa.Column("last_fetched_at", moment, nullable=True),
        sa.Column("last_success_at", moment, nullable=True),
        sa.Column("last_status", sa.String(length=32), server_default="", nullable=False),
        sa.Column("last_error", sa.Text(), server_default="", nullable=False),
        sa.Column("last_notes", sa.JSON(), nullable=False),
        sa.Column("event_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("updated_at", moment, nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_external_calendar_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_calendar")),
        sa.UniqueConstraint("community_id", "url", name=op.f("uq_external_calendar_community_id")),
    )
    with op.batch_alter_table("external_calendar", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_external_calendar_community_id"), ["community_id"], unique=False
        )

    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_source_id", guid, nullable=True))
        batch_op.add_column(sa.Column("external_uid", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("external_url", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("external_location", sa.String(length=500), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_event_external_source_id_external_calendar"),
            "external_calendar",
            ["external_source_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_event_external_source_id"), ["external_source_id", "external_uid"]
        )


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_event_external_source_id"), type_="unique")
        batch_op.drop_constraint(
            batch_op.f("fk_event_external_source_id_external_calendar"), type_="foreignkey"
        )
        batch_op.drop_column("external_location")
        batch_op.drop_column("external_url")
        batch_op.drop_column("external_uid")
        batch_op.drop_column("external_source_id")
    with op.batch_alter_table("external_calendar", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_external_calendar_community_id"))
    op.drop_table("external_calendar")
