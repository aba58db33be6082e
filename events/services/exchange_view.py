"""What one attendee sees of their offers & needs board, in one read.

Opening the board from one's private page (``/r/{token}/offers``) records the visit, once
per visit (for the "new since I last looked" marks, events/services/exchange_access.py
``enter``),
reads the filters as typed, and gathers what the page shows: the listings found (ranked,
with their one-line reasons, events/services/exchange_matching.py), the attendee's own
listings, their requests both ways (with the messages they reported marked), and what
they share. Filters that do not parse are
reported per field and the board is shown unfiltered by them, never refused.

A visitor without a seat reads a board only when its organisers made it public
(:func:`visitor_board`): the listings, with nothing to rank them against, and no way to
write (that takes a registration).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.orm import Session

from events.database import Database
from events.errors import NotFound, ValidationFailed
from events.models import Event, ExchangeBoard, ExchangeParticipant, Registration
from events.services.exchange_access import Seat, enter, needs_entry, public_board, seat_of
from events.services.exchange_categories import all_categories, clean_details
from events.services.exchange_contacts import ContactLine, contacts_of
from events.services.exchange_listings import BoardView, ListingService, clean_side
from events.services.exchange_matching import Filters, Scored
from events.services.exchange_reports import MyMessageReport, my_message_reports
from events.validation import parse_int

WORDS_MAX_LENGTH = 100
#: Listings shown per page (``?page=2`` shows twice as many): a phone scrolls through a
#: few dozen; an 800-listing board in one page was half a megabyte.
RESULTS_PER_PAGE = 30
MAX_PAGES = 100


@dataclass(frozen=True)
class AttendeeBoard:
    seat: Seat
    participant: ExchangeParticipant
    view: BoardView
    filters: Filters
    contacts: list[ContactLine]
    #: Filter fields that did not parse, with their codes.
    filter_errors: dict[str, str] = field(default_factory=dict)
    #: The first pages of ``view.found``, and the page that shows more (None: all shown).
    shown: list[Scored] = field(default_factory=list)
    next_page: int | None = None
    #: The messages they reported, by sender (events/services/exchange_reports.py).
    my_reports: dict[UUID, MyMessageReport] = field(default_factory=dict)


def _one(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return value.strip() if isinstance(value, str) else ""


def _registration(session: Session, seat: Seat) -> Registration:
    registration = session.get(Registration, seat.registration.id)
    if registration is None:
        raise NotFound()
    return registration


def read_filters(board: ExchangeBoard, raw: Mapping[str, Any]) -> tuple[Filters, dict[str, str]]:
    """The board's filters from the query string ``raw`` (``category``, ``side``,
    ``words``, ``new``, and the chosen category's fields as a listing form names them),
    and the codes of those that did not parse (then left out)."""
    errors: dict[str, str] = {}
    categories = {category.id: category for category in all_categories(board.categories)}
    category = categories.get(_one(raw, "category"))
    try:
        side = clean_side(_one(raw, "side"), required=False)
    except ValidationFailed as failed:
        errors.update(failed.errors)
        side = ""
    words = _one(raw, "words")[:WORDS_MAX_LENGTH]
    details: dict[str, Any] = {}
    if category is not None:
        try:
            details = clean_details(category, raw)
        except ValidationFailed as failed:
            errors.update(failed.errors)
    filters = Filters(
        category=category.id if category else "",
        side=side,
        words=words,
        only_new=_one(raw, "new") in {"1", "on", "yes"},
        details=details,
    )
    return filters, errors


def attendee_board(
    session: Session,
    seat: Seat,
    raw_filters: Mapping[str, Any],
    now: datetime,
    *,
    database: Database | None = None,
) -> AttendeeBoard:
    """Record the visit if it is a new one and read what ``seat`` sees of its board (see
    the module docstring).

    With ``database``, ``session`` only reads (a page's GET commits nothing, web/db.py):
    a visit to record (at most once per visit, exchange_access.needs_entry) is then
    written in a transaction of its own, taken in turn with the other writers, and
    ``session`` starts a fresh read that holds it. Without, ``session`` is the caller's
    write transaction and the visit goes into it."""
    if needs_entry(seat, now):
        if database is None:
            seat = enter(session, seat, now)
        else:
            with database.queued_transaction() as writing:
                enter(writing, seat_of(writing, _registration(writing, seat), now), now)
            session.rollback()
            seat = seat_of(session, _registration(session, seat), now)
    participant = seat.require_participant()
    filters, errors = read_filters(seat.board, raw_filters)
    view = ListingService(session).board(seat.board, now, viewer=seat, filters=filters)
    shown, next_page = pages_of(view.found, raw_filters)
    return AttendeeBoard(
        seat=seat,
        participant=participant,
        view=view,
        filters=filters,
        contacts=contacts_of(session, seat, now),
        filter_errors=errors,
        shown=shown,
        next_page=next_page,
        my_reports=my_message_reports(session, seat),
    )


@dataclass(frozen=True)
class VisitorBoard:
    view: BoardView
    filters: Filters
    filter_errors: dict[str, str]
    shown: list[Scored]
    next_page: int | None


def pages_of(found: Sequence[Scored], raw: Mapping[str, Any]) -> tuple[list[Scored], int | None]:
    """The listings the pages up to ``?page=`` show, and the next page's number (None
    when nothing is left). A page number that does not parse is page 1."""
    try:
        page = parse_int("page", _one(raw, "page"), minimum=1, maximum=MAX_PAGES) or 1
    except ValidationFailed:
        page = 1
    limit = page * RESULTS_PER_PAGE
    return list(found[:limit]), page + 1 if len(found) > limit and page < MAX_PAGES else None


def visitor_board(
    session: Session, event: Event, raw_filters: Mapping[str, Any], now: datetime
) -> VisitorBoard:
    """What anyone sees of ``event``'s board when it is public (``NotFound`` otherwise)."""
    board = public_board(session, event, now)
    filters, errors = read_filters(board, raw_filters)
    view = ListingService(session).board(board, now, viewer=None, filters=filters)
    shown, next_page = pages_of(view.found, raw_filters)
    return VisitorBoard(view, filters, errors, shown, next_page)
