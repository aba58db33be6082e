"""An event's cover image, kept in the database so every server process (and every
PostgreSQL deployment) serves it without a shared disk.

One row per event at most. The image bytes are re-encoded by events/services/cover_images.py
(never what was uploaded) and deferred: loading an event loads only the small columns its
pages need (digest, sizes), never the pictures themselves.
"""

from __future__ import annotations

from uuid import UUID

from advanced_alchemy.base import DefaultBase
from advanced_alchemy.mixins import AuditColumns
from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from events.models.events import Event


class EventCover(AuditColumns, DefaultBase):
    """The re-encoded cover of one event: a large variant (event page, link previews) and a
    small one (event cards)."""

    __tablename__ = "event_cover"

    event_id: Mapped[UUID] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), primary_key=True
    )
    #: Of both variants (they are encoded alike), e.g. ``image/jpeg``.
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    small_width: Mapped[int] = mapped_column(Integer)
    small_height: Mapped[int] = mapped_column(Integer)
    #: SHA-256 (hex) of the large variant: the ETag, and the version in the image's URL.
    digest: Mapped[str] = mapped_column(String(64))
    large: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    small: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # ``Event.cover`` is the other side (events/models/events.py).
    event: Mapped[Event] = relationship(back_populates="cover")

    @property
    def version(self) -> str:
        """A short, URL-friendly token that changes whenever the picture does."""
        return self.digest[:16]
