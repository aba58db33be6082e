"""Door links: created with a token shown once, stored hashed, expiring, revocable, scoped."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import select

from events.clock import utcnow
from events.database import Database
from events.errors import Conflict, NotFound, ValidationFailed
from events.models import DoorLink, Event, OutboxMessage
from events.services.door_links import DoorLinkService, is_live, token_for
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


# -- shown again, mailed (issue 14, item 5) --------------------------------------------------
SECRET = "door-secret-" + "s" * 40


def test_a_derived_link_can_be_shown_again_but_only_with_its_secret(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    with db.transaction() as session:
        link, token = DoorLinkService(session, secret=SECRET).create(
            session.get(Event, event.id), label="Front", created_by=uuid4()
        )
    assert token == token_for(SECRET, link.id) and len(token) >= 43
    assert resolve(db, token).id == link.id
    with db.session() as session:
        stored = session.get(DoorLink, link.id)
        assert token not in (stored.token_hash, stored.label)  # still only its hash
        assert DoorLinkService(session, secret=SECRET).token_of(stored) == token
        # Another secret key (rotated), or none: never a wrong link, nothing at all.
        assert DoorLinkService(session, secret=SECRET + "x").token_of(stored) is None
        assert DoorLinkService(session).token_of(stored) is None
    random_link, _ = create(db, event)  # made without a secret: shown once only
    with db.session() as session:
        old = session.get(DoorLink, random_link.id)
        assert DoorLinkService(session, secret=SECRET).token_of(old) is None


def test_a_live_link_is_mailed_to_a_volunteer(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    with db.transaction() as session:
        link, token = DoorLinkService(session, secret=SECRET).create(
            session.get(Event, event.id), label="Sam", created_by=uuid4()
        )
    with db.transaction() as session:
        sent = DoorLinkService(session, secret=SECRET).send_by_email(
            session.get(Event, event.id),
            link.id,
            address=" Sam@Example.org ",
            base_url="https://meet.example",
            locale="fr",
        )
    assert sent == "sam@example.org"
    with db.session() as session:
        [mail] = session.scalars(select(OutboxMessage)).all()
    url = f"https://meet.example/door/{event.slug}/link/{token}"
    assert mail.to_address == "sam@example.org" and mail.render_spec is None
    assert url in mail.text_body and url in mail.html_body
    assert mail.subject.startswith("L’accueil de") and "Sam" in mail.text_body


def test_mailing_refuses_bad_addresses_and_dead_links(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    with db.transaction() as session:
        link, _token = DoorLinkService(session, secret=SECRET).create(
            session.get(Event, event.id), label="Sam", created_by=uuid4()
        )
    old, _ = create(db, event)

    def send(link_id: object, address: str = "sam@example.org") -> str:
        with db.transaction() as session:
            return DoorLinkService(session, secret=SECRET).send_by_email(
                session.get(Event, event.id), link_id, address=address, base_url="", locale="en"
            )

    with pytest.raises(ValidationFailed) as bad:
        send(link.id, "not an address")
    assert bad.value.errors == {"email": "invalid_email"}
    with pytest.raises(Conflict) as not_shown:
        send(old.id)
    assert not_shown.value.code == "door_link_not_shown"
    with db.transaction() as session:
        DoorLinkService(session).revoke(session.get(Event, event.id), link.id)
    with pytest.raises(Conflict) as revoked:
        send(link.id)
    assert revoked.value.code == "door_link_not_live"
    with pytest.raises(NotFound):
        send(uuid4())
    with db.session() as session:
        assert session.scalars(select(OutboxMessage)).all() == []
