"""The organisers' side of offers & needs: switching a board on, its categories, its
figures.

A board belongs to one event or to one series (:func:`board_for`). The organisers switch
it on (with a preset's categories, events/services/exchange_categories.py), edit its
categories, make it public or not, and say how many days listings outlive the event.
Switching it off hides it everywhere at once and keeps what people posted until it is on
again or the registrations are anonymised.

What organisers see of it are **counts** (:func:`figures`): listings per category and
side, people taking part, requests sent, matches made. Never who wrote to whom, never a
message, never whose listing matched whose: the pages have nothing else to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from events.errors import Conflict, NotFound, ValidationFailed
from events.lifecycle import exchange_closes_at
from events.models import (
    Community,
    ContactState,
    Event,
    ExchangeBoard,
    ExchangeContact,
    ExchangeListing,
    ExchangeParticipant,
    Registration,
    Series,
)
from events.services.exchange_access import seated_clause
from events.services.exchange_categories import (
    MAX_CATEGORIES,
    Category,
    CategoryInput,
    all_categories,
    clean_category,
    new_id,
    open_categories,
    preset,
)
from events.validation import parse_int

MAX_EXPIRE_DAYS = 90
DEFAULT_EXPIRE_DAYS = 14


@dataclass(frozen=True)
class BoardSettings:
    public: bool | str = False
    expire_days: int | str = DEFAULT_EXPIRE_DAYS


@dataclass(frozen=True)
class CategoryFigures:
    category: Category
    offers: int
    needs: int


@dataclass(frozen=True)
class BoardFigures:
    """Counts only (see the module docstring)."""

    categories: list[CategoryFigures]
    participants: int
    listings: int
    requests: int
    matches: int


@dataclass(frozen=True)
class BoardOverview:
    """What the organisers' page shows of an event's own board: None when never switched
    on; its figures only while it is on."""

    board: ExchangeBoard | None
    figures: BoardFigures | None


def _checked(value: bool | str | None) -> bool:
    if isinstance(value, bool):
        return value
    return (value or "").strip().lower() in {"on", "true", "1", "yes"}


def board_for(
    session: Session, *, event: Event | None = None, series: Series | None = None
) -> ExchangeBoard | None:
    """The board of ``event`` itself, or of ``series`` (switched on or not)."""
    if event is not None:
        return session.scalar(select(ExchangeBoard).where(ExchangeBoard.event_id == event.id))
    if series is not None:
        return session.scalar(select(ExchangeBoard).where(ExchangeBoard.series_id == series.id))
    return None


class ExchangeBoardService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def switch_on(
        self,
        community: Community,
        *,
        event: Event | None = None,
        series: Series | None = None,
        preset_id: str = "",
        locale: str = "en",
    ) -> ExchangeBoard:
        """Switch offers & needs on for ``event`` or ``series`` (of ``community``): a new
        board starts with the categories of the preset ``preset_id`` (or none); one
        switched off before comes back as it was."""
        if (event is None) == (series is None):
            raise ValueError("a board belongs to one event or one series")
        owner = event if event is not None else series
        assert owner is not None
        if owner.community_id != community.id:
            raise NotFound()
        board = board_for(self.session, event=event, series=series)
        if board is None:
            categories = (
                [c.to_json() for c in preset(preset_id).categories_in(locale)] if preset_id else []
            )
            board = ExchangeBoard(
                community_id=community.id,
                event_id=event.id if event else None,
                series_id=series.id if series else None,
                enabled=True,
                categories=categories,
            )
            self.session.add(board)
        else:
            board.enabled = True
        self.session.flush()
        return board

    def switch_off(self, board: ExchangeBoard) -> ExchangeBoard:
        board.enabled = False
        self.session.flush()
        return board

    def configure(self, board: ExchangeBoard, data: BoardSettings) -> ExchangeBoard:
        """Public or not, and the days listings outlive the event (0 to 90). A new number
        of days applies to every listing at once."""
        days = parse_int(
            "expire_days", data.expire_days, minimum=0, maximum=MAX_EXPIRE_DAYS, required=True
        )
        assert days is not None
        board.public = _checked(data.public)
        if days != board.expire_days:
            board.expire_days = days
            self._recompute_expiry(board)
        self.session.flush()
        return board

    def _recompute_expiry(self, board: ExchangeBoard) -> None:
        rows = self.session.execute(
            select(ExchangeListing, Event)
            .join(ExchangeParticipant, ExchangeParticipant.id == ExchangeListing.participant_id)
            .join(Registration, Registration.id == ExchangeParticipant.registration_id)
            .join(Event, Event.id == Registration.event_id)
            .where(ExchangeListing.board_id == board.id)
        )
        for listing, event in rows:
            listing.expires_at = exchange_closes_at(event, board.expire_days)

    # -- categories ---------------------------------------------------------------------
    def _store(self, board: ExchangeBoard, categories: list[Category]) -> None:
        board.categories = [category.to_json() for category in categories]
        self.session.flush()

    def apply_preset(self, board: ExchangeBoard, preset_id: str, locale: str) -> ExchangeBoard:
        """Add the preset's categories that the board does not have yet (by id)."""
        chosen = preset(preset_id)
        categories = all_categories(board.categories)
        have = {category.id for category in categories}
        added = [c for c in chosen.categories_in(locale) if c.id not in have]
        removed_again = {c.id for c in categories if c.removed} & {
            c.id for c in chosen.categories_in(locale)
        }
        categories = [
            Category(c.id, c.label, c.offer, c.need, c.fields) if c.id in removed_again else c
            for c in categories
        ]
        if len([c for c in categories if not c.removed]) + len(added) > MAX_CATEGORIES:
            raise ValidationFailed({"preset": "too_many"})
        self._store(board, categories + added)
        return board

    def add_category(self, board: ExchangeBoard, data: CategoryInput) -> Category:
        categories = all_categories(board.categories)
        if len(open_categories(board.categories)) >= MAX_CATEGORIES:
            raise Conflict("too_many_categories")
        category = clean_category(data, category_id=new_id(c.id for c in categories))
        self._store(board, [*categories, category])
        return category

    def category(self, board: ExchangeBoard, category_id: str) -> Category:
        found = next((c for c in open_categories(board.categories) if c.id == category_id), None)
        if found is None:
            raise NotFound()
        return found

    def edit_category(
        self, board: ExchangeBoard, category_id: str, data: CategoryInput
    ) -> Category:
        previous = self.category(board, category_id)
        edited = clean_category(data, category_id=category_id, previous=previous)
        self._store(
            board, [edited if c.id == category_id else c for c in all_categories(board.categories)]
        )
        return edited

    def remove_category(self, board: ExchangeBoard, category_id: str) -> None:
        """Delete a category nobody used; one with listings is only closed to new ones."""
        self.category(board, category_id)
        used = self.session.scalar(
            select(func.count()).where(
                ExchangeListing.board_id == board.id, ExchangeListing.category == category_id
            )
        )
        kept: list[Category] = []
        for category in all_categories(board.categories):
            if category.id != category_id:
                kept.append(category)
            elif used:
                kept.append(
                    Category(
                        category.id,
                        category.label,
                        category.offer,
                        category.need,
                        category.fields,
                        removed=True,
                    )
                )
        self._store(board, kept)

    # -- figures --------------------------------------------------------------------------
    def overview(self, owner: Event | Series, now: datetime) -> BoardOverview:
        """The own board of ``owner`` (an event or a series) and, while it is on, its
        figures."""
        board = self._own_board(owner)
        on = board is not None and board.enabled
        return BoardOverview(board, self.figures(board, now) if on and board else None)

    def board_of(self, owner: Event | Series) -> ExchangeBoard:
        """The own board of ``owner`` (``NotFound`` when never switched on)."""
        board = self._own_board(owner)
        if board is None:
            raise NotFound()
        return board

    def switch_on_for(
        self, community: Community, owner: Event | Series, preset_id: str, locale: str
    ) -> ExchangeBoard:
        """:meth:`switch_on` for an event or a series."""
        if isinstance(owner, Event):
            return self.switch_on(community, event=owner, preset_id=preset_id, locale=locale)
        return self.switch_on(community, series=owner, preset_id=preset_id, locale=locale)

    def _own_board(self, owner: Event | Series) -> ExchangeBoard | None:
        if isinstance(owner, Event):
            return board_for(self.session, event=owner)
        return board_for(self.session, series=owner)

    def figures(self, board: ExchangeBoard, now: datetime) -> BoardFigures:
        """Counts of what is on the board now (see the module docstring)."""
        live = (
            select(ExchangeListing.category, ExchangeListing.side, func.count())
            .join(ExchangeParticipant, ExchangeParticipant.id == ExchangeListing.participant_id)
            .join(Registration, Registration.id == ExchangeParticipant.registration_id)
            .where(
                ExchangeListing.board_id == board.id,
                ExchangeListing.expires_at > now,
                seated_clause(),
            )
            .group_by(ExchangeListing.category, ExchangeListing.side)
        )
        counts = {(category, side): int(n) for category, side, n in self.session.execute(live)}
        categories = [
            CategoryFigures(c, counts.get((c.id, "offer"), 0), counts.get((c.id, "need"), 0))
            for c in all_categories(board.categories)
            if not c.removed or counts.get((c.id, "offer")) or counts.get((c.id, "need"))
        ]
        participants = self.session.scalar(
            select(func.count()).where(ExchangeParticipant.board_id == board.id)
        )
        requests = self.session.scalar(
            select(func.count()).where(ExchangeContact.board_id == board.id)
        )
        matches = self.session.scalar(
            select(func.count()).where(
                ExchangeContact.board_id == board.id,
                ExchangeContact.state == ContactState.ACCEPTED.value,
            )
        )
        return BoardFigures(
            categories=categories,
            participants=int(participants or 0),
            listings=sum(counts.values()),
            requests=int(requests or 0),
            matches=int(matches or 0),
        )
