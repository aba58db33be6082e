"""Relayed contact with a double opt-in: "I'm interested", then yes or no.

The state machine of an ``ExchangeContact`` (events/models/exchange.py):

    (request) ──> pending ──accept──> accepted ──block──> ended
                     │ ──decline──> declined
                     │ ──withdraw─> withdrawn
                     └──block────> ended

- **Request** (:func:`request_contact`): someone seated at the board writes a short
  message to the author of a listing they can see. The requester's "yes" is the request;
  nobody's address is shown to anyone: the message is relayed (the author's private page,
  and a mail through the outbox).
- The author is told by mail too (events/services/exchange_notifications.py), unless
  they stopped those mails.
- **Accept / decline** (:func:`answer`): only the author, only while pending; one
  conditional ``UPDATE``, so two answers at once count once. Once **accepted**, both sides
  see what the other chose to share (:func:`matches`): never before, never otherwise.
- **A decline is never told**: the requester sees "no answer yet", and "no match" only
  :data:`NO_MATCH_AFTER` after the request (or once the board closed), so the moment of a
  "no" cannot be read from the page (:func:`requester_sees`).
- **Limits**: :data:`REQUESTS_PER_PERSON` requests per person and board, counted by a
  conditional increment (exact under any number of simultaneous requests); one live
  request or match per pair of people, whoever asked (a unique index holds it); no second
  request to someone who said no; none from someone suspended because the people they
  wrote to reported them (events/services/exchange_reports.py). While they are suspended,
  their requests still awaiting an answer are hidden from the people they wrote to (not
  listed, not answered, not reported: events/services/exchange_suspension.py), and come
  back if the organisers restore them.
- **Blocking** (:func:`block`): the blocked person cannot see the blocker's listings or
  write to them (and the other way round); live requests and matches between them end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from events.errors import Conflict, NotFound
from events.models import (
    ContactState,
    ExchangeBlock,
    ExchangeContact,
    ExchangeParticipant,
    Registration,
)
from events.models.base import insert_for, new_id, table_of
from events.models.exchange import LIVE_CONTACT
from events.plain_reads import plain_rows
from events.services.exchange_access import Seat, enter
from events.services.exchange_categories import all_categories
from events.services.exchange_listings import ListingService
from events.services.exchange_notifications import notify_author
from events.services.exchange_suspension import refuse_if_suspended, request_hidden
from events.validation import clean_text, id_or_not_found

REQUESTS_PER_PERSON = 15
MESSAGE_MAX_LENGTH = 500
#: A request not accepted reads "no match" to its sender this long after it was sent.
NO_MATCH_AFTER = timedelta(days=3)
ABOUT_MAX_LENGTH = 200

S = ContactState


def pair_key(a: UUID, b: UUID) -> str:
    low, high = sorted((a.hex, b.hex))
    return f"{low}:{high}"


def take_request_slot(session: Session, participant_id: UUID, cap: int) -> bool:
    """Count one request of ``participant_id`` if they are under ``cap``: one conditional
    ``UPDATE``, so simultaneous requests each see the count the others left and exactly
    ``cap`` of them pass (PostgreSQL re-checks the condition after the row lock; SQLite
    has one writer). False when the cap is reached."""
    table = table_of(ExchangeParticipant)
    counted = session.execute(
        update(table)
        .where(table.c.id == participant_id, table.c.requests_sent < cap)
        .values(requests_sent=table.c.requests_sent + 1)
        .returning(table.c.requests_sent)
    ).first()
    return counted is not None


def _about(seat: Seat, category: str, side: str, text: str) -> str:
    found = {c.id: c for c in all_categories(seat.board.categories)}.get(category)
    label = found.side_label(side) if found else ""
    line = " ".join(text.split())
    summary = f"{label}: {line}" if label else line
    return summary if len(summary) <= ABOUT_MAX_LENGTH else summary[: ABOUT_MAX_LENGTH - 1] + "…"


def request_contact(
    session: Session, seat: Seat, listing_id: UUID | str, message: str, now: datetime
) -> ExchangeContact:
    """``seat`` writes ``message`` to the author of the listing ``listing_id``; see the
    module docstring. Refusals: ``NotFound`` (a listing they cannot see),
    ``ValidationFailed {"message": ...}``, ``Conflict`` ``own_listing``,
    ``already_in_contact`` (a request or a match between them is live),
    ``already_asked`` (they said no before), ``request_cap``, ``suspended`` (reported by
    too many people, events/services/exchange_reports.py). A refused request changes
    nothing (the caller rolls back)."""
    cleaned = clean_text("message", message, max_length=MESSAGE_MAX_LENGTH, multiline=True)
    seat = enter(session, seat, now, visit=False)
    requester = seat.require_participant()
    refuse_if_suspended(requester)
    listing = ListingService(session).one_visible(seat.board, listing_id, now, viewer=seat)
    author_id = listing.participant_id
    if author_id == requester.id:
        raise Conflict("own_listing")
    asked_before = session.scalar(
        select(ExchangeContact.id).where(
            ExchangeContact.requester_id == requester.id,
            ExchangeContact.author_id == author_id,
            ExchangeContact.state == S.DECLINED.value,
        )
    )
    if asked_before is not None:
        raise Conflict("already_asked")
    # Counted first, the request written after: a refusal below rolls the count back.
    if not take_request_slot(session, requester.id, REQUESTS_PER_PERSON):
        raise Conflict("request_cap")
    pair = pair_key(requester.id, author_id)
    table = table_of(ExchangeContact)
    inserted = session.execute(
        insert_for(session)(table)
        .values(
            id=new_id(),
            board_id=seat.board.id,
            listing_id=listing.id,
            requester_id=requester.id,
            author_id=author_id,
            pair_key=pair,
            about=_about(seat, listing.category, listing.side, listing.text),
            message=cleaned,
            state=S.PENDING.value,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["pair_key"], index_where=sql_text(LIVE_CONTACT))
        .returning(table.c.id)
    ).first()
    if inserted is None:
        raise Conflict("already_in_contact")
    contact = session.get(ExchangeContact, inserted.id)
    author = session.get(ExchangeParticipant, author_id)
    assert contact is not None and author is not None
    notify_author(session, contact, author)
    return contact


def _contact_of(session: Session, seat: Seat, contact_id: UUID | str) -> ExchangeContact:
    contact = session.get(ExchangeContact, id_or_not_found(contact_id))
    me = seat.participant_id
    if contact is None or me is None or me not in (contact.requester_id, contact.author_id):
        raise NotFound()
    return contact


def _move(
    session: Session,
    contact: ExchangeContact,
    source: ContactState,
    target: ContactState,
    now: datetime,
) -> bool:
    """``contact`` from ``source`` to ``target`` if it is still in ``source`` (one
    conditional ``UPDATE``: of two simultaneous answers, one wins)."""
    table = table_of(ExchangeContact)
    moved = session.execute(
        update(table)
        .where(table.c.id == contact.id, table.c.state == source.value)
        .values(state=target.value, answered_at=now, updated_at=now)
        .returning(table.c.id)
    ).first()
    session.refresh(contact)
    return moved is not None


def received(session: Session, seat: Seat, contact_id: UUID | str) -> ExchangeContact:
    """A request ``seat`` received, as they see it (``NotFound`` for one they sent, one
    of others, one withdrawn: for its recipient, as if never sent; or one hidden because
    its sender is suspended, events/services/exchange_suspension.py)."""
    contact = _contact_of(session, seat, contact_id)
    if contact.author_id != seat.participant_id or contact.state == S.WITHDRAWN.value:
        raise NotFound()
    requester = session.get(ExchangeParticipant, contact.requester_id)
    if requester is None or request_hidden(requester, contact.state):
        raise NotFound()
    return contact


def answer(
    session: Session, seat: Seat, contact_id: UUID | str, *, accept: bool, now: datetime
) -> ExchangeContact:
    """The author of the listing says yes or no to a pending request;
    ``Conflict("contact_answered")`` when it is no longer pending."""
    contact = received(session, seat, contact_id)
    target = S.ACCEPTED if accept else S.DECLINED
    if not _move(session, contact, S.PENDING, target, now):
        raise Conflict("contact_answered")
    return contact


def withdraw(
    session: Session, seat: Seat, contact_id: UUID | str, now: datetime
) -> ExchangeContact:
    """The requester takes back a request not answered yet."""
    contact = _contact_of(session, seat, contact_id)
    if contact.requester_id != seat.participant_id:
        raise NotFound()
    if not _move(session, contact, S.PENDING, S.WITHDRAWN, now):
        raise Conflict("contact_answered")
    return contact


def block(session: Session, seat: Seat, participant_id: UUID | str, now: datetime) -> None:
    """``seat`` blocks the participant ``participant_id`` of the same board (someone who
    wrote to them, or whose listing they see): see the module docstring. Blocking twice
    changes nothing."""
    seat = enter(session, seat, now, visit=False)
    me = seat.require_participant()
    other = session.get(ExchangeParticipant, id_or_not_found(participant_id))
    if other is None or other.board_id != seat.board.id or other.id == me.id:
        raise NotFound()
    session.execute(
        insert_for(session)(ExchangeBlock)
        .values(board_id=seat.board.id, blocker_id=me.id, blocked_id=other.id)
        .on_conflict_do_nothing(index_elements=["blocker_id", "blocked_id"])
    )
    session.execute(
        update(ExchangeContact)
        .where(
            ExchangeContact.pair_key == pair_key(me.id, other.id),
            ExchangeContact.state.in_([S.PENDING.value, S.ACCEPTED.value]),
        )
        .values(state=S.ENDED.value, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    session.flush()


# -- what each side sees ---------------------------------------------------------------
class ContactFacts(Protocol):
    """What a page shows of a request (a row of :data:`_CONTACTS_OF`, or the request)."""

    @property
    def id(self) -> UUID: ...
    @property
    def requester_id(self) -> UUID: ...
    @property
    def author_id(self) -> UUID: ...
    @property
    def about(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...


def requester_sees(contact: ContactFacts, now: datetime, closes_at: datetime) -> str:
    """What the requester is told of their request: "matched", "waiting" ("no answer
    yet"), "no_match" or "withdrawn". A decline reads "waiting" until
    :data:`NO_MATCH_AFTER` after the request, like any unanswered one."""
    state = ContactState(contact.state)
    if state is S.ACCEPTED:
        return "matched"
    if state is S.WITHDRAWN:
        return "withdrawn"
    if state is S.ENDED or now >= closes_at:
        return "no_match"
    if state is S.DECLINED and now >= contact.created_at + NO_MATCH_AFTER:
        return "no_match"
    return "waiting"


@dataclass(frozen=True)
class SharedContact:
    """What a match chose to share (only ever built for an accepted contact)."""

    display_name: str
    email: str
    phone: str
    meet_note: str


@dataclass(frozen=True)
class ContactLine:
    """One request as one of its two sides sees it."""

    contact: ContactFacts
    #: The other side's pseudonym.
    other_name: str
    other_id: UUID
    #: "received" (I am the author) or "sent".
    direction: str
    #: For the requester: requester_sees(); for the author: the state.
    shown: str
    #: What the other shares: set only once both said yes.
    shared: SharedContact | None


def _shared(participant: ExchangeParticipant, email: str) -> SharedContact:
    return SharedContact(
        display_name=participant.display_name,
        email=email if participant.share_email else "",
        phone=participant.phone,
        meet_note=participant.meet_note,
    )


#: Every request the participant ``me`` sent or received, newest first: the columns a
#: page shows (built once and read past the ORM: every board page runs it, most often to
#: find none; docs/performance.md).
_CONTACTS_OF = (
    select(
        ExchangeContact.id,
        ExchangeContact.requester_id,
        ExchangeContact.author_id,
        ExchangeContact.about,
        ExchangeContact.message,
        ExchangeContact.state,
        ExchangeContact.created_at,
    )
    .where(
        or_(
            ExchangeContact.requester_id == bindparam("me"),
            ExchangeContact.author_id == bindparam("me"),
        )
    )
    .order_by(ExchangeContact.created_at.desc())
)


def contacts_of(session: Session, seat: Seat, now: datetime) -> list[ContactLine]:
    """Every request the seat sent or received, newest first, as they may see it: the
    message of a request sent to them (not one withdrawn, nor one awaiting an answer
    from someone suspended since); the other's contact details only once accepted."""
    me = seat.participant_id
    if me is None:
        return []
    rows: list[ContactFacts] = list(plain_rows(session, _CONTACTS_OF, {"me": me}))
    if not rows:  # most readers of a board, most of the time: no second statement
        return []
    others = {row.author_id if row.requester_id == me else row.requester_id for row in rows}
    people = {
        participant.id: (participant, email)
        for participant, email in session.execute(
            select(ExchangeParticipant, Registration.email)
            .join(Registration, Registration.id == ExchangeParticipant.registration_id)
            .where(ExchangeParticipant.id.in_(others))
        )
    }
    lines: list[ContactLine] = []
    for row in rows:
        received = row.author_id == me
        other_id = row.requester_id if received else row.author_id
        found = people.get(other_id)
        if found is None:
            continue
        other, email = found
        state = ContactState(row.state)
        if received and (state is S.WITHDRAWN or request_hidden(other, state)):
            continue  # taken back before an answer, or its sender suspended: not shown
        shown = state.value if received else requester_sees(row, now, seat.closes_at)
        lines.append(
            ContactLine(
                contact=row,
                other_name=other.display_name,
                other_id=other_id,
                direction="received" if received else "sent",
                shown=shown,
                shared=_shared(other, email) if state is S.ACCEPTED else None,
            )
        )
    return lines


def matches(session: Session, seat: Seat, now: datetime) -> list[ContactLine]:
    """The people the seat matched with (both said yes), with what they share."""
    return [line for line in contacts_of(session, seat, now) if line.shared is not None]
