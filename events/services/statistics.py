"""A community's figures, month by month, and the open-data table made from them.

``community_months`` computes the raw figures of the community's past events (published,
over, not mirrored from another calendar), by month of their start in the community's
time zone:

- **events**;
- **registered**: people who held a place (registrants and guests, walk-ins included);
- **came**: people let in at the door;
- **no-shows**: registered people who never came (``registered - came``: every walk-in
  came);
- **new** and **returning** people: distinct registrants (by address) coming for the
  first time to one of the community's events, or back. People are compared by a keyed
  hash of their address (``hashed_person_keys``: an HMAC with a key made for the
  computation and never stored), inside this function only: neither addresses nor hashes
  leave it, only the counts do;
- **promotions**: parties that got a place from the waitlist;
- **proposals**: proposals made to the community's calls (published at least once: a
  proposal waiting for its proposer's address counts once confirmed), by the month they
  were made;
- **matches**: pairs of people of the community's offers & needs boards who both said yes
  to a contact (accepted), by the month of the answer.

A month with proposals or matches but no past event is listed too (0 events).

``publish`` turns them into the public table, **small numbers suppressed**: a people count
below ``SMALL`` (5) is shown as "<5", and no combination of the published cells gives one
back. The published table has no totals row (a total minus the months shown would give a
hidden month away), and its only arithmetic relation is ``registered = came + no_shows``
within a month, so when any of those three is small, all three are hidden (the others as
"suppressed"): whatever values the hidden cells take, the equation leaves each of them
undetermined (tests/domain/test_statistics.py proves it against every table hypothesis
can think of). New, returning, promotions, proposals and matches stand alone (new +
returning is the number of distinct people, which is not published). The no-show rate is
shown only with its three counts. Counts of events are not about people and are never
suppressed.

The organisers' version (``community_months`` itself) keeps every number, and more.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from events.lifecycle import is_over_clause
from events.models import (
    Community,
    Event,
    EventStatus,
    ExchangeBoard,
    ExchangeContact,
    Proposal,
    Registration,
    RegistrationLog,
    RegistrationStatus,
)
from events.models.exchange import ContactState
from events.models.proposals import ProposalStatus
from events.validation import is_placeholder_email

#: People counts below this are never published.
SMALL = 5

#: Who each address is (None: unknown), as a key only this module sees.
PersonKeys = Callable[[Session, UUID, list[str]], list[str | None]]


@dataclass(frozen=True)
class MonthFigures:
    """Every figure of one month (the organisers see them all)."""

    month: date
    events: int = 0
    registered: int = 0
    came: int = 0
    walk_ins: int = 0
    new: int = 0
    returning: int = 0
    promotions: int = 0
    proposals: int = 0
    matches: int = 0

    @property
    def no_shows(self) -> int:
        return self.registered - self.came

    @property
    def no_show_rate(self) -> float | None:
        return self.no_shows / self.registered if self.registered else None


class Hidden(enum.StrEnum):
    #: The count itself is below ``SMALL``.
    SMALL = "small"
    #: Hidden so that a small count beside it cannot be worked out.
    PROTECTING = "protecting"


@dataclass(frozen=True)
class Cell:
    """A published people count: its value, or why it is hidden."""

    value: int | None
    hidden: Hidden | None = None

    @property
    def text(self) -> str:
        """As the page, the CSV and the JSON show it."""
        if self.hidden is Hidden.SMALL:
            return f"<{SMALL}"
        if self.hidden is Hidden.PROTECTING:
            return "suppressed"
        return str(self.value)

    def export(self) -> int | str:
        return self.value if self.value is not None else self.text


@dataclass(frozen=True)
class PublishedMonth:
    month: date
    events: int
    registered: Cell
    came: Cell
    no_shows: Cell
    #: Per cent, rounded; None when its counts are hidden (or nobody registered).
    no_show_rate: int | None
    new: Cell
    returning: Cell
    promotions: Cell
    proposals: Cell
    matches: Cell

    #: The people cells in column order (page, CSV, JSON).
    COLUMNS = (
        "registered",
        "came",
        "no_shows",
        "new",
        "returning",
        "promotions",
        "proposals",
        "matches",
    )

    def cells(self) -> dict[str, Cell]:
        return {name: getattr(self, name) for name in self.COLUMNS}


#: The published table's arithmetic between cells of one month: ``total = sum(parts)``.
EQUATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (("registered", ("came", "no_shows")),)


def _shown(value: int) -> Cell:
    return Cell(None, Hidden.SMALL) if value < SMALL else Cell(value)


def publish_month(figures: MonthFigures) -> PublishedMonth:
    """One month of the public table (see the module docstring for the rules)."""
    triple = (figures.registered, figures.came, figures.no_shows)
    if any(value < SMALL for value in triple):
        registered, came, no_shows = (
            Cell(None, Hidden.SMALL if value < SMALL else Hidden.PROTECTING) for value in triple
        )
        rate = None
    else:
        registered, came, no_shows = (Cell(value) for value in triple)
        rate = round(100 * figures.no_shows / figures.registered)
    return PublishedMonth(
        month=figures.month,
        events=figures.events,
        registered=registered,
        came=came,
        no_shows=no_shows,
        no_show_rate=rate,
        new=_shown(figures.new),
        returning=_shown(figures.returning),
        promotions=_shown(figures.promotions),
        proposals=_shown(figures.proposals),
        matches=_shown(figures.matches),
    )


def publish(months: Iterable[MonthFigures]) -> list[PublishedMonth]:
    return [publish_month(month) for month in months]


@dataclass
class _Month:
    events: int = 0
    registered: int = 0
    came: int = 0
    walk_ins: int = 0
    people: set[str] = field(default_factory=set)
    promotions: int = 0
    proposals: int = 0
    matches: int = 0


def hashed_person_keys() -> PersonKeys:
    """Who each registration's person is, for one computation: an HMAC-SHA256 of the
    address (lower-case) with a random key made here and never stored, so the people
    compared are hashes, equal for one address and unlinkable to it once the computation
    ends (a GET computes the page: nothing is written, not even the community's secret).
    None for an address that is gone (anonymised or erased, a walk-in without one:
    ``.invalid`` placeholders)."""
    key = secrets.token_bytes(32)

    def keys(_session: Session, _community_id: UUID, emails: list[str]) -> list[str | None]:
        return [
            None
            if is_placeholder_email(email)
            else hmac.new(key, email.lower().encode("utf-8"), hashlib.sha256).hexdigest()
            for email in emails
        ]

    return keys


def community_months(
    session: Session,
    community: Community,
    *,
    now: datetime,
    person_keys: PersonKeys | None = None,
) -> list[MonthFigures]:
    """The figures of each month with at least one past event, oldest first.

    Counts are summed by the database, event by event; only the addresses are read, one
    event at a time (15,000 registrations over 36 events: reading whole rows cost most of
    a second, nearly all of it turning ids into UUIDs)."""
    person_keys = person_keys or hashed_person_keys()
    zone = ZoneInfo(community.timezone or "UTC")
    months: dict[date, _Month] = defaultdict(_Month)
    _count_proposals_and_matches(session, community, zone, now, months)
    events = session.execute(
        select(Event.id, Event.starts_at).where(
            Event.community_id == community.id,
            Event.status == EventStatus.PUBLISHED,
            Event.external_uid.is_(None),
            is_over_clause(now),
        )
    ).all()
    month_of = {
        event_id: starts_at.astimezone(zone).date().replace(day=1) for event_id, starts_at in events
    }
    confirmed = (
        Registration.event_id.in_(list(month_of)),
        Registration.status == RegistrationStatus.CONFIRMED,
    )
    people = 1 + Registration.guests
    counted = session.execute(
        select(
            Registration.event_id,
            func.sum(people),
            # arrived <= 1 + guests always holds (the door's conditional update, and no
            # party changes once someone of it came in: events/lifecycle.py).
            func.sum(Registration.arrived),
            func.coalesce(func.sum(Registration.arrived).filter(Registration.walk_in), 0),
        )
        .where(*confirmed)
        .group_by(Registration.event_id)
    )
    for event_id, registered, came, walk_ins in counted:
        month = months[month_of[event_id]]
        month.registered += int(registered or 0)
        month.came += int(came or 0)
        month.walk_ins += int(walk_ins or 0)
    for event_id, month_start in month_of.items():
        month = months[month_start]
        month.events += 1
        emails = list(
            session.scalars(
                select(Registration.email).where(
                    Registration.event_id == event_id,
                    Registration.status == RegistrationStatus.CONFIRMED,
                )
            )
        )
        month.people.update(key for key in person_keys(session, community.id, emails) if key)
    for event_id, promoted in session.execute(
        select(RegistrationLog.event_id, func.count())
        .where(
            RegistrationLog.event_id.in_(list(month_of)),
            RegistrationLog.action == "promoted",
        )
        .group_by(RegistrationLog.event_id)
    ):
        months[month_of[event_id]].promotions += int(promoted)
    seen: set[str] = set()
    figures = []
    for month_start in sorted(months):
        found = months[month_start]
        new = found.people - seen
        seen |= found.people
        figures.append(
            MonthFigures(
                month=month_start,
                events=found.events,
                registered=found.registered,
                came=found.came,
                walk_ins=found.walk_ins,
                new=len(new),
                returning=len(found.people) - len(new),
                promotions=found.promotions,
                proposals=found.proposals,
                matches=found.matches,
            )
        )
    return figures


def _count_proposals_and_matches(
    session: Session,
    community: Community,
    zone: ZoneInfo,
    now: datetime,
    months: dict[date, _Month],
) -> None:
    """Proposals (ever published) by the month they were made, and matches of the offers &
    needs boards by the month of the yes, into ``months``."""
    for (made,) in session.execute(
        select(Proposal.created_at).where(
            Proposal.community_id == community.id,
            Proposal.status != ProposalStatus.SUBMITTED.value,
            Proposal.created_at <= now,
        )
    ):
        months[made.astimezone(zone).date().replace(day=1)].proposals += 1
    for (answered,) in session.execute(
        select(ExchangeContact.answered_at)
        .join(ExchangeBoard, ExchangeBoard.id == ExchangeContact.board_id)
        .where(
            ExchangeBoard.community_id == community.id,
            ExchangeContact.state == ContactState.ACCEPTED.value,
            ExchangeContact.answered_at.is_not(None),
            ExchangeContact.answered_at <= now,
        )
    ):
        if answered is not None:  # the query leaves none out; for the type checker
            months[answered.astimezone(zone).date().replace(day=1)].matches += 1


def open_data(published: list[PublishedMonth], **about: Any) -> dict[str, Any]:
    """The JSON document of the public table (``about``: community, licence...)."""
    return {
        **about,
        "small_numbers": f"people counts below {SMALL} are shown as '<{SMALL}'; "
        "'suppressed' cells are hidden so that such a count cannot be worked out",
        "months": [
            {
                "month": month.month.strftime("%Y-%m"),
                "events": month.events,
                **{name: cell.export() for name, cell in month.cells().items()},
                "no_show_rate_percent": month.no_show_rate,
            }
            for month in published
        ],
    }
