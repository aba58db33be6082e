"""A registrant's personal data (events/services/personal_data.py): every column of
Registration is classified; the export covers every column about the person and their party,
and never the link secrets; erasure and anonymisation clear what identifies the person and
keep the party's figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from events.database import Database
from events.models import Event, Registration
from events.services.personal_data import (
    ABOUT_THE_PARTY,
    ANONYMISED_NAME,
    BOOKKEEPING,
    IDENTIFYING,
    LINK_STATE,
    export_personal_data,
    is_anonymised,
)
from events.services.privacy import anonymise_past_registrations
from events.services.questions import QuestionInput, QuestionService
from tests.domain.test_registrations import act, open_event, person, register
from tests.factories import Factories

SITE = "https://meetups.example.org"
NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)

DIET_ANSWER = {"question": "Diet", "answer": "Veg", "still_asked": True}
#: Where each column the person sees shows in the export, and how its value reads there.
EXPORTED: dict[str, tuple[tuple[str, ...], Any]] = {
    "name": (("registration", "name"), lambda r: r.name),
    "email": (("registration", "email"), lambda r: r.email),
    "locale": (("registration", "language"), lambda r: r.locale),
    "opt_in": (("registration", "hear_about_next_events"), lambda r: r.opt_in),
    "answers": (("answers",), lambda r: [DIET_ANSWER]),
    "ticket_code": (("registration", "ticket"), lambda r: f"{SITE}/t/{r.ticket_code}"),
    "guests": (("registration", "guests"), lambda r: r.guests),
    "status": (("registration", "status"), lambda r: r.status.value),
    "waitlist_position": (("registration", "waitlist_position"), lambda r: r.waitlist_position),
    "walk_in": (("registration", "registered_at_the_door"), lambda r: r.walk_in),
    "arrived": (("registration", "people_arrived"), lambda r: r.arrived),
    "created_at": (("registration", "registered_at"), lambda r: r.created_at.isoformat()),
    "consent_at": (("registration", "consent_given_at"), lambda r: r.consent_at.isoformat()),
    "confirmed_at": (("registration", "confirmed_at"), lambda r: r.confirmed_at.isoformat()),
    "cancelled_at": (("registration", "cancelled_at"), lambda r: r.cancelled_at.isoformat()),
}


def test_every_column_of_registration_is_classified_once() -> None:
    columns = {column.key for column in Registration.__table__.columns}
    groups = [IDENTIFYING, ABOUT_THE_PARTY, LINK_STATE, BOOKKEEPING]
    named = [name for group in groups for name in group]
    assert len(named) == len(set(named)), "a column is in two groups"
    assert set(named) == columns, f"classify {sorted(columns - set(named))} in personal_data.py"
    assert set(EXPORTED) == set(IDENTIFYING) | set(ABOUT_THE_PARTY)


def a_full_registration(db: Database, make: Factories) -> Registration:
    """A registration with every column about the person set to something telling."""
    event = open_event(db, make, guest_allowance=2)
    with db.transaction() as session:
        diet = QuestionService(session).add(
            session.get(Event, event.id),
            QuestionInput(kind="single_choice", label="Diet", options="Veg\nAny"),
        )
    data = person(
        "zoe", name="Zoé Secret", guests="2", opt_in="on", answers={diet.field_name: "Veg"}
    )
    registration = register(db, event, data).registration
    with db.transaction() as session:
        stored = session.get(Registration, registration.id)
        assert stored is not None
        stored.walk_in = True
        stored.arrived = 2
        stored.waitlist_position = 7
        stored.cancelled_at = NOW - timedelta(days=1)
        stored.hold_expires_at = NOW + timedelta(days=1)
        stored.request_key = "nonce-of-the-form"
    return registration


def test_the_export_covers_every_column_about_the_person_and_no_link_secret(
    db: Database, make: Factories
) -> None:
    registration = a_full_registration(db, make)
    with db.session() as session:
        stored = session.get(Registration, registration.id)
        assert stored is not None
        exported = export_personal_data(
            session, stored, base_url=SITE + "/", retention_days=30, now=NOW
        )
        for column, (path, expected) in EXPORTED.items():
            value: Any = exported
            for key in path:
                value = value[key]
            assert value == expected(stored), column
        text = json.dumps(exported)
        for column in LINK_STATE:
            secret = getattr(stored, column)
            shown = secret.isoformat() if isinstance(secret, datetime) else str(secret)
            assert secret is not None and shown not in text, column
    assert exported["event"]["url"].startswith(f"{SITE}/e/")
    assert exported["retention"] == {
        "personal_data_anonymised_days_after_event": 30,
        "privacy_notice": f"{SITE}/privacy",
    }
    assert exported["exported_at"] == NOW.isoformat()


def identity(db: Database, registration: Registration) -> dict[str, dict[str, Any]]:
    with db.session() as session:
        stored = session.get(Registration, registration.id)
        assert stored is not None
        groups = {"identifying": IDENTIFYING, "link": LINK_STATE, "party": ABOUT_THE_PARTY}
        return {
            name: {column: getattr(stored, column) for column in group}
            for name, group in groups.items()
        }


def assert_cleared(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> None:
    for column, value in before["identifying"].items():
        assert after["identifying"][column] != value, column
    assert after["identifying"]["name"] == ANONYMISED_NAME
    assert after["link"]["manage_token_hash"] != before["link"]["manage_token_hash"]
    assert after["link"]["request_key"] is None and after["link"]["hold_expires_at"] is None


def test_erasure_clears_what_identifies_the_person_and_keeps_the_party(
    db: Database, make: Factories
) -> None:
    registration = a_full_registration(db, make)
    before = identity(db, registration)
    act(db, registration.id, "erase")
    after = identity(db, registration)
    assert_cleared(before, after)
    # The event has not ended: erasure cancels the registration first (its status and
    # cancellation time move); every other fact about the party stays.
    kept = {k: v for k, v in before["party"].items() if k not in {"status", "cancelled_at"}}
    assert {k: after["party"][k] for k in kept} == kept


def test_anonymisation_clears_the_same_columns(db: Database, make: Factories) -> None:
    registration = a_full_registration(db, make)
    before = identity(db, registration)
    with db.transaction() as session:
        assert anonymise_past_registrations(session, now=NOW + timedelta(days=400)) == 1
    after = identity(db, registration)
    assert_cleared(before, after)
    assert after["party"] == before["party"]
    with db.session() as session:
        stored = session.get(Registration, registration.id)
        assert stored is not None and is_anonymised(stored)
