"""Door links: an organiser hands a volunteer one event's door without an account.

The token (192 bits, events.tokens) is returned once by ``create`` and never stored: only
its SHA-256 is, like manage tokens. ``resolve`` answers an unknown, revoked or expired token
the same way (``NotFound``), so a caller learns nothing about which links exist.

A link is time-boxed: it works from ``valid_from`` (None: at once) until ``expires_at``,
unless revoked. ``link_state`` is the one check of that window, for the scanner (which
refuses a link outside it, saying when it works) and the organiser's list. A door shift's
confirmed volunteer gets a link from half an hour before the shift to its end
(events/services/volunteers.py); cancelling the sign-up revokes it.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from events.clock import utcnow
from events.errors import NotFound, ValidationFailed
from events.models import DoorLink, Event
from events.tokens import hash_token, new_token
from events.validation import clean_text

LABEL_MAX_LENGTH = 80
#: Longer than any token we issue: anything bigger is not worth hashing.
TOKEN_MAX_LENGTH = 200


class LinkState(enum.StrEnum):
    LIVE = "live"
    #: Before ``valid_from``: the link will work later (a door shift's link).
    NOT_YET = "not_yet"
    EXPIRED = "expired"
    REVOKED = "revoked"


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


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
        valid_from: datetime | None = None,
        shift_signup_id: UUID | None = None,
    ) -> tuple[DoorLink, str]:
        """A new link for ``event``, valid from ``valid_from`` (default: at once) until
        ``expires_at`` (default: the event's end); ``shift_signup_id`` names the door
        shift's sign-up that granted it. Returns the link and its token: show (or mail)
        the token once, it cannot be read again. ``ValidationFailed`` for a missing or too
        long label, an expiry in the past, or a start that is not before the expiry."""
        clean_label = clean_text("label", label, max_length=LABEL_MAX_LENGTH)
        expiry = _aware(expires_at if expires_at is not None else event.ends_at)
        if expiry <= utcnow():
            raise ValidationFailed({"expires_at": "in_the_past"})
        start = _aware(valid_from) if valid_from is not None else None
        if start is not None and start >= expiry:
            raise ValidationFailed({"valid_from": "ends_before_start"})
        token = new_token()
        link = DoorLink(
            event_id=event.id,
            label=clean_label,
            token_hash=hash_token(token),
            created_by=created_by,
            valid_from=start,
            expires_at=expiry,
            shift_signup_id=shift_signup_id,
        )
        self.session.add(link)
        self.session.flush()
        return link, token

    def resolve(self, token: str | None, *, now: datetime) -> DoorLink:
        """The link for ``token`` (its ``event`` is loaded with it), live or not working
        yet (the scanner then says from when); ``NotFound`` for an unknown, revoked or
        expired token alike."""
        if not token or not isinstance(token, str) or len(token) > TOKEN_MAX_LENGTH:
            raise NotFound()
        link = self.session.scalar(select(DoorLink).where(DoorLink.token_hash == hash_token(token)))
        if link is None or link_state(link, now) not in {LinkState.LIVE, LinkState.NOT_YET}:
            raise NotFound()
        return link

    def revoke(self, event: Event, link_id: UUID | str) -> None:
        """Stop ``link_id`` working at once (a second revoke changes nothing). ``NotFound``
        unless it is a link of ``event``."""
        revoke_link(self.in_event(event, link_id))
        self.session.flush()

    def revoke_for_signup(self, shift_signup_id: UUID) -> None:
        """Stop the links a door shift's sign-up was granted (its sign-up was cancelled)."""
        for link in self.session.scalars(
            select(DoorLink).where(DoorLink.shift_signup_id == shift_signup_id)
        ):
            revoke_link(link)
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


def revoke_link(link: DoorLink) -> None:
    if link.revoked_at is None:
        link.revoked_at = utcnow()


def link_state(link: DoorLink, now: datetime) -> LinkState:
    """Where ``now`` falls in the link's window: the one check of it (scanner and lists)."""
    if link.revoked_at is not None:
        return LinkState.REVOKED
    if link.expires_at <= now:
        return LinkState.EXPIRED
    if link.valid_from is not None and now < link.valid_from:
        return LinkState.NOT_YET
    return LinkState.LIVE


def is_live(link: DoorLink, now: datetime) -> bool:
    """Within its window and not revoked: the door opens for it now."""
    return link_state(link, now) is LinkState.LIVE
