"""Door links: created with a token shown once, stored hashed, expiring, revocable, scoped."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import select

from events.clock import utcnow
from events.database import Database
from events.errors import NotFound, ValidationFailed
from events.models import DoorLink, Event
from events.services.door_links import DoorLinkService, is_live
from tests.domain.test_registrations import load_event, open_event
from tests.factories import Factories


def create(db: Database, event: Event, **options: object) -> tuple[DoorLink, str]:
    options.setdefault("label", "Front door")
    options.setdefault("created_by", uuid4())
    with db.transaction() as session:
        return DoorLinkService(session).create(session.get(Event, event.id), **options)  # type: ignore[arg-type]


def resolve(db: Database, token: object, *, now: object = None) -> DoorLink:
    with db.session() as session:
        return DoorLinkService(session).resolve(token, now=now or utcnow())  # type: ignore[arg-type]


def test_a_link_resolves_to_its_event_until_the_event_ends(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    organiser = make.user()
    link, token = create(db, event, label="  Side door ", created_by=organiser.id)
    assert (link.label, link.created_by, link.revoked_at) == ("Side door", organiser.id, None)
    assert link.expires_at == load_event(db, event).ends_at  # the default expiry
    found = resolve(db, token)
    assert (found.id, found.event_id, found.event.slug) == (link.id, event.id, event.slug)
    assert is_live(found, utcnow())
    # Expired the moment the event ends.
    with pytest.raises(NotFound):
        resolve(db, token, now=link.expires_at)
    assert resolve(db, token, now=link.expires_at - timedelta(seconds=1)).id == link.id


def test_only_the_hash_of_the_token_is_stored(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    link, token = create(db, event)
    assert len(token) >= 32
    with db.session() as session:
        stored = session.scalar(select(DoorLink).where(DoorLink.id == link.id))
        assert stored is not None
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in {str(value) for value in vars(stored).values()}


def test_an_explicit_expiry(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    soon = utcnow() + timedelta(hours=2)
    link, token = create(db, event, expires_at=soon)
    assert link.expires_at == soon
    assert resolve(db, token).id == link.id
    with pytest.raises(NotFound):
        resolve(db, token, now=soon + timedelta(minutes=1))
    with pytest.raises(ValidationFailed) as past:
        create(db, event, expires_at=utcnow() - timedelta(minutes=1))
    assert past.value.errors == {"expires_at": "in_the_past"}


def test_a_revoked_link_stops_at_once(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    link, token = create(db, event)
    kept, kept_token = create(db, event, label="Other volunteer")
    with db.transaction() as session:
        DoorLinkService(session).revoke(session.get(Event, event.id), link.id)
        DoorLinkService(session).revoke(session.get(Event, event.id), str(link.id))  # twice: fine
    with pytest.raises(NotFound):
        resolve(db, token)
    assert resolve(db, kept_token).id == kept.id
    with db.session() as session:
        links = DoorLinkService(session).for_event(session.get(Event, event.id))  # type: ignore[arg-type]
        assert [(x.label, x.revoked_at is not None) for x in links] == [
            ("Other volunteer", False),
            ("Front door", True),
        ]


@pytest.mark.parametrize("token", ["", None, "nope", "x" * 10_000, "\x00", 42])
def test_unknown_and_garbage_tokens_are_not_found(
    db: Database, make: Factories, token: object
) -> None:
    create(db, open_event(db, make))
    with pytest.raises(NotFound):
        resolve(db, token)


def test_links_are_scoped_to_their_event(db: Database, make: Factories) -> None:
    event, other = open_event(db, make), open_event(db, make)
    link, token = create(db, event)
    assert resolve(db, token).event_id == event.id
    for link_id in (link.id, uuid4(), "not-a-uuid"):
        with db.transaction() as session, pytest.raises(NotFound):
            DoorLinkService(session).revoke(session.get(Event, other.id), link_id)  # type: ignore[arg-type]
    with db.session() as session:
        assert DoorLinkService(session).for_event(session.get(Event, other.id)) == []  # type: ignore[arg-type]
    assert resolve(db, token).id == link.id  # untouched by the other event's organiser


@pytest.mark.parametrize(("label", "code"), [("", "required"), ("x" * 81, "too_long")])
def test_a_label_is_required(db: Database, make: Factories, label: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as failed:
        create(db, open_event(db, make), label=label)
    assert failed.value.errors == {"label": code}
