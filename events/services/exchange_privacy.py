"""What offers & needs keep about a person, for how long, and what goes when.

- **Listings** expire with the event their author came through, ``expire_days`` after its
  end (events/lifecycle.py): they leave every page then, and :func:`expire_listings` (a
  periodic job) deletes them.
- **Everything of a person on a board** (pseudonym, what they share, listings, requests
  sent and received with their messages, blocks, reports of messages they made or that
  were made against them) hangs on the registration they came
  through, and goes with it: :func:`forget_registrations` runs when a registrant erases
  their data and when the event's registrations are anonymised
  (events/services/privacy.py, events/services/registrations.py). A request goes when
  either side goes.
- **Download my data** includes it (:func:`export_exchange`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from events.models import (
    ExchangeBlock,
    ExchangeContact,
    ExchangeListing,
    ExchangeMessageReport,
    ExchangeParticipant,
    Registration,
)


def forget_registrations(session: Session, registration_ids: list[UUID]) -> int:
    """Delete the participants that came through these registrations, and with them
    (``ON DELETE CASCADE``) their listings, requests both ways, blocks and message reports
    both ways; returns how
    many participants."""
    if not registration_ids:
        return 0
    participants = list(
        session.scalars(
            select(ExchangeParticipant.id).where(
                ExchangeParticipant.registration_id.in_(registration_ids)
            )
        )
    )
    if not participants:
        return 0
    # Explicitly, children first: the cascade is the database's, and the session must not
    # keep stale rows of them either.
    session.execute(
        delete(ExchangeContact).where(
            or_(
                ExchangeContact.requester_id.in_(participants),
                ExchangeContact.author_id.in_(participants),
            )
        )
    )
    session.execute(
        delete(ExchangeMessageReport).where(
            or_(
                ExchangeMessageReport.sender_id.in_(participants),
                ExchangeMessageReport.reporter_id.in_(participants),
            )
        )
    )
    session.execute(
        delete(ExchangeBlock).where(
            or_(
                ExchangeBlock.blocker_id.in_(participants),
                ExchangeBlock.blocked_id.in_(participants),
            )
        )
    )
    session.execute(delete(ExchangeListing).where(ExchangeListing.participant_id.in_(participants)))
    session.execute(delete(ExchangeParticipant).where(ExchangeParticipant.id.in_(participants)))
    return len(participants)


def expire_listings(session: Session, now: datetime) -> int:
    """Delete the listings that expired; returns how many."""
    result = session.execute(delete(ExchangeListing).where(ExchangeListing.expires_at <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_exchange(session: Session, registration: Registration) -> dict[str, Any] | None:
    """The registrant's offers & needs, as JSON-ready data (None: they never took part
    through this registration)."""
    participant = session.scalar(
        select(ExchangeParticipant).where(ExchangeParticipant.registration_id == registration.id)
    )
    if participant is None:
        return None
    listings = session.scalars(
        select(ExchangeListing)
        .where(ExchangeListing.participant_id == participant.id)
        .order_by(ExchangeListing.created_at)
    )
    contacts = session.scalars(
        select(ExchangeContact)
        .where(
            or_(
                ExchangeContact.requester_id == participant.id,
                ExchangeContact.author_id == participant.id,
            )
        )
        .order_by(ExchangeContact.created_at)
    )
    return {
        "shown_as": participant.display_name,
        "shared_with_matches": {
            "email": participant.share_email,
            "phone": participant.phone,
            "meet_note": participant.meet_note,
        },
        "requests_sent": participant.requests_sent,
        # Suspended by moderation (never who reported them, nor how many).
        "suspended": participant.suspended,
        # Messages they reported: the reason and when (the message is in "requests").
        "messages_reported": [
            {"reason": report.reason, "at": _moment(report.created_at)}
            for report in session.scalars(
                select(ExchangeMessageReport)
                .where(ExchangeMessageReport.reporter_id == participant.id)
                .order_by(ExchangeMessageReport.created_at)
            )
        ],
        "listings": [
            {
                "category": listing.category,
                "side": listing.side,
                "text": listing.text,
                "details": listing.details,
                "paused": listing.paused,
                "posted_at": _moment(listing.created_at),
                "expires_at": _moment(listing.expires_at),
            }
            for listing in listings
        ],
        # Requests they sent, and the messages written to them (never the other's details).
        "requests": [
            {
                "direction": "sent" if contact.requester_id == participant.id else "received",
                "about": contact.about,
                "message": contact.message,
                "state": contact.state
                if contact.author_id == participant.id or contact.state == "accepted"
                else "sent",
                "at": _moment(contact.created_at),
            }
            for contact in contacts
        ],
    }
