"""Posting offers and needs, and reading a board: who sees which listing.

A listing is posted from a seat (events/services/exchange_access.py): a category still
open on the board, a side (offer or need), a short text and the category's fields. Its
author edits, pauses, resumes or deletes it; it expires with the event its author came
through (``expire_days`` after its end), or earlier if deleted.

**Who sees a listing** (:meth:`ListingService.visible`): people seated at the same board,
and everyone when the board is public, never the author's own in the list (they have
"my listings"); not once it expired or while paused; not while its author's registration
no longer gives a seat (cancelled, declined); never between two people when one blocked
the other, in either direction; never once moderation hid it, nor to someone who reported
it, nor while its author is suspended (events/services/exchange_reports.py). Nothing else reads the
listing table for a page. The rules for everyone are read once per change of the board
(:data:`_BOARDS`, under its version: events/exchange_version.py); the viewer's own
(theirs, blocks, reports) apply on each read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Select,
    bindparam,
    delete,
    false,
    func,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from events.errors import Conflict, NotFound, ValidationFailed
from events.exchange_version import BoardVersion, board_version
from events.models import (
    ExchangeBlock,
    ExchangeBoard,
    ExchangeListing,
    ExchangeParticipant,
    ExchangeReport,
    Registration,
    Side,
)
from events.plain_reads import plain_rows
from events.services.exchange_access import Seat, enter, seated_clause
from events.services.exchange_categories import (
    Category,
    all_categories,
    clean_details,
    open_categories,
)
from events.services.exchange_matching import Filters, ListingView, Ranking, Scored
from events.services.exchange_suspension import not_suspended
from events.validation import FieldErrors, clean_text, id_or_not_found

TEXT_MAX_LENGTH = 500
#: Listings one person keeps on a board at once (paused ones count).
MAX_LISTINGS_PER_PERSON = 10


@dataclass
class ListingInput:
    """What the listing form sends: strings, and the category's fields as form values."""

    category: str = ""
    side: str = ""
    text: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BoardView:
    """What one person sees of a board: the listings found, theirs, and the categories."""

    found: Sequence[Scored]
    mine: list[ListingView]
    categories: list[Category]
    total: int


def clean_side(value: str | None, *, required: bool = True) -> str:
    side = (value or "").strip()
    if not side and not required:
        return ""
    if side not in (Side.OFFER.value, Side.NEED.value):
        raise ValidationFailed({"side": "invalid_choice" if side else "required"})
    return side


def _listing_columns() -> Select[Any]:
    return (
        select(
            ExchangeListing.id,
            ExchangeListing.participant_id,
            ExchangeListing.category,
            ExchangeListing.side,
            ExchangeListing.text,
            ExchangeListing.details,
            ExchangeParticipant.display_name,
            ExchangeListing.created_at,
            ExchangeListing.updated_at,
            ExchangeListing.paused,
            ExchangeListing.expires_at,
        )
        .join(ExchangeParticipant, ExchangeParticipant.id == ExchangeListing.participant_id)
        .join(Registration, Registration.id == ExchangeParticipant.registration_id)
    )


#: Each board's listings shown to everyone (``_shown_to(None, ...)``), newest first, with
#: the board's version (events/exchange_version.py) they were read at: every attendee
#: loads the same board again and again, and a load reads the version (one small query)
#: instead of the 800 rows, which converting to views was most of a board page's time
#: (docs/performance.md). Read the version first, then the rows: a change committed in
#: between is in the rows under the older version, read again on the next load. Bounded by
#: boards and by listings held (cleared when full). Views are frozen, so sharing them
#: between requests and threads is safe.
@dataclass(frozen=True)
class _Kept:
    version: BoardVersion
    #: The listings, ranked for each reader from there (events/services/exchange_matching.py).
    ranking: Ranking
    #: When the first of them expires: the list is read again then (expiry is a rule of
    #: the SQL, ``_shown_to``, not restated here). None: none expires.
    until: datetime | None = None

    @property
    def views(self) -> tuple[ListingView, ...]:
        return self.ranking.views

    def holds(self, version: BoardVersion, now: datetime) -> bool:
        """Still the board's list at ``version`` and at ``now`` (none of it expired)."""
        return self.version == version and (self.until is None or now < self.until)


_BOARDS: dict[UUID, _Kept] = {}
BOARDS_KEPT = 256
LISTINGS_KEPT = 20_000
_HELD = [0]


def keep(board_id: UUID, version: BoardVersion, views: tuple[ListingView, ...]) -> _Kept:
    """Keep ``views`` as ``board_id``'s list at ``version``, within the bounds."""
    if len(_BOARDS) >= BOARDS_KEPT or _HELD[0] + len(views) > LISTINGS_KEPT:
        _BOARDS.clear()
        _HELD[0] = 0
    old = _BOARDS.pop(board_id, None)
    _HELD[0] += len(views) - (len(old.views) if old else 0)
    expiries = [view.expires_at for view in views if view.expires_at is not None]
    kept = _BOARDS[board_id] = _Kept(version, Ranking(views), min(expiries, default=None))
    return kept


