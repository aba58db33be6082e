"""Door links: an organiser hands a volunteer one event's door without an account, or its
open-space board (a link with the facilitator role, :data:`LINK_ROLES`).

The token is never stored: only its SHA-256 is, like manage tokens. ``resolve`` answers an
unknown, revoked or expired token the same way (``NotFound``), so a caller learns nothing
about which links exist.

Handing a link over takes time (a volunteer arrives late, a phone changes), so the
organisers can see a live link again, copy it, share it or mail it (``send_by_email``).
For that the token is not random but *derived*: the HMAC-SHA256 of the link's id under
the installation's secret key (``token_for``). The database alone (a backup, a leak)
still holds nothing that opens a door; whoever has the secret key can already sign
organiser sessions. A link whose stored hash does not match the derivation (made before
this scheme, or under an older secret key) keeps working but cannot be shown again
(``token_of`` is None): revoke it and make a new one. Without a secret, ``create`` falls
back to a random token (events.tokens) that is shown once.

A link is time-boxed: it works from ``valid_from`` (None: at once) until ``expires_at``,
unless revoked. ``link_state`` is the one check of that window, for the scanner (which
refuses a link outside it, saying when it works) and the organiser's list. A door shift's
confirmed volunteer gets a link from half an hour before the shift to its end
(events/services/volunteers.py); cancelling the sign-up revokes it.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from events.clock import utcnow
from events.errors import Conflict, NotFound, ValidationFailed
from events.mail.i18n import format_moment, mail_locale, translations
from events.mail.notify import enqueue, one_line
from events.mail.render import render
from events.models import DoorLink, Event, Role
from events.models.base import new_id
from events.tokens import hash_token, new_token
from events.validation import clean_email, clean_text, id_or_not_found

LABEL_MAX_LENGTH = 80
#: What a link can open: the door, or the open-space board's facilitation.
LINK_ROLES = frozenset({Role.DOOR.value, Role.FACILITATOR.value})
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


#: Keeps door-link tokens apart from anything else derived from the same secret key.
_PURPOSE = b"rencontres door link v1:"


def token_for(secret: str, link_id: UUID) -> str:
    """The token of the door link ``link_id`` (256 bits, URL-safe)."""
    digest = hmac.new(secret.encode(), _PURPOSE + link_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def door_link_url(base_url: str, event: Event, token: str) -> str:
    """What the volunteer opens (and the QR code encodes)."""
    return f"{base_url.rstrip('/')}/door/{event.slug}/link/{token}"


class DoorLinkService:
    """``secret``: the installation's secret key, from which tokens are derived (see the
    module doc); without it, tokens are random and cannot be shown again."""

    def __init__(self, session: Session, *, secret: str | None = None) -> None:
        self.session = session
        self.secret = secret

    def create(
        self,
        event: Event,
        *,
        label: str,
        created_by: UUID,
        expires_at: datetime | None = None,
        valid_from: datetime | None = None,
        shift_signup_id: UUID | None = None,
        role: Role | str = Role.DOOR,
    ) -> tuple[DoorLink, str]:
        """A new link for ``event``, valid from ``valid_from`` (default: at once) until
        ``expires_at`` (default: the event's end), opening what ``role`` does there (the
        door, or the board's facilitation); ``shift_signup_id`` names the door shift's
        sign-up that granted it. Returns the link and its token (see the module docstring
        on showing it again). ``ValidationFailed`` for a missing or too long label, an
        expiry in the past, a start that is not before the expiry, or a role a link cannot
        hold."""
        if str(role) not in LINK_ROLES:
            raise ValidationFailed({"role": "invalid_choice"})
        clean_label = clean_text("label", label, max_length=LABEL_MAX_LENGTH)
        expiry = _aware(expires_at if expires_at is not None else event.ends_at)
        if expiry <= utcnow():
            raise ValidationFailed({"expires_at": "in_the_past"})
        start = _aware(valid_from) if valid_from is not None else None
        if start is not None and start >= expiry:
            raise ValidationFailed({"valid_from": "ends_before_start"})
        link_id = new_id()
        token = token_for(self.secret, link_id) if self.secret else new_token()
        link = DoorLink(
            id=link_id,
            event_id=event.id,
            label=clean_label,
            token_hash=hash_token(token),
            created_by=created_by,
            valid_from=start,
            expires_at=expiry,
            shift_signup_id=shift_signup_id,
            role=Role(str(role)),
        )
        self.session.add(link)
        self.session.flush()
        return link, token

    def token_of(self, link: DoorLink) -> str | None:
        """The token of ``link`` again, if it was derived from this secret key (else
        None: it can only be revoked and replaced)."""
        if not self.secret:
            return None
        token = token_for(self.secret, link.id)
        return token if hmac.compare_digest(hash_token(token), link.token_hash) else None

    def send_by_email(
        self, event: Event, link_id: UUID | str, *, address: str, base_url: str, locale: str
    ) -> str:
        """Mail a live link of ``event`` to ``address`` (a volunteer) in ``locale``; returns
        the cleaned address. ``ValidationFailed`` {"email": ...} for a bad address,
        ``Conflict("door_link_not_live")`` for a revoked or expired link and
        ``Conflict("door_link_not_shown")`` for one whose token cannot be derived."""
        email = clean_email("email", address)
        link = self.in_event(event, link_id)
        if not is_live(link, utcnow()):
            raise Conflict("door_link_not_live")
        token = self.token_of(link)
        if token is None:
            raise Conflict("door_link_not_shown")
        language = mail_locale(locale)
        text, html = render(
            "door_link",
            language,
            {
                "locale": language,
                "event": {"title": event.title, "community": event.community.name},
                "label": link.label,
                "url": door_link_url(base_url, event, token),
                "when": format_moment(event.starts_at, event.timezone, language),
                "until": format_moment(link.expires_at, event.timezone, language),
            },
        )
        _ = translations(language).gettext
        enqueue(
            self.session,
            kind="door_link",
            to_address=email,
            subject=_("The door of %(title)s") % {"title": one_line(event.title)},
            text_body=text,
            html_body=html,
            community_id=event.community_id,
            event_id=event.id,
        )
        return email

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
        wanted = id_or_not_found(link_id)
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
