"""Webhooks of the shared spaces: proposals (published, status changed) and open-space
boards (topic posted, topic placed), queued in the transaction of the change, with ids and
statuses only (no titles, names or addresses), delivered to a real local HTTP server and
checked by the independent ``standardwebhooks`` package."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from standardwebhooks import Webhook

from events.clock import utcnow
from events.database import Database
from events.demo_open_space import TOPICS, seed_open_space
from events.jobs.webhooks import deliver_due_webhooks
from events.models import Community, Proposal, ProposalStatus, WebhookDelivery
from events.services.proposals import ProposalService
from events.services.webhooks import WebhookService
from tests.domain.test_webhooks import LOCAL, Receiver, receiver  # noqa: F401 - the fixture
from tests.factories import Factories
from tests.proposal_scenario import open_call, published


def subscribe(db: Database, community: Community, url: str, types: list[str]) -> str:
    with db.transaction() as session:
        here = session.get(Community, community.id)
        assert here is not None
        return (
            WebhookService(session).add(here, url=url, event_types=types, allow_private=True).secret
        )


def queued(db: Database) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    with db.session() as session:
        rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at))
        return [(row.event_type, json.loads(row.body)["data"]) for row in rows]


def test_proposal_changes_are_sent_with_ids_and_statuses_only(
    db: Database,
    make: Factories,
    receiver: Receiver,  # noqa: F811
) -> None:
    community = make.community()
    secret = subscribe(
        db, community, receiver.url, ["proposal.published", "proposal.status_changed"]
    )
    call = open_call(db, make, community)
    proposal = published(db, call, 1, title="A secret garden", email="ana@example.org")
    with db.transaction() as session:
        service = ProposalService(session)
        stored = session.get(Proposal, proposal.id)
        assert stored is not None
        # A drafted answer is private: nothing is sent until it is published.
        service.answer(stored, "accepted", publish=False)
        assert [t for t, _ in queued_in(session)] == ["proposal.published"]
        service.answer(stored, "under_discussion", publish=True)
    sent = queued(db)
    assert [event_type for event_type, _ in sent] == [
        "proposal.published",
        "proposal.status_changed",
    ]
    assert sent[0][1] == {
        "call_id": str(call.id),
        "proposal_id": str(proposal.id),
        "number": proposal.number,
        "kind": "topic",
        "from_status": ProposalStatus.SUBMITTED.value,
        "to_status": ProposalStatus.PUBLISHED.value,
    }
    assert (sent[1][1]["from_status"], sent[1][1]["to_status"]) == (
        "published",
        "under_discussion",
    )
    assert deliver_due_webhooks(db, now=utcnow(), policy=LOCAL) == 2
    verifier = Webhook(secret)
    for headers, body in receiver.received:
        verifier.verify(body, headers)
        assert b"secret garden" not in body and b"ana@" not in body


def queued_in(session: object) -> list[tuple[str, str]]:
    rows = session.scalars(select(WebhookDelivery))  # type: ignore[attr-defined]
    return [(row.event_type, row.body) for row in rows]


def test_board_topics_posted_and_placed_are_sent(
    db: Database,
    make: Factories,
    receiver: Receiver,  # noqa: F811
) -> None:
    community = make.community()
    # Subscribed to topics placed only: posting sends nothing to this endpoint.
    placed_only = subscribe(db, community, receiver.url, ["board.topic_placed"])
    subscribe(db, community, receiver.url, ["board.topic_posted"])
    with db.transaction() as session:
        here = session.get(Community, community.id)
        assert here is not None
        demo = seed_open_space(session, here, day=date(2030, 5, 16), participants=12)
    sent = queued(db)
    posted = [data for event_type, data in sent if event_type == "board.topic_posted"]
    placed = [data for event_type, data in sent if event_type == "board.topic_placed"]
    assert len(posted) == len(TOPICS) and len(placed) == 4
    assert {data["topic_id"] for data in posted} == {str(t) for t in demo.topic_ids}
    assert all(data["event_id"] == str(demo.event.id) for data in posted + placed)
    assert {"room_id", "slot_id", "starts_at"} <= set(placed[0])
    assert all(set(data) == {"event_id", "topic_id", "kind"} for data in posted)
    assert deliver_due_webhooks(db, now=utcnow(), policy=LOCAL) == len(TOPICS) + 4
    verifier = Webhook(placed_only)
    checked = 0
    for headers, body in receiver.received:
        if json.loads(body)["type"] == "board.topic_placed":
            verifier.verify(body, headers)
            checked += 1
    assert checked == 4
