"""event.search_folded: title and description without accents or case, for search

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08 12:00:00
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from advanced_alchemy.types.guid import GUID
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})


def _fold(text: str) -> str:
    # A copy of events.folding.fold as it was when this migration was written.
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def upgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("search_folded", sa.Text(), server_default="", nullable=False))
    event = sa.table(
        "event",
        sa.column("id", GUID(length=16)),
        sa.column("title", sa.String()),
        sa.column("description_text", sa.Text()),
        sa.column("search_folded", sa.Text()),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(event.c.id, event.c.title, event.c.description_text))
    for row in rows.fetchall():
        connection.execute(
            event.update()
            .where(event.c.id == row.id)
            .values(search_folded=_fold(f"{row.title or ''}\n{row.description_text or ''}"))
        )


def downgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.drop_column("search_folded")
