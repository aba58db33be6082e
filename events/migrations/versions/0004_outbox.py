"""outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 02:10:00
"""

from __future__ import annotations

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

STATUS = sa.Enum("pending", "sent", "failed", name="outbox_status")


def upgrade() -> None:
    moment = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)
    guid = advanced_alchemy.types.guid.GUID(length=16)
    op.create_table(
        "outbox_message",
        sa.Column("id", guid, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("community_id", guid, nullable=True),
        sa.Column("event_id", guid, nullable=True),
        sa.Column("registration_id", guid, nullable=True),
        sa.Column("dedupe_key", sa.String(length=120), nullable=True),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", moment, nullable=False),
        sa.Column("claimed_until", moment, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("sent_at", moment, nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("updated_at", moment, nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_outbox_message_community_id_community"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_outbox_message_event_id_event"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_message_dedupe_key")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_message_community_id"), ["community_id"], unique=False
        )
        batch_op.create_index("ix_outbox_message_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_message_event_id"), ["event_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_outbox_message_registration_id"), ["registration_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("outbox_message")
    STATUS.drop(op.get_bind(), checkfirst=True)
