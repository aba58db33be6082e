"""The webhooks page: add an endpoint (the secret shown once), refuse a bad address or no
event, the delivery log, enable again, remove; organisers only."""

from __future__ import annotations

from sqlalchemy import select, update

from events.database import Database
from events.models import Role, WebhookEndpoint
from tests.factories import Factories
from tests.web.conftest import Client

PAGE = "/manage/coloc/webhooks"


def test_organiser_adds_sees_enables_and_removes_an_endpoint(
    client: Client, make: Factories, db: Database
) -> None:
    owner = make.user()
    make.community(owner=owner, slug="coloc")
    client.login_as(db, owner)
    added = client.submit(
        PAGE, {"url": "https://hooks.example.org/in", "registration_created": "on"}
    )
    assert (
        added.status_code == 200 and added.headers["cache-control"] == "no-store"
    )  # personal: web/security.py
    secret = added.text.split('id="webhook-secret">')[1].split("<")[0]
    assert secret.startswith("whsec_")
    page = client.get(PAGE).text
    assert "https://hooks.example.org/in" in page and secret not in page
    with db.transaction() as session:
        endpoint = session.scalars(select(WebhookEndpoint)).one()
        assert endpoint.types == ["registration.created"]
        session.execute(update(WebhookEndpoint).values(enabled=False))
    assert client.submit(f"{PAGE}/{endpoint.id}/enable").status_code == 303
    with db.session() as session:
        assert session.scalars(select(WebhookEndpoint.enabled)).one() is True
    assert client.submit(f"{PAGE}/{endpoint.id}/remove").status_code == 303
    with db.session() as session:
        assert session.scalars(select(WebhookEndpoint)).all() == []


def test_bad_addresses_and_no_event_are_refused(
    client: Client, make: Factories, db: Database
) -> None:
    owner = make.user()
    make.community(owner=owner, slug="coloc")
    client.login_as(db, owner)
    for form in (
        {"url": "ftp://example.org/x", "event_published": "on"},
        {"url": "http://10.0.0.7/x", "event_published": "on"},
        {"url": "http://localhost:9000/x", "event_published": "on"},
        {"url": "https://hooks.example.org/in"},
    ):
        answer = client.submit(PAGE, form)
        assert answer.status_code == 400, form
    with db.session() as session:
        assert session.scalars(select(WebhookEndpoint)).all() == []


def test_door_volunteers_cannot_open_it(client: Client, make: Factories, db: Database) -> None:
    community = make.community(slug="coloc")
    door = make.member(community, role=Role.DOOR)
    client.login_as(db, door)
    assert client.get(PAGE).status_code == 403
