"""Door links: an organiser hands a volunteer one event's door without an account, or its
open-space board (a link with the facilitator role, :data:`LINK_ROLES`).

The token (192 bits, events.tokens) is returned once by ``create`` and never stored: only
its SHA-256 is, like manage tokens. ``resolve`` answers an unknown, revoked or expired token
the same way (``NotFound``), so a caller learns nothing about which links exist.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from events.clock import utcnow
from events.errors import NotFound, ValidationFailed
from events.models import DoorLink, Event, Role
from events.tokens import hash_token, new_token
from events.validation import clean_text

LABEL_MAX_LENGTH = 80
#: What a link can open: the door, or the open-space board's facilitation.
LINK_ROLES = frozenset({Role.DOOR.value, Role.FACILITATOR.value})
#: Longer than any token we issue: anything bigger is not worth hashing.
TOKEN_MAX_LENGTH = 200


class DoorLinkService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self,
        event: Event,
        *,
        label: str,
        created_by: UUID,
        expires_at: datetime | None = None,
        role: Role | str = Role.DOOR,
    ) -> tuple[DoorLink, str]:
        """A new link for ``event``, valid until ``expires_at`` (default: the event's end),
        opening what ``role`` does there (the door, or the board's facilitation).
        Returns the link and its token: show the token once, it cannot be read again.
        ``ValidationFailed`` for a missing or too long label, an expiry in the past or a
        role a link cannot hold."""
        if str(role) not in LINK_ROLES:
            raise ValidationFailed({"role": "invalid_choice"})
        clean_label = clean_text("label", label, max_length=LABEL_MAX_LENGTH)
        expiry = expires_at if expires_at is not None else event.ends_at
        expiry = expiry.replace(tzinfo=UTC) if expiry.tzinfo is None else expiry
        if expiry <= utcnow():
            raise ValidationFailed({"expires_at": "in_the_past"})
        token = new_token()
        link = DoorLink(
            event_id=event.id,
            label=clean_label,
            token_hash=hash_token(token),
            created_by=created_by,
            expires_at=expiry,
            role=Role(str(role)),
        )
        self.session.add(link)
        self.session.flush()
        return link, token

    def resolve(self, token: str | None, *, now: datetime) -> DoorLink:
        """The live link for ``token`` (its ``event`` is loaded with it); ``NotFound`` for an
        unknown, revoked or expired token alike."""
        if not token or not isinstance(token, str) or len(token) > TOKEN_MAX_LENGTH:
            raise NotFound()
        link = self.session.scalar(select(DoorLink).where(DoorLink.token_hash == hash_token(token)))
        if link is None or link.revoked_at is not None or link.expires_at <= now:
            raise NotFound()
        return link

    def revoke(self, event: Event, link_id: UUID | str) -> None:
        """Stop ``link_id`` working at once (a second revoke changes nothing). ``NotFound``
        unless it is a link of ``event``."""
        link = self.in_event(event, link_id)
        if link.revoked_at is None:
            link.revoked_at = utcnow()
            self.session.flush()

    def for_event(self, event: Event) -> list[DoorLink]:
        """The event's links, newest first, revoked and expired ones included."""
        return list(
            self.session.scalars(
                select(DoorLink)
                .where(DoorLink.event_id == event.id)
                .order_by(DoorLink.created_at.desc(), DoorLink.id.desc())
            )
        )

    def in_event(self, event: Event, link_id: UUID | str) -> DoorLink:
        """One link of ``event``; ``NotFound`` for an unknown id or another event's link."""
        try:
            wanted = link_id if isinstance(link_id, UUID) else UUID(str(link_id))
        except ValueError:
            raise NotFound() from None
        # The event is in the session already: no second join to it (and its relations).
        link = self.session.get(DoorLink, wanted, options=[lazyload(DoorLink.event)])
        if link is None or link.event_id != event.id:
            raise NotFound()
        return link


def is_live(link: DoorLink, now: datetime) -> bool:
    """Neither revoked nor expired (for the organiser's list)."""
    return link.revoked_at is None and link.expires_at > now
