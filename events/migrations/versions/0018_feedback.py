"""feedback: one answer per ticket, session hosts' links, the event's feedback questions

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _audit() -> list[sa.Column]:
    return [
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    guid = GUID(length=16)
    op.create_table(
        "feedback",
        sa.Column("id", guid, nullable=False),
        sa.Column("event_id", guid, nullable=False),
        sa.Column("registration_id", guid, nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("keep", sa.Text(), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.Column("session_ratings", sa.JSON(), server_default="{}", nullable=False),
        sa.Column("answers", sa.JSON(), server_default="{}", nullable=False),
        *_audit(),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_feedback_event_id_event"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registration.id"],
            name=op.f("fk_feedback_registration_id_registration"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.UniqueConstraint("registration_id", name=op.f("uq_feedback_registration_id")),
    )
    op.create_index(op.f("ix_feedback_event_id"), "feedback", ["event_id"])
    op.create_table(
        "session_feedback_link",
        sa.Column("id", guid, nullable=False),
        sa.Column("programme_item_id", guid, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        *_audit(),
        sa.ForeignKeyConstraint(
            ["programme_item_id"],
            ["programme_item.id"],
            name=op.f("fk_session_feedback_link_programme_item_id_programme_item"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_feedback_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_session_feedback_link_token_hash")),
    )
    op.create_index(
        op.f("ix_session_feedback_link_programme_item_id"),
        "session_feedback_link",
        ["programme_item_id"],
    )
    with op.batch_alter_table("event") as batch:
        batch.add_column(
            sa.Column("feedback_questions", sa.JSON(), server_default="[]", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.drop_column("feedback_questions")
    op.drop_table("session_feedback_link")
    op.drop_table("feedback")
