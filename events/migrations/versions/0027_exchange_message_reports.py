"""exchange_message_reports: reporting a relayed message's sender; suspended participants

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 14:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exchange_participant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("suspended", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "exchange_message_report",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("board_id", GUID(length=16), nullable=False),
        sa.Column("contact_id", GUID(length=16), nullable=True),
        sa.Column("sender_id", GUID(length=16), nullable=False),
        sa.Column("reporter_id", GUID(length=16), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["exchange_board.id"],
            name=op.f("fk_exchange_message_report_board_id_exchange_board"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["exchange_contact.id"],
            name=op.f("fk_exchange_message_report_contact_id_exchange_contact"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["exchange_participant.id"],
            name=op.f("fk_exchange_message_report_sender_id_exchange_participant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["exchange_participant.id"],
            name=op.f("fk_exchange_message_report_reporter_id_exchange_participant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_message_report")),
        sa.UniqueConstraint("sender_id", "reporter_id", name="uq_exchange_message_report"),
    )
    with op.batch_alter_table("exchange_message_report", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_message_report_board_id"), ["board_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_message_report_reporter_id"), ["reporter_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("exchange_message_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_message_report_reporter_id"))
        batch_op.drop_index(batch_op.f("ix_exchange_message_report_board_id"))
    op.drop_table("exchange_message_report")
    with op.batch_alter_table("exchange_participant", schema=None) as batch_op:
        batch_op.drop_column("suspended")
