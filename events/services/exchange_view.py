"""What one attendee sees of their offers & needs board, in one read.

Opening the board from one's private page (``/r/{token}/offers``) records the visit (for
the "new since I last looked" marks, events/services/exchange_access.py ``enter``),
reads the filters as typed, and gathers what the page shows: the listings found (ranked,
with their one-line reasons, events/services/exchange_matching.py), the attendee's own
listings, their requests both ways, and what they share. Filters that do not parse are
reported per field and the board is shown unfiltered by them, never refused.

A visitor without a seat reads a board only when its organisers made it public
(:func:`visitor_board`): the listings, with nothing to rank them against, and no way to
write (that takes a registration).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from events.errors import ValidationFailed
from events.models import Event, ExchangeBoard, ExchangeParticipant
from events.services.exchange_access import Seat, enter, public_board
from events.services.exchange_categories import all_categories, clean_details
from events.services.exchange_contacts import ContactLine, contacts_of
from events.services.exchange_listings import BoardView, ListingService, clean_side
from events.services.exchange_matching import Filters

WORDS_MAX_LENGTH = 100


@dataclass(frozen=True)
class AttendeeBoard:
    seat: Seat
    participant: ExchangeParticipant
    view: BoardView
    filters: Filters
    contacts: list[ContactLine]
    #: Filter fields that did not parse, with their codes.
    filter_errors: dict[str, str] = field(default_factory=dict)


def _one(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return value.strip() if isinstance(value, str) else ""


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
    session: Session, seat: Seat, raw_filters: Mapping[str, Any], now: datetime
) -> AttendeeBoard:
    """Record the visit and read what ``seat`` sees of its board (module docstring)."""
    seat = enter(session, seat, now)
    participant = seat.require_participant()
    filters, errors = read_filters(seat.board, raw_filters)
    view = ListingService(session).board(seat.board, now, viewer=seat, filters=filters)
    return AttendeeBoard(
        seat=seat,
        participant=participant,
        view=view,
        filters=filters,
        contacts=contacts_of(session, seat, now),
        filter_errors=errors,
    )


@dataclass(frozen=True)
class VisitorBoard:
    view: BoardView
    filters: Filters
    filter_errors: dict[str, str]


def visitor_board(
    session: Session, event: Event, raw_filters: Mapping[str, Any], now: datetime
) -> VisitorBoard:
    """What anyone sees of ``event``'s board when it is public (``NotFound`` otherwise)."""
    board = public_board(session, event, now)
    filters, errors = read_filters(board, raw_filters)
    view = ListingService(session).board(board, now, viewer=None, filters=filters)
    return VisitorBoard(view=view, filters=filters, filter_errors=errors)
