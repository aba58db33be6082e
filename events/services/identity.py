"""Identity without accounts: who someone is to one community, and how they prove it.

Proposers, supporters, followers, reporters (and later open-space participants and
volunteers) never make an account. To a community, a **person** is an e-mail address
they proved is theirs, in one of two ways:

- **double opt-in**: they typed the address and clicked the link mailed to it
  (:func:`request_confirmation`, then :func:`confirm`);
- **a ticket**: they hold a ticket, or the private page of a registration, for one of the
  community's events. The address it was issued to is theirs for this purpose (the ticket
  or the private link was given to whoever registered with it), so a ticket holder never
  needs another mail (:func:`person_of_registration`).

Where one person must count once (one support per proposal, a budget of supports, three
reports from three people, one follow), the person is stored as their **key**: an
HMAC-SHA256 of the lower-case address with the community's own secret
(:func:`person_key`). The key is the same whichever way the address was proved, so a
ticket holder and the same address confirmed by mail are one person; a list of keys
reveals no address, cannot be checked against a list of addresses without the secret, and
cannot be linked with another community's keys. The secret is made with the community
(events/models/identity.py; ``community_secret`` only reads it) and never leaves the
database.

Features plug in by **purpose**: :func:`request_confirmation` stores what the feature
needs to finish the action (``payload``) and mails the link (the mail's wording comes from
``events/mail/templates/community/purposes/<purpose>.*``); :func:`confirm` hands the
confirmed :class:`Person` and the payload back, and events/services/confirmations.py
passes them to the feature's handler. A confirmation link works once per action; a
second click answers as the first did (``already``). Links expire after
``CONFIRMATION_VALID_FOR``.

**Signed links** (:func:`signed_token`) are private links derived from the secret instead
of stored: the id of what they open plus an HMAC of it. Mails written long after the
action (a proposer told of an answer, a follower's unsubscribe link) can then carry them,
where a stored random token could only be mailed once (only its hash is kept).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, delete, exists, select
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import Conflict, NotFound
from events.mail.community import queue_community_mail
from events.models import (
    AddressConfirmation,
    Community,
    CommunitySecret,
    Event,
    Registration,
    RegistrationStatus,
)
from events.tickets import normalise_ticket_code
from events.tokens import hash_token, new_token

#: How long a confirmation link mailed for an action keeps working.
CONFIRMATION_VALID_FOR = timedelta(days=3)
#: Bytes of HMAC kept in a signed link (128 bits).
SIGNATURE_BYTES = 16
MAX_TOKEN_LENGTH = 200

_secrets: dict[UUID, bytes] = {}
_secrets_lock = threading.Lock()


@dataclass(frozen=True)
class Person:
    """Someone a community knows by a proven address (see the module docstring)."""

    community_id: UUID
    #: The keyed hash of ``email`` in this community: what is stored where one person
    #: must count once.
    key: str
    #: The proven address, lower-case: where their mails go.
    email: str


@dataclass(frozen=True)
class Standing:
    """What a person has done in a community's events, for rules that ask (who may
    support a call)."""

    #: Holds a ticket (a confirmed registration) for one of its events.
    ticket_holder: bool
    #: Was let in at the door at least once.
    checked_in: bool


@dataclass(frozen=True)
class Confirmed:
    """A confirmation link was opened: the action to finish, by whom."""

    person: Person
    purpose: str
    payload: dict[str, Any]
    #: The link had been used before: the action was already done.
    already: bool


# -- the community's secret and keys ----------------------------------------------------
def community_secret(session: Session, community_id: UUID) -> bytes:
    """The community's secret, made with the community (events/models/identity.py): this
    only reads, as any page may call it in its read session (events/reader_sessions.py).
    Kept in memory once read: it never changes."""
    found = _secrets.get(community_id)
    if found is not None:
        return found
    secret = session.scalar(
        select(CommunitySecret.secret).where(CommunitySecret.community_id == community_id)
    )
    if secret is None:
        # Every community is inserted with its secret, and migration 0028 gave one to the
        # older ones: only a database not migrated, or edited by hand, gets here.
        raise RuntimeError(f"community {community_id} has no secret: run `rencontres db upgrade`")
    with _secrets_lock:
        _secrets[community_id] = bytes(secret)
    return bytes(secret)


def _mac(secret: bytes, message: str) -> bytes:
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).digest()


def person_key(session: Session, community_id: UUID, email: str) -> str:
    """The keyed hash of ``email`` (already cleaned, lower-case) in this community."""
    return _mac(community_secret(session, community_id), f"address:{email}").hex()


def person(session: Session, community_id: UUID, email: str) -> Person:
    """The person whose address is ``email``: call it only once the address is proven."""
    return Person(community_id, person_key(session, community_id, email), email)


# -- tickets --------------------------------------------------------------------------
# Read on every support or proposal made with a ticket: built once (bound parameters).
_COMMUNITY_OF_EVENT = select(Event.community_id).where(Event.id == bindparam("event_id"))
_TICKET = (
    select(Registration, Event.community_id)
    .join(Event, Event.id == Registration.event_id)
    .where(Registration.ticket_code == bindparam("code"))
)


def person_of_registration(session: Session, registration: Registration) -> Person:
    """The ticket holder (or private-page holder) of ``registration``, to its event's
    community. ``NotFound`` for a registration that holds no ticket (cancelled, declined,
    unconfirmed address, anonymised): it proves nothing."""
    _require_ticket(registration)
    # Only the event's community is needed: one column, not the event with its tags and
    # cover (about 1 ms less on a hot support, docs/performance.md).
    community_id = session.scalar(_COMMUNITY_OF_EVENT, {"event_id": registration.event_id})
    if community_id is None:
        raise NotFound()
    return person(session, community_id, registration.email)


def _require_ticket(registration: Registration) -> None:
    if registration.status is not RegistrationStatus.CONFIRMED or not registration.ticket_code:
        raise NotFound()


def person_of_ticket(session: Session, community_id: UUID, code: str | None) -> Person:
    """The holder of the ticket ``code`` (a bare code or the ticket's URL), to the
    community of its event; ``NotFound`` for an unknown code or another community's."""
    normalised = normalise_ticket_code(code)
    found = session.execute(_TICKET, {"code": normalised}).first() if normalised else None
    if found is None or found[1] != community_id:
        raise NotFound()
    _require_ticket(found[0])
    return person(session, community_id, found[0].email)


def standing(session: Session, person: Person) -> Standing:
    """Whether ``person`` holds a ticket for, or was let in at, one of the community's
    events (any time): one query over their registrations."""
    community_events = select(Event.id).where(Event.community_id == person.community_id)
    theirs = (
        Registration.event_id.in_(community_events),
        Registration.email == person.email,
        Registration.status == RegistrationStatus.CONFIRMED,
    )
    ticket_holder = session.scalar(select(exists().where(*theirs)))
    checked_in = ticket_holder and session.scalar(
        select(exists().where(*theirs, Registration.arrived > 0))
    )
    return Standing(ticket_holder=bool(ticket_holder), checked_in=bool(checked_in))


# -- double opt-in --------------------------------------------------------------------
def request_confirmation(
    session: Session,
    community: Community,
    email: str,
    purpose: str,
    payload: dict[str, Any],
    *,
    locale: str,
    context: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> str:
    """Keep the action ``purpose`` (with what it needs, ``payload``: JSON values) until
    ``email`` (cleaned, lower-case) is confirmed, and mail it the link ``/c/{token}``.
    ``context`` is what the mail says of the action (a title...). Returns the token
    (mailed; never show it to whoever typed the address)."""
    now = now or utcnow()
    token = new_token()
    session.add(
        AddressConfirmation(
            community_id=community.id,
            token_hash=hash_token(token),
            email=email,
            purpose=purpose,
            payload=payload,
            locale=locale,
            expires_at=now + CONFIRMATION_VALID_FOR,
        )
    )
    session.flush()
    queue_community_mail(
        session,
        community=community,
        kind="confirm_address",
        to_address=email,
        locale=locale,
        context={"purpose": purpose, **(context or {})},
        links={"confirm": f"/c/{token}"},
    )
    return token


def pending_confirmation(session: Session, token: str | None) -> AddressConfirmation:
    """The confirmation a link opens (``NotFound`` for an unknown token)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise NotFound()
    found = session.scalar(
        select(AddressConfirmation).where(AddressConfirmation.token_hash == hash_token(token))
    )
    if found is None:
        raise NotFound()
    return found


def confirm(session: Session, token: str | None, *, now: datetime | None = None) -> Confirmed:
    """The address holder clicked: the address is proven for the action. A link used
    before answers ``already=True`` (the action must not be done twice); an expired one
    ``Conflict("confirmation_expired")``. Locks the row, so two clicks at once confirm once."""
    now = now or utcnow()
    pending = pending_confirmation(session, token)
    found = session.scalar(
        select(AddressConfirmation)
        .where(AddressConfirmation.id == pending.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert found is not None
    already = found.confirmed_at is not None
    if not already:
        if found.expires_at <= now:
            raise Conflict("confirmation_expired")
        found.confirmed_at = now
        session.flush()
    return Confirmed(
        person=person(session, found.community_id, found.email),
        purpose=found.purpose,
        payload=dict(found.payload or {}),
        already=already,
    )


def forget_confirmations(session: Session, *, before: datetime) -> int:
    """Delete confirmation rows that expired before ``before`` (they hold addresses)."""
    result = session.execute(
        delete(AddressConfirmation).where(AddressConfirmation.expires_at < before)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -- signed links ---------------------------------------------------------------------
def signed_token(session: Session, community_id: UUID, purpose: str, subject_id: UUID) -> str:
    """A private link token for ``subject_id`` (what it opens) and ``purpose`` (what for):
    its id and an HMAC of both with the community's secret, URL-safe."""
    mac = _mac(community_secret(session, community_id), f"link:{purpose}:{subject_id.hex}")
    return subject_id.hex + base64.urlsafe_b64encode(mac[:SIGNATURE_BYTES]).decode().rstrip("=")


def signed_subject(token: str | None) -> UUID | None:
    """The id a signed token names, without checking its signature (None if malformed)."""
    if not token or len(token) > MAX_TOKEN_LENGTH or len(token) <= 32:
        return None
    try:
        return UUID(hex=token[:32])
    except ValueError:
        return None


def signature_valid(
    session: Session, community_id: UUID, purpose: str, subject_id: UUID, token: str
) -> bool:
    """Whether ``token`` is the signed token of ``subject_id`` for ``purpose`` (constant
    time)."""
    expected = signed_token(session, community_id, purpose, subject_id)
    return hmac.compare_digest(expected.encode(), token.encode("utf-8", "surrogatepass"))