def _view(row: Any) -> ListingView:
    return ListingView(
        id=row.id,
        participant_id=row.participant_id,
        category=row.category,
        side=row.side,
        text=row.text,
        details=row.details or {},
        display_name=row.display_name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        paused=row.paused,
        expires_at=row.expires_at,
    )


def blocked_people(viewer_id: UUID | BindParameter[Any]) -> CompoundSelect[Any]:
    """SQL: the people ``viewer_id`` blocked, and those who blocked them."""
    return (
        select(ExchangeBlock.blocked_id)
        .where(ExchangeBlock.blocker_id == viewer_id)
        .union(select(ExchangeBlock.blocker_id).where(ExchangeBlock.blocked_id == viewer_id))
    )


def reported_by(viewer_id: UUID | BindParameter[Any]) -> Select[Any]:
    """SQL: the listings ``viewer_id`` reported."""
    return select(ExchangeReport.listing_id).where(ExchangeReport.reporter_id == viewer_id)


def viewers_own_exclusions(viewer_id: UUID | BindParameter[Any]) -> CompoundSelect[UUID, bool]:
    """SQL: what :func:`blocked_people` and :func:`reported_by` read, in one statement (a
    board page reads both): rows of (id, whether it is a person rather than a listing)."""
    people = blocked_people(viewer_id).subquery()
    listings = reported_by(viewer_id).subquery()
    return union_all(select(*people.c, true()), select(*listings.c, false()))


# A board page's statements, built once with bound parameters: building one anew (and its
# cache key) cost more than running it on SQLite (docs/performance.md, seventh round).
#: :func:`viewers_own_exclusions` of the viewer ``viewer_id``.
_VIEWERS_OWN_EXCLUSIONS = viewers_own_exclusions(bindparam("viewer_id"))
#: The listings of the participant ``participant_id``, newest first.
_LISTINGS_OF = (
    _listing_columns()
    .where(ExchangeListing.participant_id == bindparam("participant_id"))
    .order_by(ExchangeListing.created_at.desc())
)


def _shown_to(viewer: Seat | None, now: datetime) -> list[ColumnElement[bool]]:
    """SQL: the listing may be shown to ``viewer`` (see the module docstring)."""
    clauses = [
        ExchangeListing.expires_at > now,
        ExchangeListing.paused.is_(False),
        ExchangeListing.hidden.is_(False),
        seated_clause(),
        not_suspended(),
    ]
    if viewer is not None and viewer.participant is not None:
        me = viewer.participant.id
        clauses += [
            ~ExchangeListing.participant_id.in_(blocked_people(me)),
            ~ExchangeListing.id.in_(reported_by(me)),
        ]
    return clauses


