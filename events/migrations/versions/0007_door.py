"""door: check-in log, door links, walk-ins, arrivals

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 05:00:00
"""

from __future__ import annotations

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column]:
    moment = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)
    return [
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("updated_at", moment, nullable=False),
    ]


def upgrade() -> None:
    moment = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)
    guid = advanced_alchemy.types.guid.GUID(length=16)
    op.create_table(
        "check_in",
        sa.Column("id", guid, nullable=False),
        sa.Column("event_id", guid, nullable=False),
        sa.Column("registration_id", guid, nullable=True),
        sa.Column("other_event_id", guid, nullable=True),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("verdict", sa.String(length=24), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("arrived", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=60), nullable=False),
        sa.Column("actor_id", guid, nullable=True),
        sa.Column("door_link_id", guid, nullable=True),
        sa.Column("offline", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("conflict", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("scanned_at", moment, nullable=False),
        sa.Column("undoes_id", guid, nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_check_in_event_id_event"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registration.id"],
            name=op.f("fk_check_in_registration_id_registration"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_in")),
        # A retried scan (same client nonce) cannot write a second row.
        sa.UniqueConstraint("event_id", "nonce", name="uq_check_in_nonce"),
        # An admission is undone at most once.
        sa.UniqueConstraint("undoes_id", name=op.f("uq_check_in_undoes_id")),
    )
    with op.batch_alter_table("check_in", schema=None) as batch_op:
        batch_op.create_index(
            "ix_check_in_event_scanned_at", ["event_id", "scanned_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_check_in_registration_id"), ["registration_id"], unique=False
        )

    op.create_table(
        "door_link",
        sa.Column("id", guid, nullable=False),
        sa.Column("event_id", guid, nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", guid, nullable=False),
        sa.Column("expires_at", moment, nullable=False),
        sa.Column("revoked_at", moment, nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_door_link_event_id_event"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_door_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_door_link_token_hash")),
    )
    with op.batch_alter_table("door_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_door_link_event_id"), ["event_id"], unique=False)

    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("walk_in", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("arrived", sa.Integer(), server_default="0", nullable=False))

    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "walk_ins_over_capacity", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("walk_ins_over_capacity")
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_column("arrived")
        batch_op.drop_column("walk_in")
    op.drop_table("door_link")
    op.drop_table("check_in")
