"""community_secrets: every community gets its secret now, instead of on first use

A community is now made with its secret (events/models/identity.py); the communities made
before without one get theirs here, so that reading a secret never writes.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

SECRET_BYTES = 32  # events/models/identity.py, as of this revision


def upgrade() -> None:
    community = sa.table("community", sa.column("id", GUID(length=16)))
    secret = sa.table(
        "community_secret",
        sa.column("id", GUID(length=16)),
        sa.column("community_id", GUID(length=16)),
        sa.column("secret", sa.LargeBinary(64)),
        sa.column("created_at", DateTimeUTC(timezone=True)),
        sa.column("updated_at", DateTimeUTC(timezone=True)),
    )
    bind = op.get_bind()
    without = bind.execute(
        sa.select(community.c.id).where(~sa.exists().where(secret.c.community_id == community.c.id))
    ).scalars()
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "community_id": community_id,
            "secret": secrets.token_bytes(SECRET_BYTES),
            "created_at": now,
            "updated_at": now,
        }
        for community_id in without
    ]
    if rows:
        op.bulk_insert(secret, rows)


def downgrade() -> None:
    """Nothing to undo: a secret once made is kept (deleting it would make every stored
    key meaningless), and the code before this revision reads it as it is."""
