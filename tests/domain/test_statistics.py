"""Community statistics (events/services/statistics.py): the figures from real data, and
the public table's small-number suppression, attacked by brute force on every table
hypothesis generates."""

from __future__ import annotations

import itertools
import json
import re
from datetime import date, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from events.clock import utcnow
from events.database import Database
from events.models import Community, Event, Registration
from events.services.privacy import anonymise_past_registrations
from events.services.registrations import RegistrationService
from events.services.statistics import (
    EQUATIONS,
    SMALL,
    Hidden,
    MonthFigures,
    PublishedMonth,
    community_months,
    hashed_person_keys,
    open_data,
    publish,
)
from tests.domain.test_door import door, scan, walk_in_of
from tests.domain.test_exchange import (
    _listing_of,
    ask,
    attendee,
    before,
    flat_share_board,
    post,
    reply,
)
from tests.domain.test_registrations import open_event, person, register
from tests.factories import Factories
from tests.proposal_scenario import open_call, propose, proven

# -- the public table cannot give a small number back ------------------------------------
PEOPLE = st.integers(min_value=0, max_value=40)


@st.composite
def months(draw: st.DrawFn) -> MonthFigures:
    registered = draw(PEOPLE)
    came = draw(st.integers(min_value=0, max_value=registered))
    return MonthFigures(
        month=date(2026, draw(st.integers(1, 12)), 1),
        events=draw(st.integers(1, 4)),
        registered=registered,
        came=came,
        new=draw(PEOPLE),
        returning=draw(PEOPLE),
        promotions=draw(PEOPLE),
        proposals=draw(PEOPLE),
        matches=draw(PEOPLE),
    )


def raw_cells(figures: MonthFigures) -> dict[str, int]:
    return {
        "registered": figures.registered,
        "came": figures.came,
        "no_shows": figures.no_shows,
        "new": figures.new,
        "returning": figures.returning,
        "promotions": figures.promotions,
        "proposals": figures.proposals,
        "matches": figures.matches,
    }


def candidates(published: PublishedMonth, name: str, ceiling: int) -> range | list[int]:
    """What a reader of the table knows of one cell: its value, 0..4 ("<5"), or at least
    5 (suppressed)."""
    cell = published.cells()[name]
    if cell.hidden is None:
        return [cell.value]  # type: ignore[list-item]
    if cell.hidden is Hidden.SMALL:
        return range(SMALL)
    return range(SMALL, ceiling)


def possible_values(published: PublishedMonth, ceiling: int) -> dict[str, set[int]]:
    """Every value each cell can take, given the published cells, what "<5" and
    "suppressed" mean, and every equation the table holds: a brute-force attacker. A cell
    in no equation can be anything its own text allows; the cells of the equations are
    enumerated together."""
    names = list(published.cells())
    bound = {name for total, parts in EQUATIONS for name in (total, *parts)}
    found: dict[str, set[int]] = {
        name: set(candidates(published, name, ceiling)) for name in names if name not in bound
    }
    linked = [name for name in names if name in bound]
    options = [candidates(published, name, ceiling) for name in linked]
    found.update({name: set() for name in linked})
    for values in itertools.product(*options):
        assignment = dict(zip(linked, values, strict=True))
        if all(
            assignment[total] == sum(assignment[part] for part in parts)
            for total, parts in EQUATIONS
        ):
            for name, value in assignment.items():
                found[name].add(value)
    return found


@settings(max_examples=300, deadline=None)
@given(st.lists(months(), min_size=1, max_size=6))
def test_no_published_table_gives_a_small_number_back(table: list[MonthFigures]) -> None:
    published = publish(table)
    for figures, shown in zip(table, published, strict=True):
        raw = raw_cells(figures)
        ceiling = max(raw.values()) + SMALL + 1
        possible = possible_values(shown, ceiling)
        for name, value in raw.items():
            cell = shown.cells()[name]
            assert value in possible[name]  # the attacker's model is right
            if value < SMALL:
                # Never shown, and never determined by subtraction or any combination.
                assert cell.value is None and cell.text == "<5"
                assert len(possible[name]) > 1, (name, figures, shown)
            elif cell.hidden is None:
                assert cell.value == value
        rate = shown.no_show_rate
        assert rate is None or all(c.hidden is None for c in (shown.registered, shown.came))
    # The open data document says no more than the table.
    document = json.dumps(open_data(published), default=str)
    for figures, shown in zip(table, published, strict=True):
        for name in raw_cells(figures):
            if shown.cells()[name].hidden is not None:
                month = json.loads(document)["months"][published.index(shown)]
                assert month[name] in ("<5", "suppressed")


def test_a_month_with_few_no_shows_hides_its_three_counts() -> None:
    [month] = publish([MonthFigures(date(2026, 3, 1), events=1, registered=40, came=37)])
    assert month.no_shows.text == "<5"
    # Shown, registered and came would give the 3 no-shows back: both are suppressed.
    assert (month.registered.text, month.came.text) == ("suppressed", "suppressed")
    assert month.no_show_rate is None and month.events == 1
    [big] = publish([MonthFigures(date(2026, 4, 1), events=2, registered=40, came=30, new=12)])
    assert (big.registered.value, big.came.value, big.no_shows.value) == (40, 30, 10)
    assert big.no_show_rate == 25 and big.new.value == 12 and big.promotions.text == "<5"


