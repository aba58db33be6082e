"""board: the open-space board of an event (rooms, slots, topics, marks, reports); facilitators

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 09:30:00
"""

from __future__ import annotations

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column]:
    moment = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)
    return [
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("updated_at", moment, nullable=False),
    ]


def _role_type() -> sa.types.TypeEngine:
    """The existing ``member_role`` type (a PostgreSQL enum, plain text on SQLite)."""
    values = ("owner", "organiser", "door", "facilitator")
    if op.get_bind().dialect.name == "postgresql":
        return postgresql.ENUM(*values, name="member_role", create_type=False)
    return sa.Enum(*values, name="member_role")


def upgrade() -> None:
    moment = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)
    guid = advanced_alchemy.types.guid.GUID(length=16)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE member_role ADD VALUE IF NOT EXISTS 'facilitator'")
    with op.batch_alter_table("door_link") as batch:
        batch.add_column(sa.Column("role", _role_type(), server_default="door", nullable=False))
    op.create_table(
        "board",
        sa.Column("id", guid, nullable=False),
        sa.Column("event_id", guid, nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("posting_opens_at", moment, nullable=True),
        sa.Column("topics_per_person", sa.Integer(), server_default="2", nullable=False),
        sa.Column("freeze_minutes", sa.Integer(), server_default="15", nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_board_event_id_event"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board")),
        sa.UniqueConstraint("event_id", name=op.f("uq_board_event_id")),
    )
    op.create_table(
        "board_room",
        sa.Column("id", guid, nullable=False),
        sa.Column("board_id", guid, nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["board.id"],
            name=op.f("fk_board_room_board_id_board"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_room")),
        sa.UniqueConstraint("board_id", "name", name="uq_board_room_name"),
    )
    op.create_index(op.f("ix_board_room_board_id"), "board_room", ["board_id"])
    op.create_table(
        "board_slot",
        sa.Column("id", guid, nullable=False),
        sa.Column("board_id", guid, nullable=False),
        sa.Column("starts_at", moment, nullable=False),
        sa.Column("ends_at", moment, nullable=False),
        sa.Column("common_label", sa.String(length=80), server_default="", nullable=False),
        sa.Column("freeze", sa.String(length=8), server_default="", nullable=False),
        sa.Column("programme_item_id", guid, nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["board.id"],
            name=op.f("fk_board_slot_board_id_board"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["programme_item_id"],
            ["programme_item.id"],
            name=op.f("fk_board_slot_programme_item_id_programme_item"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_slot")),
    )
    op.create_index(op.f("ix_board_slot_board_id"), "board_slot", ["board_id"])
    op.create_table(
        "board_topic",
        sa.Column("id", guid, nullable=False),
        sa.Column("board_id", guid, nullable=False),
        sa.Column("host_id", guid, nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("summary", sa.String(length=280), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("cohost", sa.String(length=80), nullable=False),
        sa.Column("show_host", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("room_id", guid, nullable=True),
        sa.Column("slot_id", guid, nullable=True),
        sa.Column("pinned", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("queued", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("programme_item_id", guid, nullable=True),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["board.id"],
            name=op.f("fk_board_topic_board_id_board"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["host_id"],
            ["registration.id"],
            name=op.f("fk_board_topic_host_id_registration"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["programme_item_id"],
            ["programme_item.id"],
            name=op.f("fk_board_topic_programme_item_id_programme_item"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["board_room.id"],
            name=op.f("fk_board_topic_room_id_board_room"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["board_slot.id"],
            name=op.f("fk_board_topic_slot_id_board_slot"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_topic")),
        sa.UniqueConstraint("slot_id", "room_id", name="uq_board_topic_cell"),
    )
    op.create_index(op.f("ix_board_topic_board_id"), "board_topic", ["board_id"])
    op.create_index("ix_board_topic_host", "board_topic", ["board_id", "host_id"])
    op.create_table(
        "board_mark",
        sa.Column("id", guid, nullable=False),
        sa.Column("topic_id", guid, nullable=False),
        sa.Column("registration_id", guid, nullable=False),
        sa.Column("interested", sa.Boolean(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registration.id"],
            name=op.f("fk_board_mark_registration_id_registration"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["board_topic.id"],
            name=op.f("fk_board_mark_topic_id_board_topic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_mark")),
        sa.UniqueConstraint("topic_id", "registration_id", name="uq_board_mark_ticket"),
    )
    op.create_index("ix_board_mark_registration", "board_mark", ["registration_id"])
    op.create_table(
        "board_report",
        sa.Column("id", guid, nullable=False),
        sa.Column("topic_id", guid, nullable=False),
        sa.Column("registration_id", guid, nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registration.id"],
            name=op.f("fk_board_report_registration_id_registration"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["board_topic.id"],
            name=op.f("fk_board_report_topic_id_board_topic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_report")),
        sa.UniqueConstraint("topic_id", "registration_id", name="uq_board_report_ticket"),
    )
    op.create_index("ix_board_report_registration", "board_report", ["registration_id"])


def downgrade() -> None:
    op.drop_table("board_report")
    op.drop_table("board_mark")
    op.drop_table("board_topic")
    op.drop_table("board_slot")
    op.drop_table("board_room")
    op.drop_table("board")
    with op.batch_alter_table("door_link") as batch:
        batch.drop_column("role")
    # PostgreSQL cannot drop one value of an enum type: 'facilitator' stays, unused.
