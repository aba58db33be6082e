"""registrations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 01:33:00
"""

from __future__ import annotations

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status NOT IN ('cancelled', 'declined')")
STATUS = sa.Enum(
    "pending_email",
    "pending_approval",
    "confirmed",
    "waitlisted",
    "cancelled",
    "declined",
    name="registration_status",
)


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
    ]


def upgrade() -> None:
    moment = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)
    guid = advanced_alchemy.types.guid.GUID(length=16)
    op.create_table(
        "registration",
        sa.Column("id", guid, nullable=False),
        sa.Column("event_id", guid, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("guests", sa.Integer(), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("waitlist_position", sa.Integer(), nullable=True),
        sa.Column("manage_token_hash", sa.String(length=64), nullable=False),
        sa.Column("ticket_code", sa.String(length=32), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("opt_in", sa.Boolean(), nullable=False),
        sa.Column("consent_at", moment, nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=True),
        sa.Column("confirmed_at", moment, nullable=True),
        sa.Column("cancelled_at", moment, nullable=True),
        sa.Column("hold_expires_at", moment, nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_registration_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration")),
        sa.UniqueConstraint("event_id", "request_key", name="uq_registration_request_key"),
        sa.UniqueConstraint(
            "event_id", "waitlist_position", name="uq_registration_waitlist_position"
        ),
        sa.UniqueConstraint("manage_token_hash", name=op.f("uq_registration_manage_token_hash")),
        sa.UniqueConstraint("ticket_code", name=op.f("uq_registration_ticket_code")),
    )
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registration_event_id"), ["event_id"], unique=False)
        batch_op.create_index("ix_registration_event_status", ["event_id", "status"], unique=False)
        # One active registration per e-mail and event; cancelled ones may register again.
        batch_op.create_index(
            "uq_registration_active_email",
            ["event_id", "email"],
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        )

    op.create_table(
        "registration_log",
        sa.Column("id", guid, nullable=False),
        sa.Column("event_id", guid, nullable=False),
        sa.Column("registration_id", guid, nullable=False),
        sa.Column("actor_id", guid, nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_registration_log_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_log")),
    )
    with op.batch_alter_table("registration_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registration_log_event_id"), ["event_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_registration_log_registration_id"), ["registration_id"], unique=False
        )

    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("taken", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("waitlist_enabled", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("requires_approval", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("guest_allowance", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "confirm_email_first", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("confirm_email_first")
        batch_op.drop_column("guest_allowance")
        batch_op.drop_column("requires_approval")
        batch_op.drop_column("waitlist_enabled")
        batch_op.drop_column("taken")
    op.drop_table("registration_log")
    op.drop_table("registration")
    STATUS.drop(op.get_bind(), checkfirst=True)