# -- the figures, from real registrations -------------------------------------------------
def past(db: Database, event: Event, months_ago: int) -> None:
    """Move ``event`` to the same day ``months_ago`` months back (it ended 2 hours later)."""
    starts = utcnow().replace(day=10, hour=17, minute=0, second=0, microsecond=0)
    year, month = starts.year, starts.month - months_ago
    while month < 1:
        year, month = year - 1, month + 12
    starts = starts.replace(year=year, month=month)
    with db.transaction() as session:
        session.execute(
            update(Event)
            .where(Event.id == event.id)
            .values(starts_at=starts, ends_at=starts + timedelta(hours=2))
        )


def check_in(db: Database, event: Event, registration: Registration, n: int) -> None:
    scan(db, event, registration.ticket_code, people=n)


def figures(db: Database, event: Event) -> list[MonthFigures]:
    with db.session() as session:
        community = session.get(Event, event.id).community  # type: ignore[union-attr]
        return community_months(session, community, now=utcnow())


def test_the_monthly_figures(db: Database, make: Factories) -> None:
    first = open_event(db, make, capacity="2", guest_allowance=2)
    with db.session() as session:
        community_id = session.get(Event, first.id).community_id  # type: ignore[union-attr]
    second = open_event(db, make)
    with db.transaction() as session:
        session.get(Event, second.id).community_id = community_id  # type: ignore[union-attr]
    # Month 1: Ada with a guest (both came), Bo waitlisted then promoted (did not come).
    ada = register(db, first, person("ada", guests="1")).registration
    bo = register(db, first, person("bo")).registration
    with db.transaction() as session:
        RegistrationService(session).set_capacity(session.get(Event, first.id), "3")
    check_in(db, first, ada, 2)
    # Month 2: Ada again (came), Cy new (no-show), a walk-in without an address.
    ada_again = register(db, second, person("ada")).registration
    register(db, second, person("cy"))
    check_in(db, second, ada_again, 1)
    door(db, second, "walk_in", walk_in_of("Dee"))
    past(db, first, 2)
    past(db, second, 1)
    month1, month2 = figures(db, first)
    assert (month1.events, month1.registered, month1.came, month1.no_shows) == (1, 3, 2, 1)
    assert (month1.new, month1.returning, month1.promotions) == (2, 0, 1)
    assert bo.id is not None
    assert (month2.registered, month2.came, month2.walk_ins) == (3, 2, 1)
    assert (month2.new, month2.returning) == (1, 1)  # Cy is new, Ada returns
    assert month1.month < month2.month
    # Cancelled, draft and upcoming events count for nothing.
    upcoming = open_event(db, make)
    with db.transaction() as session:
        session.get(Event, upcoming.id).community_id = community_id  # type: ignore[union-attr]
    register(db, upcoming, person("zed"))
    assert len(figures(db, first)) == 2


def test_anonymised_months_keep_their_counts(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    registration = register(db, event, person(1)).registration
    check_in(db, event, registration, 1)
    past(db, event, 6)
    before = figures(db, event)
    with db.transaction() as session:
        anonymise_past_registrations(session, now=utcnow(), after_days=90)
    after = figures(db, event)
    assert [(m.registered, m.came) for m in after] == [(m.registered, m.came) for m in before]


def test_proposals_and_matches_by_month(db: Database, make: Factories) -> None:
    """Proposals count once published (one still waiting for its proposer's address does
    not), matches once both said yes (a decline does not), each in its own month; a month
    with neither a past event nor a person in it is not listed."""
    event = flat_share_board(db, make)
    with db.session() as session:
        community = session.get(Event, event.id).community  # type: ignore[union-attr]
        session.expunge(community)
    ada, bob, cy = (attendee(db, event, name) for name in ("ada", "bob", "cy"))
    now = before(event)
    post(db, ada, now, text="Room in Belleville", f_area="Belleville")
    listing = _listing_of(db, ada)
    reply(db, ada, ask(db, bob, listing, now), now, accept=True)
    reply(db, ada, ask(db, cy, listing, now), now, accept=False)
    call = open_call(db, make, community=community)
    propose(db, call, 1, person=proven(db, community.id, "talker@example.org"))
    propose(db, call, 2)  # waiting for its address: not counted
    later = event.ends_at + timedelta(days=1)
    with db.session() as session:
        months = community_months(session, session.get(Community, community.id), now=later)
    assert sum(m.proposals for m in months) == 1 and sum(m.matches for m in months) == 1
    [matched] = [m for m in months if m.matches]
    assert matched.month == now.astimezone(ZoneInfo(community.timezone or "UTC")).date().replace(
        day=1
    )
    published = publish(months)
    assert all(m.proposals.text in ("<5", "0") for m in published)
    # The open data never carries an address nor a person's key.
    document = json.dumps(open_data(published), default=str)
    assert "@" not in document and not re.search(r"[0-9a-f]{32}", document)


def test_people_are_compared_by_a_keyed_hash(db: Database) -> None:
    """New and returning people come from HMACs of the addresses with a key made for one
    computation: the same address in any case is one person, the hash reveals nothing of
    the address, and another computation gives other hashes."""
    with db.session() as session:
        keys = hashed_person_keys()(
            session, uuid4(), ["Ada@Example.org", "ada@example.org", "x@anonymised.invalid"]
        )
        assert keys[0] == keys[1] and keys[2] is None
        # A hex digest (which may hold "ada" by chance), not the address.
        assert keys[0] is not None and re.fullmatch(r"[0-9a-f]+", keys[0])
        assert hashed_person_keys()(session, uuid4(), ["ada@example.org"])[0] != keys[0]