class ListingService:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- the author ---------------------------------------------------------------------
    def _clean(self, seat: Seat, data: ListingInput) -> tuple[Category, str, str, dict[str, Any]]:
        errors = FieldErrors()
        categories = {c.id: c for c in open_categories(seat.board.categories)}
        category = categories.get((data.category or "").strip())
        if category is None:
            errors.add(
                "category", "invalid_choice" if (data.category or "").strip() else "required"
            )
        side = errors.check(clean_side, data.side)
        text = errors.check(
            clean_text, "text", data.text, max_length=TEXT_MAX_LENGTH, multiline=True
        )
        details = errors.check(clean_details, category, data.fields) if category else {}
        errors.raise_if_any()
        assert category is not None
        return category, side, text, details

    def post(self, seat: Seat, data: ListingInput, now: datetime) -> ExchangeListing:
        """Post a listing from ``seat``; ``ValidationFailed`` for what is wrong,
        ``Conflict("too_many_listings")`` beyond :data:`MAX_LISTINGS_PER_PERSON`."""
        category, side, text, details = self._clean(seat, data)
        seat = enter(self.session, seat, now, visit=False)
        participant = seat.require_participant()
        count = self.session.scalar(
            select(func.count()).where(ExchangeListing.participant_id == participant.id)
        )
        if (count or 0) >= MAX_LISTINGS_PER_PERSON:
            raise Conflict("too_many_listings")
        listing = ExchangeListing(
            board_id=seat.board.id,
            participant_id=participant.id,
            category=category.id,
            side=side,
            text=text,
            details=details,
            expires_at=seat.closes_at,
        )
        self.session.add(listing)
        self.session.flush()
        return listing

    def own(self, seat: Seat, listing_id: UUID | str) -> ExchangeListing:
        """One of the seat's own listings (``NotFound`` for anyone else's)."""
        listing = self.session.get(ExchangeListing, id_or_not_found(listing_id))
        if (
            listing is None
            or seat.participant is None
            or listing.participant_id != seat.participant.id
        ):
            raise NotFound()
        return listing

    def edit(
        self, seat: Seat, listing_id: UUID | str, data: ListingInput, now: datetime
    ) -> ExchangeListing:
        listing = self.own(seat, listing_id)
        category, side, text, details = self._clean(seat, data)
        listing.category, listing.side, listing.text, listing.details = (
            category.id,
            side,
            text,
            details,
        )
        listing.expires_at = seat.closes_at
        self.session.flush()
        return listing

    def pause(self, seat: Seat, listing_id: UUID | str, *, paused: bool) -> ExchangeListing:
        listing = self.own(seat, listing_id)
        listing.paused = paused
        self.session.flush()
        return listing

    def delete(self, seat: Seat, listing_id: UUID | str) -> None:
        listing = self.own(seat, listing_id)
        self.session.execute(delete(ExchangeListing).where(ExchangeListing.id == listing.id))

    def mine(self, seat: Seat) -> list[ListingView]:
        """The seat's own listings (paused included), newest first."""
        if seat.participant is None:
            return []
        rows = plain_rows(self.session, _LISTINGS_OF, {"participant_id": seat.participant.id})
        return [_view(row) for row in rows]

    # -- readers ------------------------------------------------------------------------
    def visible(
        self,
        board: ExchangeBoard,
        now: datetime,
        *,
        viewer: Seat | None = None,
        category: str = "",
        side: str = "",
    ) -> list[ListingView]:
        """The listings of ``board`` that ``viewer`` (None: a visitor of a public
        board) may see, see the module docstring; narrowed to a category or a side. The
        rules for everyone come from the board's kept list (:data:`_BOARDS`), the
        viewer's own (theirs, blocked people, reported listings) apply on each read."""
        hidden_people, reported = self._exclusions(viewer)
        return [
            view
            for view in self._shown_to_everyone(board, now).ranking.kind(category, side)
            if view.participant_id not in hidden_people and view.id not in reported
        ]

    def _exclusions(self, viewer: Seat | None) -> tuple[set[UUID], set[UUID]]:
        """The people whose listings ``viewer`` does not see (themselves, whoever they
        blocked or was blocked by) and the listings they reported."""
        hidden_people: set[UUID] = set()
        reported: set[UUID] = set()
        if viewer is not None and viewer.participant is not None:
            me = viewer.participant.id
            hidden_people.add(me)
            exclusions = plain_rows(self.session, _VIEWERS_OWN_EXCLUSIONS, {"viewer_id": me})
            for found, is_person in exclusions:
                (hidden_people if is_person else reported).add(found)
        return hidden_people, reported

    def _shown_to_everyone(self, board: ExchangeBoard, now: datetime) -> _Kept:
        """The board's listings anyone may see, newest first (see :data:`_BOARDS`)."""
        board_id = board.id
        version = board_version(self.session, board)
        kept = _BOARDS.get(board_id)
        if kept is not None and kept.holds(version, now):
            return kept
        views = tuple(
            _view(row)
            for row in self.session.execute(
                _listing_columns()
                .where(ExchangeListing.board_id == board_id, *_shown_to(None, now))
                .order_by(ExchangeListing.created_at.desc(), ExchangeListing.id)
            )
        )
        return keep(board_id, version, views)

    def one_visible(
        self, board: ExchangeBoard, listing_id: UUID | str, now: datetime, *, viewer: Seat | None
    ) -> ListingView:
        """One listing ``viewer`` may see (``NotFound`` otherwise)."""
        query = _listing_columns().where(
            ExchangeListing.id == id_or_not_found(listing_id),
            ExchangeListing.board_id == board.id,
            *_shown_to(viewer, now),
        )
        row = self.session.execute(query).first()
        if row is None:
            raise NotFound()
        return _view(row)

    def board(
        self, board: ExchangeBoard, now: datetime, *, viewer: Seat | None, filters: Filters
    ) -> BoardView:
        """What ``viewer`` sees of ``board`` with ``filters``: ranked by the match score
        against their own listings (events/services/exchange_matching.py)."""
        categories = all_categories(board.categories)
        by_id = {category.id: category for category in categories}
        mine = self.mine(viewer) if viewer is not None else []
        hidden_people, reported = self._exclusions(viewer)
        seen_until = viewer.participant.seen_until if viewer and viewer.participant else None
        found, total = self._shown_to_everyone(board, now).ranking.rank(
            mine=[listing for listing in mine if not listing.paused],
            categories=by_id,
            filters=filters,
            seen_until=seen_until,
            hidden_people=hidden_people,
            hidden_listings=reported,
        )
        return BoardView(found=found, mine=mine, categories=categories, total=total)
