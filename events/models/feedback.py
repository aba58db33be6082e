"""Feedback from the people who came: one answer per ticket (events/services/feedback.py).

An answer names its registration (``registration_id`` is unique: a second answer is an
edit of the first) but the organisers' views never show who gave it. Hosts of a session see
their session's aggregates through a link of their own (``SessionFeedbackLink``: only the
token's hash is stored).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from events.models.base import Base


class Feedback(Base):
    __tablename__ = "feedback"

    event_id: Mapped[UUID] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[UUID] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), unique=True
    )
    #: The evening as a whole, 1 (poor) to 5 (great).
    rating: Mapped[int] = mapped_column(Integer)
    keep: Mapped[str] = mapped_column(Text, default="")
    change: Mapped[str] = mapped_column(Text, default="")
    #: Ratings of the programme's sessions, 1..5, by programme item id (as a string).
    session_ratings: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, server_default="{}")
    #: Answers to the organisers' own feedback questions, by question id.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")


class SessionFeedbackLink(Base):
    """A link for a session's host to its feedback figures (``/feedback/session/{token}``)."""

    __tablename__ = "session_feedback_link"

    programme_item_id: Mapped[UUID] = mapped_column(
        ForeignKey("programme_item.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
