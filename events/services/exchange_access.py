"""Who may see an offers & needs board, and as whom: one rule for every page and action.

A board belongs to an event, or to a series (then every occurrence shares it; an event's
own board comes first). Someone takes a **seat** at it through a registration for one of
its events (their private page, ``/r/{token}``), and only when:

- the registration holds a place or is in line for one (confirmed or waitlisted): not
  cancelled, declined, unconfirmed, waiting for approval, nor anonymised or erased;
- the board is switched on for that event (or its series);
- that event's offers & needs are open (events/lifecycle.py ``exchange_closed_reason``:
  published, and until ``expire_days`` after its end).

Nothing else gives a seat: a ticket code (the door scans those), a door link or an
organiser's account never does, and another event's registration sits at another board.
Without a seat, a board is readable only when its organisers made it public
(:func:`public_board`), and then listings only: writing to someone always takes a seat.

A person is one **participant** per board, known by their keyed hash, whichever
registration of the series they came through; the participant row is made when they
first enter (:func:`enter`), and follows them to their latest registration, whose event
then decides when their listings expire.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, bindparam, or_, select, update
from sqlalchemy.orm import Load, Session, lazyload

from events.errors import Conflict, NotFound
from events.lifecycle import exchange_closed_reason, exchange_closes_at
from events.models import (
    Event,
    ExchangeBoard,
    ExchangeListing,
    ExchangeParticipant,
    Registration,
    RegistrationStatus,
)
from events.models.base import insert_for
from events.services.personal_data import is_anonymised
from events.services.registrations import (
    OPENED_BY_FIRST_LINK,
    RegistrationService,
    link_scope,
)

#: Registrations that take a seat: a place, or a place in line.
SEATED_STATUSES = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)
#: A visit ends after this long: listings posted since the previous visit began are "new".
VISIT_GAP = timedelta(minutes=30)


@dataclass(frozen=True)
class Seat:
    """Someone at a board, through one registration."""

    board: ExchangeBoard
    event: Event
    registration: Registration
    #: None until they first enter (:func:`enter`).
    participant: ExchangeParticipant | None
    person_key: str
    #: When the listings they post expire.
    closes_at: datetime

    @property
    def participant_id(self) -> UUID | None:
        return self.participant.id if self.participant is not None else None

    def require_participant(self) -> ExchangeParticipant:
        if self.participant is None:
            raise NotFound()
        return self.participant


def _boards_of(event_id: Any, series_id: Any) -> ColumnElement[bool]:
    """SQL: the board is switched on for the event ``event_id`` or its series
    ``series_id`` (a NULL series matches no board)."""
    return and_(
        or_(ExchangeBoard.event_id == event_id, ExchangeBoard.series_id == series_id),
        ExchangeBoard.enabled.is_(True),
    )


# Statements every board page runs, built once with bound parameters (docs/performance.md).
#: The enabled boards of the event ``event_id`` or of its series ``series_id``.
_BOARDS_OF_EVENT = select(ExchangeBoard).where(
    _boards_of(bindparam("event_id"), bindparam("series_id"))
)
#: The participant of the person ``person_key`` on the board ``board_id``.
_PARTICIPANT = select(ExchangeParticipant).where(
    ExchangeParticipant.board_id == bindparam("board_id"),
    ExchangeParticipant.person_key == bindparam("person_key"),
)


#: The event ``event_id`` with the enabled boards of it or its series, and on each board the
#: participant who came through the registration ``registration_id`` (None in a row when
#: there is none): what a seat reads, in one statement. The event's pages show its
#: title, dates and timezone: what it is loaded with by default (its community, venue and
#: calendar joined, its tags and cover in two more statements) loads only if touched.
#: Joined, they were half the time of this read.
_SEAT_ROWS = (
    select(Event, ExchangeBoard, ExchangeParticipant)
    .outerjoin(ExchangeBoard, _boards_of(Event.id, Event.series_id))
    .outerjoin(
        ExchangeParticipant,
        and_(
            ExchangeParticipant.board_id == ExchangeBoard.id,
            ExchangeParticipant.registration_id == bindparam("registration_id"),
        ),
    )
    .where(Event.id == bindparam("event_id"))
    .options(lazyload("*"))
)


#: :data:`_SEAT_ROWS` for the registration a private link first opened (each row also
#: holds the registration): a board page's first read, the link's own included.
_SEAT_ROWS_BY_LINK = (
    select(Registration, Event, ExchangeBoard, ExchangeParticipant)
    .join(Event, Event.id == Registration.event_id)
    .outerjoin(ExchangeBoard, _boards_of(Event.id, Event.series_id))
    .outerjoin(
        ExchangeParticipant,
        and_(
            ExchangeParticipant.board_id == ExchangeBoard.id,
            ExchangeParticipant.registration_id == Registration.id,
        ),
    )
    .where(OPENED_BY_FIRST_LINK)
    .options(Load(Event).lazyload("*"))
)


def _chosen(event: Event, boards: list[ExchangeBoard]) -> ExchangeBoard | None:
    """Of the boards switched on for ``event`` or its series, the event's own first."""
    own = [board for board in boards if board.event_id == event.id]
    found = own or boards
    return found[0] if found else None


def board_of_event(session: Session, event: Event) -> ExchangeBoard | None:
    """The board switched on for ``event``: its own, else its series' (None: none)."""
    # An event outside a series binds a NULL series, which matches no board.
    scope = {"event_id": event.id, "series_id": event.series_id}
    return _chosen(event, list(session.scalars(_BOARDS_OF_EVENT, scope)))


