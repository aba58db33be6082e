"""volunteers: roles, shifts and sign-ups; door links with a start time and their shift

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status != 'cancelled'")
KIND = sa.Enum("welcome", "door", "setup", "tidyup", "custom", name="volunteer_role_kind")
STATUS = sa.Enum("pending_email", "confirmed", "cancelled", name="shift_signup_status")


def _audit() -> list[sa.Column]:
    return [
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    guid, moment = GUID(length=16), DateTimeUTC(timezone=True)
    op.create_table(
        "volunteer_role",
        sa.Column("id", guid, nullable=False),
        sa.Column("event_id", guid, nullable=False),
        sa.Column("kind", KIND, nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("name_fr", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("door_lead_minutes", sa.Integer(), server_default="30", nullable=False),
        *_audit(),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_volunteer_role_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_role")),
    )
    op.create_index(op.f("ix_volunteer_role_event_id"), "volunteer_role", ["event_id"])
    op.create_table(
        "volunteer_shift",
        sa.Column("id", guid, nullable=False),
        sa.Column("role_id", guid, nullable=False),
        sa.Column("event_id", guid, nullable=False),
        sa.Column("starts_at", moment, nullable=False),
        sa.Column("ends_at", moment, nullable=False),
        sa.Column("needed", sa.Integer(), nullable=False),
        sa.Column("taken", sa.Integer(), server_default="0", nullable=False),
        sa.Column("requires_arrival", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_by", guid, nullable=False),
        *_audit(),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_volunteer_shift_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["volunteer_role.id"],
            name=op.f("fk_volunteer_shift_role_id_volunteer_role"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_shift")),
    )
    op.create_index(op.f("ix_volunteer_shift_event_id"), "volunteer_shift", ["event_id"])
    op.create_index(op.f("ix_volunteer_shift_role_id"), "volunteer_shift", ["role_id"])
    op.create_table(
        "shift_signup",
        sa.Column("id", guid, nullable=False),
        sa.Column("shift_id", guid, nullable=False),
        sa.Column("event_id", guid, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("registration_id", guid, nullable=True),
        sa.Column("manage_token_hash", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("assigned_by", guid, nullable=True),
        sa.Column("confirmed_at", moment, nullable=True),
        sa.Column("cancelled_at", moment, nullable=True),
        *_audit(),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_shift_signup_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registration.id"],
            name=op.f("fk_shift_signup_registration_id_registration"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shift_id"],
            ["volunteer_shift.id"],
            name=op.f("fk_shift_signup_shift_id_volunteer_shift"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift_signup")),
        sa.UniqueConstraint("manage_token_hash", name=op.f("uq_shift_signup_manage_token_hash")),
    )
    op.create_index(op.f("ix_shift_signup_email"), "shift_signup", ["email"])
    op.create_index(op.f("ix_shift_signup_event_id"), "shift_signup", ["event_id"])
    op.create_index(op.f("ix_shift_signup_shift_id"), "shift_signup", ["shift_id"])
    op.create_index(
        "uq_shift_signup_active_email",
        "shift_signup",
        ["shift_id", "email"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )
    with op.batch_alter_table("door_link") as batch:
        batch.add_column(sa.Column("valid_from", moment, nullable=True))
        batch.add_column(sa.Column("shift_signup_id", guid, nullable=True))
        batch.create_index(op.f("ix_door_link_shift_signup_id"), ["shift_signup_id"])
        batch.create_foreign_key(
            op.f("fk_door_link_shift_signup_id_shift_signup"),
            "shift_signup",
            ["shift_signup_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("door_link") as batch:
        batch.drop_constraint(op.f("fk_door_link_shift_signup_id_shift_signup"), type_="foreignkey")
        batch.drop_index(op.f("ix_door_link_shift_signup_id"))
        batch.drop_column("shift_signup_id")
        batch.drop_column("valid_from")
    op.drop_table("shift_signup")
    op.drop_table("volunteer_shift")
    op.drop_table("volunteer_role")
    STATUS.drop(op.get_bind(), checkfirst=True)
    KIND.drop(op.get_bind(), checkfirst=True)
