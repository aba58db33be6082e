"""A version stamp per offers & needs board, shared by all processes through the database.

A board's list of listings shown to everyone (events/services/exchange_listings.py
``visible``, before the viewer's own rules) is read by every attendee on each load; a
process keeps it and reads the board's stamp instead (one small query), so the list is
rebuilt once per change of the board, whichever process or node made the change.

Any transaction that changes what a board's list shows writes new random stamps in the
same transaction (session hooks, so no service can forget), in ``key_value`` under
:data:`NAMESPACE`:

- a listing added, changed or deleted (posted, edited, paused, resumed, hidden or
  restored by moderation), or a participant's shown name or suspension changed, or the
  board itself changed: that board's key (the board's id);
- a registration's status changed or the registration deleted (it gives a seat or not):
  the key of its event's community (:func:`community_key`), which the version of each of
  that community's boards includes. Registrations cannot be tied to one board without a
  look-up (a series board seats every occurrence's), and a community's key keeps one
  community's cancellations and confirmations from moving, and writing, every other
  community's versions;
- what the hooks cannot tie to a board or a community: any ``update``/``delete``/
  ``insert`` statement on listings, participants, boards or registrations (reports hiding
  a listing, suspensions, expiry, erasure): the key :data:`ALL`, which every board's
  version includes.

A participant's visit (``seen_until``) changes nothing shown to others: it stamps nothing.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, event, inspect, or_, select
from sqlalchemy.orm import ORMExecuteState, Session

from events.content_version import write_stamp
from events.models import (
    Event,
    ExchangeBoard,
    ExchangeListing,
    ExchangeParticipant,
    KeyValue,
    Registration,
)
from events.plain_reads import plain_rows

NAMESPACE, ALL = "exchange-board", "all"
#: The participant's columns a board's list shows or filters on.
_PARTICIPANT_SHOWN = ("display_name", "suspended", "registration_id", "board_id")
_STATEMENT_TRACKED = (ExchangeBoard, ExchangeListing, ExchangeParticipant, Registration)
_CHANGED = "rencontres.exchange_boards_changed"


#: Read on every load of a board: built once (bound parameters).
_VERSION = select(KeyValue.key, KeyValue.value).where(
    KeyValue.namespace == NAMESPACE,
    or_(
        KeyValue.key == ALL,
        KeyValue.key == bindparam("board"),
        KeyValue.key == bindparam("community"),
    ),
)
_COMMUNITIES_OF_EVENTS = select(Event.id, Event.community_id).where(
    Event.id.in_(bindparam("event_ids", expanding=True))
)


def community_key(community_id: UUID) -> str:
    """The key every board of the community depends on."""
    return f"community:{community_id}"


#: The stamps of :data:`ALL`, the board's community and the board.
BoardVersion = tuple[str, str, str]


def board_version(session: Session, board: ExchangeBoard) -> BoardVersion:
    """The stamps ``board``'s list depends on (its own, its community's and :data:`ALL`):
    one query."""
    own, community = str(board.id), community_key(board.community_id)
    found = plain_rows(session, _VERSION, {"board": own, "community": community})
    rows: dict[str, bytes] = {key: value for key, value in found}

    def stamp(key: str) -> str:
        return rows.get(key, b"initial").decode()

    return stamp(ALL), stamp(community), stamp(own)


def mark_board_changed(session: Session, board_id: UUID | None) -> None:
    """Stamp a new version of ``board_id`` (None: of every board) when ``session``
    commits."""
    _mark(session, ALL if board_id is None else str(board_id))


def mark_community_changed(session: Session, community_id: UUID) -> None:
    """Stamp a new version of every board of the community when ``session`` commits."""
    _mark(session, community_key(community_id))


def _mark(session: Session, key: str) -> None:
    session.info.setdefault(_CHANGED, set()).add(key)


def _changed(instance: object, names: tuple[str, ...]) -> bool:
    attrs = inspect(instance).attrs
    return any(attrs[name].history.has_changes() for name in names)


def _note_changes(session: Session, _context: Any, _instances: Any) -> None:
    seats_changed: set[UUID] = set()  # events whose registrations' seats changed
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, ExchangeListing):
            mark_board_changed(session, instance.board_id)
        elif isinstance(instance, ExchangeBoard):
            mark_board_changed(session, instance.id)
        elif isinstance(instance, ExchangeParticipant):
            if instance in session.dirty and not _changed(instance, _PARTICIPANT_SHOWN):
                continue  # a visit: nothing others see
            mark_board_changed(session, instance.board_id)
        elif isinstance(instance, Registration) and (
            instance in session.deleted
            or (instance in session.dirty and _changed(instance, ("status",)))
        ):
            seats_changed.add(instance.event_id)
    if seats_changed:
        _mark_communities_of(session, seats_changed)


def _mark_communities_of(session: Session, event_ids: set[UUID]) -> None:
    """Stamp the communities of ``event_ids`` (one query for a flush's registrations);
    every board when one of the events is gone in the same flush, with its community's
    boards' seats."""
    with session.no_autoflush:
        rows = session.execute(_COMMUNITIES_OF_EVENTS, {"event_ids": list(event_ids)})
        found: dict[UUID, UUID] = {event_id: community_id for event_id, community_id in rows}
    if len(found) < len(event_ids):
        mark_board_changed(session, None)
    for community_id in set(found.values()):
        mark_community_changed(session, community_id)


def _note_statement(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    mapper = state.bind_mapper
    if mapper is not None and issubclass(mapper.class_, _STATEMENT_TRACKED):
        mark_board_changed(state.session, None)


def _stamp(session: Session) -> None:
    if session.in_nested_transaction():  # savepoints: stamp once, at the end
        return
    session.flush()  # before_commit runs before the final flush
    keys = session.info.pop(_CHANGED, None)
    if not keys:
        return
    for key in sorted(keys):  # one order: two writers never wait on each other's rows
        write_stamp(session, NAMESPACE, key)


def _forget(session: Session, *_args: Any) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop(_CHANGED, None)


event.listen(Session, "before_flush", _note_changes)
event.listen(Session, "do_orm_execute", _note_statement)
event.listen(Session, "before_commit", _stamp)
event.listen(Session, "after_rollback", _forget)
