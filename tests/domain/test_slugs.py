"""Slugs found for many rows at once (events/services/slugs.py): free, different from
each other, in a few queries whatever their number."""

from __future__ import annotations

import pytest

from events.database import Database
from events.models import Community
from events.services.slugs import available_slug, available_slugs
from tests.factories import Factories
from tests.sql_statements import counting_statements


def slugs_of(db: Database, wanted: list[str]) -> tuple[list[str], int]:
    with counting_statements(db) as statements, db.session() as session:
        found = available_slugs(session, Community.slug, wanted, fallback="community")
    return found, len(statements)


def test_free_slugs_are_kept_and_clashes_numbered(db: Database, make: Factories) -> None:
    for slug in ("jazz", "jazz-2", "jazz-4", "jazzy-2"):
        make.community(slug=slug)
    found, _ = slugs_of(db, ["Jazz", "Folk", "folk", "Jazzy", "new", "", "Jazz"])
    assert found == ["jazz-3", "folk", "folk-2", "jazzy", "new-2", "community", "jazz-5"]
    with db.session() as session:
        assert available_slug(session, Community.slug, "Jazz", fallback="x") == "jazz-3"


@pytest.mark.parametrize("clashing", [3, 150], ids=["few-clashes", "many-clashes"])
def test_many_slugs_take_a_few_queries(db: Database, make: Factories, clashing: int) -> None:
    for n in range(clashing):
        make.community(slug=f"evening-{n}")
        make.community(slug=f"evening-{n}-2")
    wanted = [f"Evening {n}" for n in range(1200)]
    found, statements = slugs_of(db, wanted)
    assert len(set(found)) == len(found) == 1200
    assert found[:2] == ["evening-0-3", "evening-1-3"]
    assert found[clashing] == f"evening-{clashing}"
    # 3 exact lookups of 500, then one query for the clashes: never one per slug.
    assert statements <= 3 + 1 + 1  # (+ SQLite's BEGIN)
