"""The organiser API over the same use cases as the pages: events (create, change only what
is sent, publish, cancel), registrations (the same rules: waitlist, approval, questions;
cancel promotes), the door (the nonce, verdicts, undo, the log), the audit trail naming
the token's owner, and the token page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from events.database import Database
from events.errors import ValidationFailed
from events.models import ApiToken, RegistrationLog, Role, Scope
from tests.api.conftest import Organiser, bearer, make_event, make_token
from tests.factories import Factories
from tests.web.conftest import Client

BASE = "/api/v1/manage/coloc"
NEW_EVENT = {
    "title": "API night",
    "starts_local": "2031-01-10T19:00",
    "ends_local": "2031-01-10T21:00",
    "timezone": "Europe/Paris",
    "capacity": 1,
}


def test_events_create_change_publish_cancel(client: Client, organiser: Organiser) -> None:
    auth = bearer(organiser.token)
    created = client.post(f"{BASE}/events", json=NEW_EVENT, headers=auth)
    assert created.status_code == 201, created.text
    event = created.json()
    assert event["status"] == "draft" and event["starts_at"] == "2031-01-10T19:00:00+01:00"
    slug = event["slug"]
    changed = client.patch(f"{BASE}/events/{slug}", json={"title": "API evening"}, headers=auth)
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "API evening"
    assert changed.json()["starts_at"] == event["starts_at"]  # the rest kept its values
    bad = client.patch(
        f"{BASE}/events/{slug}", json={"ends_local": "2031-01-10T18:00"}, headers=auth
    )
    assert bad.status_code == 400 and bad.json()["fields"] == {"ends_local": "ends_before_start"}
    unknown = client.patch(f"{BASE}/events/{slug}", json={"colour": "red"}, headers=auth)
    assert unknown.status_code == 400
    published = client.post(f"{BASE}/events/{slug}/publish", headers=auth)
    assert published.json()["status"] == "published"
    assert client.get(f"/api/v1/events/{slug}").status_code == 200  # now public
    cancelled = client.post(f"{BASE}/events/{slug}/cancel", json={"reason": "Snow"}, headers=auth)
    assert cancelled.json()["status"] == "cancelled"
    again = client.post(f"{BASE}/events/{slug}/publish", headers=auth)
    assert again.status_code == 409 and again.json()["code"] == "event_cancelled"
    listed = client.get(f"{BASE}/events?status=cancelled", headers=auth).json()
    assert [e["slug"] for e in listed["data"]] == [slug]


def test_registrations_follow_the_pages_rules(
    client: Client, organiser: Organiser, db: Database
) -> None:
    auth = bearer(organiser.token)
    event = make_event(db, "coloc", capacity="1")
    path = f"{BASE}/events/{event.slug}/registrations"
    first = client.post(
        path, json={"name": "Ada", "email": "ada@example.org", "consent": True}, headers=auth
    )
    assert first.status_code == 201 and first.json()["outcome"] == "confirmed"
    second = client.post(
        path, json={"name": "Bo", "email": "bo@example.org", "consent": True}, headers=auth
    )
    assert second.json()["outcome"] == "waitlisted" and second.json()["waitlist_rank"] == 1
    refused = client.post(
        path, json={"name": "Cy", "email": "cy@example.org", "consent": False}, headers=auth
    )
    assert refused.status_code == 400 and refused.json()["fields"]["consent"] == "required"
    too_many = client.post(
        path,
        json={"name": "Di", "email": "di@example.org", "consent": True, "guests": 3},
        headers=auth,
    )
    assert too_many.status_code == 400 and "guests" in too_many.json()["fields"]
    first_id = first.json()["registration"]["id"]
    cancelled = client.post(f"{path}/{first_id}/cancel", headers=auth)
    assert cancelled.status_code == 200
    assert cancelled.json()["promoted"] == [second.json()["registration"]["id"]]
    listed = client.get(f"{path}?status=confirmed", headers=auth).json()
    assert [r["email"] for r in listed["data"]] == ["bo@example.org"] and listed["total"] == 1
    found = client.get(f"{path}?search=ada", headers=auth).json()
    assert [r["status"] for r in found["data"]] == ["cancelled"]
    with db.session() as session:
        actors = set(session.scalars(select(RegistrationLog.actor_id)))
    assert organiser.user.id in actors  # the API's writes are in the pages' audit log


def test_check_in_is_the_doors_idempotent_operation(
    client: Client, organiser: Organiser, db: Database
) -> None:
    auth = bearer(organiser.token)
    event = make_event(db, "coloc", capacity="5")
    path = f"{BASE}/events/{event.slug}"
    registered = client.post(
        f"{path}/registrations",
        json={"name": "Ada", "email": "ada@example.org", "consent": True},
        headers=auth,
    ).json()["registration"]
    scan = {"nonce": "scan-0001", "registration_id": registered["id"], "device": "gate"}
    first = client.post(f"{path}/check-ins", json=scan, headers=auth).json()
    assert first["verdict"] == "admitted" and first["admitted_now"] == 1
    retry = client.post(f"{path}/check-ins", json=scan, headers=auth).json()
    assert retry["replayed"] and retry["check_in_id"] == first["check_in_id"]
    other = client.post(f"{path}/check-ins", json={**scan, "nonce": "scan-0002"}, headers=auth)
    assert other.json()["verdict"] == "already_checked_in"
    unknown = client.post(
        f"{path}/check-ins", json={"nonce": "scan-0003", "ticket": "nope"}, headers=auth
    )
    assert unknown.json()["verdict"] == "unknown"
    undo = client.post(f"{path}/check-ins/{first['check_in_id']}/undo", json={}, headers=auth)
    assert undo.json()["verdict"] == "undone"
    twice = client.post(f"{path}/check-ins/{first['check_in_id']}/undo", json={}, headers=auth)
    assert twice.status_code == 409 and twice.json()["code"] == "already_undone"
    log = client.get(f"{path}/check-ins", headers=auth).json()["data"]
    assert [row["verdict"] for row in log][-1] == "admitted" and len(log) >= 4
    bad = client.post(f"{path}/check-ins", json={"ticket": "x"}, headers=auth)
    assert bad.status_code == 400  # the nonce is required


def test_token_page_shows_a_token_once_and_revokes_it(
    client: Client, make: Factories, db: Database
) -> None:
    user = make.user()
    make.community(owner=user, slug="coloc")
    client.login_as(db, user)
    assert client.get("/account/tokens").status_code == 200
    made = client.submit(
        "/account/tokens",
        {"name": "Site", "community": "coloc", "events_read": "on", "checkin": "on"},
    )
    assert (
        made.status_code == 200 and made.headers["cache-control"] == "no-store"
    )  # personal: web/security.py
    plain = made.text.split('id="issued-token">')[1].split("<")[0]
    assert plain.startswith("rt_")
    assert client.get(f"{BASE}/events", headers=bearer(plain)).status_code == 200
    assert plain not in client.get("/account/tokens").text  # shown once
    with db.session() as session:
        token = session.scalars(select(ApiToken)).one()
        assert token.token_hash != plain and token.scopes == ["events:read", "checkin"]
    assert client.submit(f"/account/tokens/{token.id}/revoke").status_code == 303
    refused = client.get(f"{BASE}/events", headers=bearer(plain))
    assert refused.status_code == 401 and refused.json()["code"] == "token_revoked"
    empty = client.submit("/account/tokens", {"name": "", "community": "coloc"})
    assert empty.status_code == 400


def test_a_door_volunteer_cannot_make_a_writing_token(make: Factories, db: Database) -> None:
    community = make.community(slug="coloc")
    door = make.member(community, role=Role.DOOR)
    assert make_token(db, door, "coloc", [Scope.CHECK_IN]).startswith("rt_")
    with pytest.raises(ValidationFailed) as refused:
        make_token(db, door, "coloc", [Scope.EVENTS_WRITE])
    assert refused.value.errors == {"scopes": "invalid_choice"}
