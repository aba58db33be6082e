"""The shared content version changes with every committed change the public pages show."""

from __future__ import annotations

import pytest

from events.content_version import current_version
from events.database import Database
from events.services.venues import VenueInput, VenueService
from tests.factories import Factories


def version(db: Database) -> str:
    with db.session() as session:
        return current_version(session)


def test_a_committed_change_makes_a_new_version(make: Factories, db: Database) -> None:
    community = make.community()
    before = version(db)
    with db.transaction() as session:
        VenueService(session).create(community, VenueInput(name="Hall"))
    after = version(db)
    assert after != before
    with db.transaction() as session:
        venue = VenueService(session).of_community(community)[0]
        venue.name = "Great hall"
    assert version(db) not in {before, after}


def test_a_rolled_back_change_or_an_unrelated_write_keeps_it(make: Factories, db: Database) -> None:
    community = make.community()
    before = version(db)
    with pytest.raises(RuntimeError), db.transaction() as session:
        VenueService(session).create(community, VenueInput(name="Hall"))
        raise RuntimeError("abandon")
    make.user()  # accounts are not shown on public pages
    assert version(db) == before
