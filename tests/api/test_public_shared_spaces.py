"""The public API's proposals, boards and statistics: what the public pages show, nothing
more (no proposer names, support counts only where the call makes them public, no hidden
topics or notes, small numbers suppressed), cached with an ETag like the rest."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from events.clock import utcnow
from events.content_version import mark_content_changed
from events.database import Database
from events.demo import seed_demo
from events.demo_open_space import seed_open_space
from events.models import (
    Board,
    BoardTopic,
    Community,
    Proposal,
    ProposalCall,
    ProposalPerson,
    ProposalStatus,
)
from tests.factories import Factories
from tests.web.conftest import Client
from tests.web.test_statistics import one_past_month
from web import open_data


def test_statistics_are_the_open_data_table(
    client: Client, make: Factories, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The document says when it was generated, to the minute, so its tag changes with the
    # minute: pinned here, or two requests on either side of a minute's turn differ (this
    # test failed that way once in CI).
    pinned = utcnow()
    monkeypatch.setattr(open_data, "utcnow", lambda: pinned)
    make.community(slug="coloc")
    one_past_month(db)
    answer = client.get("/api/v1/communities/coloc/statistics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == "*"
    body = answer.json()
    [month] = body["months"]
    # 12 registered, 9 came, 3 no-shows: the small count and what would reveal it hidden.
    assert (month["events"], month["registered"], month["came"], month["no_shows"]) == (
        1,
        "suppressed",
        "suppressed",
        "<5",
    )
    assert month["no_show_rate_percent"] is None
    assert body["licence"]["name"] == "ODbL-1.0"
    # The same table as the page's open data.
    assert body["months"] == client.get("/g/coloc/stats.json").json()["months"]
    again = client.get(
        "/api/v1/communities/coloc/statistics", headers={"If-None-Match": answer.headers["etag"]}
    )
    assert again.status_code == 304
    missing = client.get("/api/v1/communities/nobody/statistics")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def _demo(db: Database) -> tuple[str, ProposalCall]:
    with db.transaction() as session:
        assert seed_demo(session, today=date.today(), password="demo-password-1").created
        call = session.scalars(select(ProposalCall)).one()
        return call.community.slug, call


def test_calls_and_their_visible_proposals_without_names(client: Client, db: Database) -> None:
    community, call = _demo(db)
    with db.session() as session:
        every = {p.number: p.status for p in session.scalars(select(Proposal))}
        names = [p.name for p in session.scalars(select(ProposalPerson)) if p.name]
        emails = [p.email for p in session.scalars(select(ProposalPerson))]
    calls = client.get(f"/api/v1/communities/{community}/calls")
    assert calls.status_code == 200, calls.text
    [listed] = calls.json()
    assert listed["slug"] == call.slug and listed["url"].endswith(f"/proposals/{call.slug}")
    answer = client.get(f"/api/v1/communities/{community}/calls/{call.slug}/proposals")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    shown = {p["number"]: p["status"] for p in body["data"]}
    visible = {n: s for n, s in every.items() if s != ProposalStatus.SUBMITTED}
    assert shown == visible and len(shown) >= 4
    assert [p["number"] for p in body["data"]] == sorted(shown)
    assert all(isinstance(p["supports"], int) for p in body["data"]) == call.public_counts
    for private in [*names, *emails]:
        assert private and private not in answer.text
    # A filter, and a call that keeps its counts private.
    accepted = client.get(
        f"/api/v1/communities/{community}/calls/{call.slug}/proposals?status=accepted"
    ).json()["data"]
    assert accepted and {p["status"] for p in accepted} == {"accepted"}
    with db.transaction() as session:
        session.execute(
            update(ProposalCall)
            .where(ProposalCall.id == call.id)
            .values(public_counts=not call.public_counts)
        )
        session.execute(update(Proposal).values(status=ProposalStatus.SUBMITTED))
        mark_content_changed(session)
    hidden = client.get(f"/api/v1/communities/{community}/calls/{call.slug}/proposals").json()
    assert hidden["data"] == [] and hidden["call"]["public_counts"] is not call.public_counts
    wrong = client.get(f"/api/v1/communities/coloc/calls/{call.slug}/proposals")
    assert wrong.status_code == 404


def test_the_board_shows_visible_topics_and_follows_its_version(
    client: Client, make: Factories, db: Database
) -> None:
    community = make.community(slug="coloc")
    with db.transaction() as session:
        stored = session.get(Community, community.id)
        assert stored is not None
        demo = seed_open_space(session, stored, day=date(2030, 5, 16), participants=12)
        event, board_id = demo.event.slug, demo.board.id
        session.execute(
            update(BoardTopic)
            .where(BoardTopic.id == demo.topic_ids[-1])
            .values(hidden=True, notes="private notes of the room")
        )
        hidden_title = session.get(BoardTopic, demo.topic_ids[-1]).title  # type: ignore[union-attr]
    answer = client.get(f"/api/v1/events/{event}/board")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["event"] == event and body["timezone"]
    assert len(body["topics"]) == len(demo.topic_ids) - 1
    assert hidden_title not in answer.text and "private notes" not in answer.text
    assert all("notes" not in t and "reports" not in t for t in body["topics"])
    rooms = {r["id"] for r in body["rooms"]}
    slots = {s["id"] for s in body["slots"]}
    placed = [t for t in body["topics"] if t["room_id"]]
    assert placed and all(t["room_id"] in rooms and t["slot_id"] in slots for t in placed)
    assert body["slots"][0]["starts_at"].endswith(("+01:00", "+02:00"))
    # A change of the board (its version) is a new answer within the minute.
    etag = answer.headers["etag"]
    with db.transaction() as session:
        session.execute(
            update(BoardTopic).where(BoardTopic.id == demo.topic_ids[-1]).values(hidden=False)
        )
        session.execute(update(Board).where(Board.id == board_id).values(version=Board.version + 1))
    fresh = client.get(f"/api/v1/events/{event}/board", headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and hidden_title in fresh.text
    # A board turned off is not found.
    with db.transaction() as session:
        session.execute(update(Board).where(Board.id == board_id).values(enabled=False))
    assert client.get(f"/api/v1/events/{event}/board").status_code == 404
    assert client.get("/api/v1/events/no-such-event/board").status_code == 404
