"""Signed webhooks: queued in the transaction of the change (nothing for a rolled-back
one), signed as Standard Webhooks (checked by the independent ``standardwebhooks``
package), delivered to a real local HTTP server with retries on failure, refused for
private addresses, and an endpoint failing for a day is disabled and its organisers mailed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from events.clock import utcnow
from events.database import Database
from events.fetch import FetchPolicy
from events.jobs.webhooks import RETRY_DELAYS, deliver_due_webhooks
from events.models import (
    DeliveryStatus,
    Event,
    OutboxMessage,
    WebhookDelivery,
    WebhookEndpoint,
)
from events.services.communities import CommunityService
from events.services.events import EventInput, EventService
from events.services.registrations import RegistrationInput, RegistrationService
from events.services.webhooks import WebhookService
from events.webhook_queue import queue_webhook
from events.webhook_signing import signature
from tests.factories import Factories
from tests.sql_statements import counting_statements

LOCAL = FetchPolicy(allow_private=True, total_timeout=5.0)
EVENT = {
    "title": "Pitch night",
    "starts_local": "2030-03-07T19:00",
    "ends_local": "2030-03-07T22:00",
    "timezone": "Europe/Paris",
    "capacity": "1",
}


@dataclass
class Receiver:
    """A real HTTP server on loopback answering each POST with the next planned status."""

    url: str
    plan: list[int]
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="", plan=[])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status = state.plan.pop(0) if state.plan else 200
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def setup(db: Database, make: Factories, url: str, types: list[str]) -> tuple[Event, str]:
    make.community(slug="coloc")
    with db.transaction() as session:
        community = CommunityService(session).by_slug("coloc")
        added = WebhookService(session).add(
            community, url=url, event_types=types, allow_private=True
        )
        event = EventService(session).create(community, EventInput(**EVENT))
    return event, added.secret


def register(db: Database, event: Event, n: int) -> None:
    with db.transaction() as session:
        RegistrationService(session).register(
            session.get(Event, event.id),  # type: ignore[arg-type]
            RegistrationInput(name=f"P{n}", email=f"p{n}@example.org", consent="on"),
        )


def deliveries(db: Database) -> list[WebhookDelivery]:
    with db.session() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at)))


def test_changes_queue_signed_deliveries_that_an_independent_verifier_accepts(
    db: Database, make: Factories, receiver: Receiver
) -> None:
    event, secret = setup(
        db,
        make,
        receiver.url,
        [
            "event.published",
            "registration.created",
            "registration.confirmed",
            "registration.waitlisted",
        ],
    )
    with db.transaction() as session:
        EventService(session).publish(session.get(Event, event.id))  # type: ignore[arg-type]
    register(db, event, 1)  # confirmed (capacity 1)
    register(db, event, 2)  # waitlisted
    types = [d.event_type for d in deliveries(db)]
    assert types == [
        "event.published",
        "registration.created",
        "registration.confirmed",
        "registration.created",
        "registration.waitlisted",
    ]
    assert deliver_due_webhooks(db, now=utcnow(), policy=LOCAL) == 5
    assert len(receiver.received) == 5
    verifier = Webhook(secret)
    for headers, body in receiver.received:
        payload = verifier.verify(body, headers)  # raises on a bad signature or timestamp
        assert headers["webhook-id"].startswith("msg_")
        assert payload["type"] in types
        assert "email" not in json.dumps(payload)  # ids and figures only
    assert {d.status for d in deliveries(db)} == {DeliveryStatus.DELIVERED}


def test_signature_matches_the_specs_test_vector() -> None:
    # The example of the Standard Webhooks specification (its reference implementations' test).
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = '{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected


def test_failures_are_retried_with_backoff_until_delivered(
    db: Database, make: Factories, receiver: Receiver
) -> None:
    event, _secret = setup(db, make, receiver.url, ["registration.created"])
    with db.transaction() as session:
        EventService(session).publish(session.get(Event, event.id))  # type: ignore[arg-type]
    register(db, event, 1)
    receiver.plan = [500, 503]
    now = utcnow()
    deliver_due_webhooks(db, now=now, policy=LOCAL)
    (first,) = deliveries(db)
    assert first.status is DeliveryStatus.PENDING and first.last_status_code == 500
    assert first.next_attempt_at == now + RETRY_DELAYS[0]
    assert deliver_due_webhooks(db, now=now + timedelta(seconds=1), policy=LOCAL) == 0  # not due
    deliver_due_webhooks(db, now=now + RETRY_DELAYS[0], policy=LOCAL)
    (second,) = deliveries(db)
    assert second.attempts == 2 and second.last_status_code == 503
    later = now + RETRY_DELAYS[0] + RETRY_DELAYS[1]
    deliver_due_webhooks(db, now=later, policy=LOCAL)
    (done,) = deliveries(db)
    assert done.status is DeliveryStatus.DELIVERED and done.attempts == 3
    ids = {headers["webhook-id"] for headers, _body in receiver.received}
    assert len(receiver.received) == 3 and len(ids) == 1  # the same id: receivers dedupe


def test_nothing_is_queued_or_sent_for_a_rolled_back_change(
    db: Database, make: Factories, receiver: Receiver
) -> None:
    event, _secret = setup(db, make, receiver.url, ["event.published"])
    session = db.session(write=True)
    try:
        EventService(session).publish(session.get(Event, event.id))  # type: ignore[arg-type]
        session.flush()
        assert session.scalars(select(WebhookDelivery)).all()  # queued inside...
        session.rollback()  # ...and gone with the change
    finally:
        session.close()
    assert deliveries(db) == []
    assert deliver_due_webhooks(db, now=utcnow(), policy=LOCAL) == 0
    assert receiver.received == []


def test_private_addresses_are_refused_unless_allowed(
    db: Database, make: Factories, receiver: Receiver
) -> None:
    event, _secret = setup(db, make, receiver.url, ["event.published"])
    with db.transaction() as session:
        EventService(session).publish(session.get(Event, event.id))  # type: ignore[arg-type]
    deliver_due_webhooks(db, now=utcnow(), policy=FetchPolicy())  # the default: public only
    (refused,) = deliveries(db)
    assert refused.last_status_code is None and "private_address" in refused.last_error
    assert receiver.received == []
    with db.transaction() as session:
        community = CommunityService(session).by_slug("coloc")
        with pytest.raises(Exception, match="invalid"):
            WebhookService(session).add(
                community,
                url="http://127.0.0.1/x",
                event_types=["event.published"],
                allow_private=False,
            )


def test_an_endpoint_failing_for_a_day_is_disabled_and_organisers_mailed(
    db: Database, make: Factories, receiver: Receiver
) -> None:
    event, _secret = setup(db, make, receiver.url, ["event.published", "event.changed"])
    with db.transaction() as session:
        EventService(session).publish(session.get(Event, event.id))  # type: ignore[arg-type]
    receiver.plan = [500] * 20
    now = utcnow()
    moment = now
    for delay in (timedelta(0), *RETRY_DELAYS):
        moment += delay
        deliver_due_webhooks(db, now=moment, policy=LOCAL)
    with db.session() as session:
        endpoint = session.scalars(select(WebhookEndpoint)).one()
        mails = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "webhook_disabled")
        ).all()
    assert moment - now >= timedelta(days=1)
    assert not endpoint.enabled and endpoint.disabled_at is not None
    assert [d.status for d in deliveries(db)] == [DeliveryStatus.FAILED]
    assert len(mails) == 1 and receiver.url in mails[0].text_body


def test_a_transaction_reads_the_endpoints_once_and_again_after_one_changes(
    db: Database, make: Factories
) -> None:
    """A registration queues two types and a batch runs 32 registrations: one read of the
    community's endpoints per transaction, not one per webhook; adding an endpoint in the
    same transaction is seen by what is queued after it."""
    community = make.community()
    with db.transaction() as session:
        event = EventService(session).create(community, EventInput(**EVENT))
        event_id = event.id
    data = {"event_id": event_id}
    with db.transaction() as session, counting_statements(db) as statements:
        assert queue_webhook(session, "registration.created", data, event_id=event_id) == 0
        assert queue_webhook(session, "registration.confirmed", data, event_id=event_id) == 0
        reads = [s for s in statements if "webhook_endpoint" in s and s.startswith("SELECT")]
        assert len(reads) == 1
        WebhookService(session).add(
            session.merge(community),
            url="https://hooks.example.org/in",
            event_types=["registration.created"],
            allow_private=False,
        )
        assert queue_webhook(session, "registration.created", data, event_id=event_id) == 1
        assert queue_webhook(session, "registration.confirmed", data, event_id=event_id) == 0
    with db.transaction() as session:  # a new transaction reads them afresh
        assert queue_webhook(session, "registration.created", data, event_id=event_id) == 1
