"""The board's ranking (events/services/exchange_matching.py ``Ranking``) against the rule
read plainly: the listings passing the filters, best score first (the best agreement with
one of the reader's own listings of the same category on the other side), then the new
ones, then the newest; without the reader's hidden people and listings. The ranking works
most of this out once per list, filter and own listing: these tests compare it, on random
boards, with the rule computed from scratch for each reader."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

import events.services.exchange_matching as matching
from events.services.exchange_categories import FLAT_SHARE, Category
from events.services.exchange_matching import (
    Filters,
    ListingView,
    Ranking,
    Scored,
    agreements,
    passes,
)

CATEGORIES = {category.id: category for category in FLAT_SHARE.categories_in("en")}
T0 = datetime(2030, 9, 1, 19, tzinfo=UTC)
AREAS = ["Belleville", "Montreuil", "canal Saint-Martin", "Bastille", "Nation"]
LANGUAGES = ["French", "English", "Spanish", "German"]


def random_listing(rng: random.Random, authors: list[UUID], minute: int) -> ListingView:
    category = rng.choice(["room", "room", "room", "help"])
    if category == "room":
        low = rng.randrange(300, 900, 50)
        details = {
            "area": {"text": rng.choice(AREAS), "postcode": rng.choice(["", "75011", "75"])},
            "budget": {"min": low, "max": low + rng.choice([0, 100, 300])},
            "languages": rng.sample(LANGUAGES, rng.randint(0, 2)),
        }
    else:
        details = {"what": rng.sample(["Moving", "Furniture", "Guarantor advice"], 1)}
    at = T0 + timedelta(minutes=minute)
    return ListingView(
        id=uuid4(),
        participant_id=rng.choice(authors),
        category=category,
        side=rng.choice(["offer", "need"]),
        text=f"listing {minute} {rng.choice(AREAS)}",
        details=details,
        display_name="Someone",
        created_at=at,
        updated_at=at,
    )


def plain_rank(
    views: list[ListingView],
    *,
    mine: list[ListingView],
    filters: Filters,
    seen_until: datetime | None,
    hidden_people: set[UUID],
    hidden_listings: set[UUID],
) -> list[Scored]:
    """The rule, computed from scratch (no memo, no positions)."""
    category: Category | None = CATEGORIES.get(filters.category)
    ranked: list[Scored] = []
    for view in views:
        if view.participant_id in hidden_people or view.id in hidden_listings:
            continue
        if not passes(view, filters, category):
            continue
        new = seen_until is not None and view.created_at > seen_until
        if filters.only_new and not new:
            continue
        best: tuple[int, tuple[matching.Reason, ...]] = (0, ())
        for own in mine:
            if own.category != view.category or own.side == view.side:
                continue
            reasons = tuple(agreements(CATEGORIES[view.category], own.details, view.details))
            points = sum(reason.points for reason in reasons)
            if points > best[0]:
                best = (points, reasons)
        ranked.append(Scored(view, best[0], best[1], new))
    ranked.sort(key=lambda s: (-s.score, not s.new, -s.listing.created_at.timestamp()))
    return ranked


FILTERS = [
    Filters(),
    Filters(category="room"),
    Filters(category="room", side="offer"),
    Filters(category="room", side="offer", details={"budget": {"min": None, "max": 600}}),
    Filters(side="need", only_new=True),
    Filters(words="belleville"),
    Filters(category="help", side="need"),
]


@pytest.mark.parametrize("seed", range(8))
def test_the_ranking_is_the_rule_for_every_reader_and_filter(seed: int) -> None:
    rng = random.Random(seed)
    authors = [uuid4() for _ in range(25)]
    # Several listings posted in the same minute: ties are broken by the list's order.
    views = [random_listing(rng, authors, minute // 2) for minute in range(160)]
    views.sort(key=lambda view: view.created_at, reverse=True)
    ranking = Ranking(views)
    scores: list[int] = []
    for reader in authors[:10]:
        mine = [view for view in views if view.participant_id == reader]
        blocked = set(rng.sample(authors, 2))
        reported = {view.id for view in rng.sample(views, 5)}
        seen_until = T0 + timedelta(minutes=rng.randrange(80))
        for filters in FILTERS:
            for _twice in range(2):  # the second time from the memos
                found, total = ranking.rank(
                    mine=mine,
                    categories=CATEGORIES,
                    filters=filters,
                    seen_until=seen_until,
                    hidden_people={reader, *blocked},
                    hidden_listings=reported,
                )
                expected = plain_rank(
                    views,
                    mine=mine,
                    filters=filters,
                    seen_until=seen_until,
                    hidden_people={reader, *blocked},
                    hidden_listings=reported,
                )
                assert list(found) == expected
                scores += [scored.score for scored in found]
                assert total == sum(
                    1
                    for view in views
                    if (not filters.category or view.category == filters.category)
                    and (not filters.side or view.side == filters.side)
                    and view.participant_id not in {reader, *blocked}
                    and view.id not in reported
                )
    assert any(scores) and not all(scores)  # the boards hold matches and others


def room(side: str, area: str, name: str) -> ListingView:
    return ListingView(
        id=uuid4(),
        participant_id=uuid4(),
        category="room",
        side=side,
        text=f"A room, {area}",
        details={"area": {"text": area, "postcode": ""}},
        display_name=name,
        created_at=T0,
        updated_at=T0,
    )


def test_an_edited_own_listing_is_scored_again() -> None:
    offer, need = room("offer", "Belleville", "Ada"), room("need", "Nation", "Bob")
    ranking = Ranking([offer])

    def score(own: ListingView) -> int:
        found, _total = ranking.rank(
            mine=[own], categories=CATEGORIES, filters=Filters(), seen_until=None
        )
        return found[0].score

    assert score(need) == 0
    # Negative control: the memo is keyed by the listing's version (a saved edit always
    # moves ``updated_at``), so the same version with other details keeps its score...
    edited = replace(need, details={"area": {"text": "Belleville", "postcode": ""}})
    assert score(edited) == 0
    # ...and the version the edit saves is scored again.
    assert score(replace(edited, updated_at=T0 + timedelta(minutes=1))) == 1


def test_the_ranking_memos_are_cleared_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matching, "_PASSING", {})
    monkeypatch.setattr(matching, "_AGREEING", {})
    monkeypatch.setattr(matching, "_MEMO_HELD", [0])
    monkeypatch.setattr(matching, "MEMO_KEPT", 100)
    rng = random.Random(1)
    authors = [uuid4() for _ in range(5)]
    ranking = Ranking([random_listing(rng, authors, minute) for minute in range(60)])
    for words in ("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"):
        ranking.rank(mine=[], categories=CATEGORIES, filters=Filters(words=words), seen_until=None)
        assert matching._MEMO_HELD[0] <= 100
        held = sum(len(found) + 1 for found in matching._PASSING.values())
        assert held == matching._MEMO_HELD[0]