def person_key_of(session: Session, event: Event, registration: Registration) -> str:
    """The registrant's key on the boards of ``event``'s community (one person, whichever
    registration). Interim: a SHA-256 of the community and the address, until the keyed
    hash of events/services/identity.py is on this branch."""
    material = f"{event.community_id.hex}:{registration.email}".encode()
    return hashlib.sha256(material).hexdigest()


def seat_of_link(session: Session, token: str | None, now: datetime) -> Seat:
    """The seat of the registration the private link ``token`` opens (:func:`seat_of`);
    ``NotFound`` for a link that opens none. One statement for a first link."""
    rows = session.execute(_SEAT_ROWS_BY_LINK, link_scope(token)).all()
    if not rows:  # a link added since (or none): the registration first, then its seat
        return seat_of(session, RegistrationService(session).by_added_link(token), now)
    return _seat_from_rows(session, rows[0][0], [row[1:] for row in rows], now)


def seat_of(session: Session, registration: Registration, now: datetime) -> Seat:
    """The seat ``registration`` gives (see the module docstring); ``NotFound`` when its
    event has no board, ``Conflict("exchange_no_place")`` for a registration that gives
    none, ``Conflict("exchange_closed")`` once the board closed for its event."""
    scope = {"event_id": registration.event_id, "registration_id": registration.id}
    return _seat_from_rows(session, registration, session.execute(_SEAT_ROWS, scope).all(), now)


def _seat_from_rows(
    session: Session, registration: Registration, rows: Sequence[Any], now: datetime
) -> Seat:
    """:func:`seat_of` from its rows: (event, board or None, participant or None)."""
    if not rows:
        raise NotFound()
    event = rows[0][0]
    board = _chosen(event, list(dict.fromkeys(row[1] for row in rows if row[1] is not None)))
    if board is None:
        raise NotFound()
    if registration.status not in SEATED_STATUSES or is_anonymised(registration):
        raise Conflict("exchange_no_place")
    reason = exchange_closed_reason(event, board.expire_days, now)
    if reason is not None:
        raise Conflict(reason)
    key = person_key_of(session, event, registration)
    # Most often the person came through this very registration: the row holds them. Else
    # (a first visit, or they came through another registration of the series) by key.
    participant = next(
        (row[2] for row in rows if row[1] is board and row[2] and row[2].person_key == key),
        None,
    ) or session.scalar(_PARTICIPANT, {"board_id": board.id, "person_key": key})
    return Seat(
        board=board,
        event=event,
        registration=registration,
        participant=participant,
        person_key=key,
        closes_at=exchange_closes_at(event, board.expire_days),
    )


def needs_entry(seat: Seat, now: datetime) -> bool:
    """Whether showing the board should first record this visit (:func:`enter`): a first
    visit, a visit through another registration, or a new visit."""
    participant = seat.participant
    return (
        participant is None
        or participant.registration_id != seat.registration.id
        or participant.visited_at is None
        or now - participant.visited_at >= VISIT_GAP
    )


def enter(session: Session, seat: Seat, now: datetime, *, visit: bool = True) -> Seat:
    """Make ``seat``'s participant if needed (two first entries at once make one), move
    it to this registration (its listings then expire with this event), and with
    ``visit`` record a new visit. Returns the seat with its participant. Flushes; writes
    nothing when there is nothing to change."""
    participant = seat.participant
    if (
        participant is not None
        and participant.registration_id == seat.registration.id
        and not (visit and needs_entry(seat, now))
    ):
        return seat
    session.execute(
        insert_for(session)(ExchangeParticipant)
        .values(
            board_id=seat.board.id,
            registration_id=seat.registration.id,
            person_key=seat.person_key,
        )
        .on_conflict_do_nothing(index_elements=["board_id", "person_key"])
    )
    participant = session.scalar(
        select(ExchangeParticipant)
        .where(
            ExchangeParticipant.board_id == seat.board.id,
            ExchangeParticipant.person_key == seat.person_key,
        )
        .execution_options(populate_existing=True)
    )
    assert participant is not None
    if participant.registration_id != seat.registration.id:
        participant.registration_id = seat.registration.id
        session.execute(
            update(ExchangeListing)
            .where(ExchangeListing.participant_id == participant.id)
            .values(expires_at=seat.closes_at)
            .execution_options(synchronize_session=False)
        )
    if visit and (participant.visited_at is None or now - participant.visited_at >= VISIT_GAP):
        participant.seen_until = participant.visited_at
        participant.visited_at = now
    session.flush()
    return replace(seat, participant=participant)


def public_board(session: Session, event: Event, now: datetime) -> ExchangeBoard:
    """``event``'s board if its organisers made it public and it is open; else
    ``NotFound`` (a private board's listings do not exist for visitors)."""
    board = board_of_event(session, event)
    if board is None or not board.public:
        raise NotFound()
    if exchange_closed_reason(event, board.expire_days, now) is not None:
        raise NotFound()
    return board


def open_board(session: Session, event: Event, now: datetime) -> ExchangeBoard | None:
    """``event``'s board while it is switched on and open (None otherwise): the event page
    links to it, to the board itself when it is public, else to the way in for people
    registered (their private link) without showing anything of it."""
    board = board_of_event(session, event)
    if board is None or exchange_closed_reason(event, board.expire_days, now) is not None:
        return None
    return board


def seated_clause() -> ColumnElement[bool]:
    """SQL: the registration still gives a seat. Listings of people whose registration no
    longer does (cancelled, declined) are hidden from every page; erased and anonymised
    registrations take their participant, listings and requests with them
    (events/services/exchange_privacy.py)."""
    return Registration.status.in_(SEATED_STATUSES)


def has_seat(session: Session, registration: Registration, now: datetime) -> bool:
    """Whether ``registration`` gives a seat at a board now (its private page then links
    to it)."""
    try:
        seat_of(session, registration, now)
    except (NotFound, Conflict):
        return False
    return True
