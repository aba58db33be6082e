"""exchange_*: offers & needs boards, participants, listings, contact requests, blocks,
reports

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 05:05:36
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_board",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("community_id", GUID(length=16), nullable=False),
        sa.Column("event_id", GUID(length=16), nullable=True),
        sa.Column("series_id", GUID(length=16), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("public", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("expire_days", sa.Integer(), server_default="14", nullable=False),
        sa.Column("categories", sa.JSON(), server_default="[]", nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_exchange_board_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_exchange_board_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
            name=op.f("fk_exchange_board_series_id_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_board")),
        sa.UniqueConstraint("event_id", name=op.f("uq_exchange_board_event_id")),
        sa.UniqueConstraint("series_id", name=op.f("uq_exchange_board_series_id")),
    )
    with op.batch_alter_table("exchange_board", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_board_community_id"), ["community_id"], unique=False
        )

    op.create_table(
        "exchange_participant",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("board_id", GUID(length=16), nullable=False),
        sa.Column("registration_id", GUID(length=16), nullable=False),
        sa.Column("person_key", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=60), nullable=False),
        sa.Column("share_email", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("meet_note", sa.String(length=200), nullable=False),
        sa.Column("notify", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("unsubscribe_token", sa.String(length=64), nullable=False),
        sa.Column("requests_sent", sa.Integer(), server_default="0", nullable=False),
        sa.Column("seen_until", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("visited_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["exchange_board.id"],
            name=op.f("fk_exchange_participant_board_id_exchange_board"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registration.id"],
            name=op.f("fk_exchange_participant_registration_id_registration"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_participant")),
        sa.UniqueConstraint(
            "unsubscribe_token", name=op.f("uq_exchange_participant_unsubscribe_token")
        ),
        sa.UniqueConstraint("board_id", "person_key", name="uq_exchange_person"),
    )
    with op.batch_alter_table("exchange_participant", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_participant_registration_id"), ["registration_id"], unique=False
        )

    op.create_table(
        "exchange_block",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("board_id", GUID(length=16), nullable=False),
        sa.Column("blocker_id", GUID(length=16), nullable=False),
        sa.Column("blocked_id", GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["blocked_id"],
            ["exchange_participant.id"],
            name=op.f("fk_exchange_block_blocked_id_exchange_participant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["blocker_id"],
            ["exchange_participant.id"],
            name=op.f("fk_exchange_block_blocker_id_exchange_participant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["exchange_board.id"],
            name=op.f("fk_exchange_block_board_id_exchange_board"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_block")),
        sa.UniqueConstraint("blocker_id", "blocked_id", name="uq_exchange_block"),
    )
    with op.batch_alter_table("exchange_block", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_block_blocked_id"), ["blocked_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_exchange_block_board_id"), ["board_id"], unique=False)

    op.create_table(
        "exchange_listing",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("board_id", GUID(length=16), nullable=False),
        sa.Column("participant_id", GUID(length=16), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), server_default="{}", nullable=False),
        sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["exchange_board.id"],
            name=op.f("fk_exchange_listing_board_id_exchange_board"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["exchange_participant.id"],
            name=op.f("fk_exchange_listing_participant_id_exchange_participant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_listing")),
    )
    with op.batch_alter_table("exchange_listing", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exchange_listing_board", ["board_id", "category", "expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_listing_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_listing_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "exchange_contact",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("board_id", GUID(length=16), nullable=False),
        sa.Column("listing_id", GUID(length=16), nullable=True),
        sa.Column("requester_id", GUID(length=16), nullable=False),
        sa.Column("author_id", GUID(length=16), nullable=False),
        sa.Column("pair_key", sa.String(length=65), nullable=False),
        sa.Column("about", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("answered_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["exchange_participant.id"],
            name=op.f("fk_exchange_contact_author_id_exchange_participant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["exchange_board.id"],
            name=op.f("fk_exchange_contact_board_id_exchange_board"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["exchange_listing.id"],
            name=op.f("fk_exchange_contact_listing_id_exchange_listing"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["exchange_participant.id"],
            name=op.f("fk_exchange_contact_requester_id_exchange_participant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_contact")),
    )
    with op.batch_alter_table("exchange_contact", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_contact_author_id"), ["author_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_contact_board_id"), ["board_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_contact_listing_id"), ["listing_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_contact_requester_id"), ["requester_id"], unique=False
        )
        batch_op.create_index(
            "uq_exchange_contact_live_pair",
            ["pair_key"],
            unique=True,
            sqlite_where=sa.text("state IN ('pending', 'accepted')"),
            postgresql_where=sa.text("state IN ('pending', 'accepted')"),
        )

    op.create_table(
        "exchange_report",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("board_id", GUID(length=16), nullable=False),
        sa.Column("listing_id", GUID(length=16), nullable=False),
        sa.Column("reporter_id", GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["exchange_board.id"],
            name=op.f("fk_exchange_report_board_id_exchange_board"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["exchange_listing.id"],
            name=op.f("fk_exchange_report_listing_id_exchange_listing"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["exchange_participant.id"],
            name=op.f("fk_exchange_report_reporter_id_exchange_participant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_report")),
        sa.UniqueConstraint("listing_id", "reporter_id", name="uq_exchange_report"),
    )
    with op.batch_alter_table("exchange_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchange_report_board_id"), ["board_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_exchange_report_reporter_id"), ["reporter_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("exchange_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_report_reporter_id"))
        batch_op.drop_index(batch_op.f("ix_exchange_report_board_id"))

    op.drop_table("exchange_report")
    with op.batch_alter_table("exchange_contact", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_exchange_contact_live_pair",
            sqlite_where=sa.text("state IN ('pending', 'accepted')"),
            postgresql_where=sa.text("state IN ('pending', 'accepted')"),
        )
        batch_op.drop_index(batch_op.f("ix_exchange_contact_requester_id"))
        batch_op.drop_index(batch_op.f("ix_exchange_contact_listing_id"))
        batch_op.drop_index(batch_op.f("ix_exchange_contact_board_id"))
        batch_op.drop_index(batch_op.f("ix_exchange_contact_author_id"))

    op.drop_table("exchange_contact")
    with op.batch_alter_table("exchange_listing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_listing_participant_id"))
        batch_op.drop_index(batch_op.f("ix_exchange_listing_expires_at"))
        batch_op.drop_index("ix_exchange_listing_board")

    op.drop_table("exchange_listing")
    with op.batch_alter_table("exchange_block", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_block_board_id"))
        batch_op.drop_index(batch_op.f("ix_exchange_block_blocked_id"))

    op.drop_table("exchange_block")
    with op.batch_alter_table("exchange_participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_participant_registration_id"))

    op.drop_table("exchange_participant")
    with op.batch_alter_table("exchange_board", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_board_community_id"))

    op.drop_table("exchange_board")
