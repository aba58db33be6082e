"""The door: every verdict, idempotent scans, partial arrivals, undo, offline scans, walk-ins,
counters, the offline snapshot and the report (events/services/door.py).

Each scan runs in its own write transaction, as a door request does.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from itertools import count, pairwise
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import func, select

from events.clock import utcnow
from events.database import Database
from events.errors import Conflict, NotFound, ValidationFailed
from events.models import (
    CheckIn,
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from events.services.door import (
    DoorService,
    ScanResult,
    Verdict,
    event_days,
    is_event_day,
    ticket_code_from,
)
from events.services.door_input import (
    Arrival,
    ScanInput,
    WalkInInput,
    arrival_input,
    scan_input,
    search_term,
    undo_input,
    walk_in_input,
)
from events.services.events import EventInput, EventService
from events.services.registrations import RegistrationService
from tests.domain.test_registrations import act, load_event, open_event, person, register
from tests.factories import Factories
from tests.mail.scenario import outbox

S = RegistrationStatus
_nonces = count(1)
pytestmark = pytest.mark.usefixtures("admission_path")  # direct and general


# -- helpers (shared with test_door_concurrency.py) ------------------------------------
def nonce() -> str:
    return f"nonce-{next(_nonces)}-{uuid4().hex[:8]}"


def scan_of(scanned: str, **fields: Any) -> ScanInput:
    """A scan request's fields as the domain takes them (events/services/door_input.py)."""
    fields.setdefault("nonce", nonce())
    fields.setdefault("device", "door 1")
    return scan_input({"scanned": scanned, **fields}, now=utcnow())


def arrival_of(**fields: Any) -> Arrival:
    """A check-in by name's fields as the domain takes them."""
    fields.setdefault("nonce", nonce())
    fields.setdefault("device", "door 1")
    return arrival_input(fields, now=utcnow())


def walk_in_of(name: str = "Walk In", **fields: Any) -> WalkInInput:
    """A walk-in form's fields as the domain takes them."""
    fields.setdefault("guests", 0)
    fields.setdefault("device", "door 1")
    fields.setdefault("nonce", nonce())
    return walk_in_input({"name": name, **fields})


def scan(
    db: Database,
    event: Event,
    scanned: str,
    *,
    actor_id: UUID | None = None,
    door_link_id: UUID | None = None,
    **fields: Any,
) -> ScanResult:
    """One door request: ``DoorService.check_in`` in its own write transaction."""
    with db.transaction() as session:
        return DoorService(session).check_in(
            session.get(Event, event.id),
            scan_of(scanned, **fields),
            actor_id=actor_id,
            door_link_id=door_link_id,
        )


def by_name(db: Database, event: Event, registration_id: UUID, **fields: Any) -> ScanResult:
    """A check-in from the name search, in its own write transaction."""
    with db.transaction() as session:
        return DoorService(session).check_in_registration(
            session.get(Event, event.id), registration_id, arrival_of(**fields)
        )


def undo(db: Database, event: Event, check_in_id: Any, device: str = "door 1") -> ScanResult:
    with db.transaction() as session:
        return DoorService(session).undo(
            session.get(Event, event.id),
            undo_input({"check_in_id": str(check_in_id), "device": device}),
        )


def search(db: Database, event: Event, text: str, limit: int = 20) -> list[Any]:
    return door(db, event, "search", search_term(text), limit=limit)


def door(db: Database, event: Event, method: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``DoorService.<method>(event, *args, **kwargs)`` in its own write transaction."""
    with db.transaction() as session:
        return getattr(DoorService(session), method)(session.get(Event, event.id), *args, **kwargs)


def confirmed(
    db: Database, event: Event, n: int | str = 1, *, guests: int = 0, name: str | None = None
) -> Registration:
    overrides: dict[str, Any] = {"guests": guests}
    if name is not None:
        overrides["name"] = name
    registration = register(db, event, person(n, **overrides)).registration
    assert registration.status is S.CONFIRMED and registration.ticket_code
    return registration


def log_rows(db: Database, event: Event) -> list[CheckIn]:
    with db.session() as session:
        return list(
            session.scalars(
                select(CheckIn).where(CheckIn.event_id == event.id).order_by(CheckIn.created_at)
            )
        )


def arrived(db: Database, registration: Registration) -> int:
    with db.session() as session:
        return session.get(Registration, registration.id).arrived  # type: ignore[union-attr]


@pytest.fixture
def event(db: Database, make: Factories) -> Event:
    return open_event(db, make, capacity="10", guest_allowance=3)


# -- verdicts ----------------------------------------------------------------------------
def test_a_confirmed_ticket_admits_the_whole_party_and_logs_it(db: Database, event: Event) -> None:
    alice = confirmed(db, event, "alice", guests=2, name="Alice Martin")
    result = scan(db, event, alice.ticket_code, device="door 2")
    assert result.verdict is Verdict.ADMITTED and result.ok
    assert (result.name, result.party, result.admitted_now, result.arrived) == (
        "Alice Martin",
        3,
        3,
        3,
    )
    assert result.registration_id == alice.id
    assert result.first_device == "door 2"
    assert result.first_checked_in_at is not None
    assert abs(result.first_checked_in_at - utcnow()) < timedelta(minutes=1)
    assert arrived(db, alice) == 3
    (row,) = log_rows(db, event)
    assert (row.id, row.verdict, row.people, row.device, row.offline, row.action) == (
        result.check_in_id,
        "admitted",
        3,
        "door 2",
        False,
        "scan",
    )
    assert row.registration_id == alice.id


@pytest.mark.parametrize(
    "shape",
    [
        "{code}",
        "https://rencontres.example.org/t/{code}",
        "http://another-host:8000/t/{code}?utm=qr#top",
        "  {code}\n",
        "\t{upper}  ",
        "{dashed}",
    ],
)
def test_the_ticket_url_the_bare_code_and_sloppy_typing_all_work(
    db: Database, event: Event, shape: str
) -> None:
    registration = confirmed(db, event)
    code = registration.ticket_code
    assert code is not None
    scanned = shape.format(
        code=code, upper=code.upper(), dashed="-".join(code[i : i + 9] for i in (0, 9, 18))
    )
    assert ticket_code_from(scanned) == code
    assert scan(db, event, scanned).verdict is Verdict.ADMITTED


def test_a_second_scan_says_already_checked_in_with_when_and_where(
    db: Database, event: Event
) -> None:
    registration = confirmed(db, event, guests=1)
    first = scan(db, event, registration.ticket_code, device="door 2")
    again = scan(db, event, registration.ticket_code, device="door 1")
    assert again.verdict is Verdict.ALREADY_CHECKED_IN and not again.ok
    assert (again.admitted_now, again.arrived, again.party) == (0, 2, 2)
    assert again.first_checked_in_at == first.first_checked_in_at
    assert again.first_device == "door 2"
    assert arrived(db, registration) == 2
    assert [r.verdict for r in log_rows(db, event)] == ["admitted", "already_checked_in"]


def test_a_cancelled_ticket_is_refused(db: Database, event: Event) -> None:
    registration = confirmed(db, event)
    act(db, registration.id, "cancel")
    result = scan(db, event, registration.ticket_code)
    assert result.verdict is Verdict.CANCELLED
    assert (result.admitted_now, result.arrived, result.name) == (0, 0, "Person 1")
    assert arrived(db, registration) == 0


def test_a_declined_ticket_is_refused_as_cancelled(db: Database, event: Event) -> None:
    registration = confirmed(db, event)
    with db.transaction() as session:
        RegistrationService(session).decline(session.get(Registration, registration.id))
    assert scan(db, event, registration.ticket_code).verdict is Verdict.CANCELLED


def test_waitlisted_and_pending_people_found_by_name_are_refused(
    db: Database, make: Factories
) -> None:
    full = open_event(db, make, capacity="1")
    confirmed(db, full, "in")
    waiting = register(db, full, person("waiting")).registration
    approval = open_event(db, make, requires_approval=True)
    pending = register(db, approval, person("pending")).registration
    by_mail = open_event(db, make, confirm_email_first=True)
    unconfirmed = register(db, by_mail, person("unconfirmed")).registration
    cases = [
        (full, waiting, S.WAITLISTED, Verdict.WAITLISTED),
        (approval, pending, S.PENDING_APPROVAL, Verdict.PENDING),
        (by_mail, unconfirmed, S.PENDING_EMAIL, Verdict.PENDING),
    ]
    for event, registration, status, verdict in cases:
        assert registration.status is status and registration.ticket_code is None
        result = by_name(db, event, registration.id, device="d")
        assert (result.verdict, result.admitted_now, result.registration_id) == (
            verdict,
            0,
            registration.id,
        )
        assert door(db, event, "inspect_registration", registration.id).verdict is verdict
        assert arrived(db, registration) == 0


def test_a_stale_ticket_of_a_party_now_waiting_is_refused_before_already_in(
    db: Database, event: Event
) -> None:
    """The fixed order: cancelled/waitlisted/pending come before "already checked in"."""
    registration = confirmed(db, event)
    scan(db, event, registration.ticket_code)
    with db.transaction() as session:
        row = session.get(Registration, registration.id)
        assert row is not None
        row.status = S.WAITLISTED  # not reachable through the services; the order is the point
    assert scan(db, event, registration.ticket_code).verdict is Verdict.WAITLISTED
    with db.transaction() as session:
        row = session.get(Registration, registration.id)
        assert row is not None
        # Not reachable either: a party someone of which came in cannot be cancelled.
        row.status = S.CANCELLED
    assert scan(db, event, registration.ticket_code).verdict is Verdict.CANCELLED


def test_a_ticket_for_another_date_names_that_event_and_nobody(
    db: Database, make: Factories, event: Event
) -> None:
    with db.transaction() as session:
        service = EventService(session)
        other = service.create(
            session.get(Event, event.id).community,  # type: ignore[union-attr]
            EventInput(
                title="Thursday meetup",
                starts_local="2027-12-02T19:00",
                ends_local="2027-12-02T22:00",
                capacity="5",
            ),
        )
        service.publish(other)
    stranger = confirmed(db, other, "stranger", name="Secret Name")
    result = scan(db, event, stranger.ticket_code)
    assert result.verdict is Verdict.OTHER_EVENT
    assert result.other_event_title == "Thursday meetup"
    assert result.other_event_starts_at == load_event(db, other).starts_at
    assert result.other_event_timezone == load_event(db, other).timezone
    # The other event's registrant stays private: no name, no id, nothing let in.
    assert (result.name, result.registration_id, result.party) == (None, None, 0)
    assert "Secret Name" not in json.dumps(result.as_json())
    assert arrived(db, stranger) == 0
    (row,) = log_rows(db, event)
    assert (row.registration_id, row.other_event_id, row.verdict) == (
        None,
        other.id,
        "other_event",
    )
    # And by id, another event's registrant is simply unknown.
    by_id = by_name(db, event, stranger.id, device="d")
    assert by_id.verdict is Verdict.UNKNOWN


@pytest.mark.parametrize("scanned", ["", "   ", None, 12, ["a" * 27]])
def test_nothing_scanned_is_refused_before_anything_is_written(
    db: Database, event: Event, scanned: Any
) -> None:
    with pytest.raises(ValidationFailed) as failed:
        scan(db, event, scanned)
    assert failed.value.errors in ({"scanned": "required"}, {"scanned": "not_text"})
    assert log_rows(db, event) == []


@pytest.mark.parametrize(
    "scanned",
    [
        "a" * 27,  # the right shape, never issued
        "2" * 27,
        "https://evil.example/t/" + "b" * 27,
        "https://rencontres.example.org/t/",
        "hello world",
        "0" * 27,  # look-alike characters are not in the alphabet
        "\x00\x01\x02",
        "<img src=x onerror=alert(1)>",
        "' OR 1=1 --",
        "\ud800",
        "é" * 50,
        "x" * 10_000_000,
        "/t/" * 5000,
    ],
)
def test_forged_garbage_and_huge_input_is_unknown_without_an_exception(
    db: Database, event: Event, scanned: str
) -> None:
    confirmed(db, event)
    result = scan(db, event, scanned)
    assert result.verdict is Verdict.UNKNOWN
    assert (result.registration_id, result.name, result.admitted_now) == (None, None, 0)
    (row,) = log_rows(db, event)
    assert row.verdict == "unknown" and row.registration_id is None


# -- idempotency -------------------------------------------------------------------------
def test_a_retried_scan_gets_the_same_answer_and_writes_nothing(db: Database, event: Event) -> None:
    registration = confirmed(db, event, guests=2)
    first = scan(db, event, registration.ticket_code, nonce="retry-n-1", people=2)
    retry = scan(db, event, registration.ticket_code, nonce="retry-n-1", people=2)
    assert retry.replayed and not first.replayed
    assert (retry.verdict, retry.admitted_now, retry.arrived, retry.check_in_id) == (
        Verdict.ADMITTED,
        2,
        2,
        first.check_in_id,
    )
    assert len(log_rows(db, event)) == 1 and arrived(db, registration) == 2
    # A retry carries the same nonce even if a later scan happened meanwhile.
    other = scan(db, event, registration.ticket_code, nonce="retry-n-2")
    assert (other.verdict, other.admitted_now, other.arrived) == (Verdict.ADMITTED, 1, 3)
    again = scan(db, event, registration.ticket_code, nonce="retry-n-1", people=2)
    assert (again.verdict, again.admitted_now, again.arrived) == (Verdict.ADMITTED, 2, 2)
    later = scan(db, event, registration.ticket_code, nonce="retry-n-3")
    assert later.verdict is Verdict.ALREADY_CHECKED_IN
    assert len(log_rows(db, event)) == 3 and arrived(db, registration) == 3


def test_refusals_are_idempotent_too(db: Database, event: Event) -> None:
    first = scan(db, event, "garbage", nonce="same-nonce")
    second = scan(db, event, "garbage", nonce="same-nonce")
    assert first.verdict is second.verdict is Verdict.UNKNOWN
    assert second.replayed and second.check_in_id == first.check_in_id
    assert len(log_rows(db, event)) == 1


@pytest.mark.parametrize("odd", ["é" * 500, "short", "with space", "srv-" + "0" * 32])
def test_a_malformed_nonce_is_refused_not_rewritten(db: Database, event: Event, odd: str) -> None:
    """A rewritten nonce (it used to be hashed) would stop matching its retry unnoticed."""
    registration = confirmed(db, event)
    with pytest.raises(ValidationFailed) as failed:
        scan(db, event, registration.ticket_code, nonce=odd)
    assert failed.value.errors == {"nonce": "invalid_characters"}
    assert log_rows(db, event) == [] and arrived(db, registration) == 0


def test_a_scan_without_a_nonce_counts_without_retry_protection(db: Database, event: Event) -> None:
    registration = confirmed(db, event, guests=1)
    first = scan(db, event, registration.ticket_code, nonce="", people=1)
    second = scan(db, event, registration.ticket_code, nonce=None, people=1)
    assert (first.admitted_now, second.admitted_now, second.replayed) == (1, 1, False)
    assert [row.nonce[:4] for row in log_rows(db, event)] == ["srv-", "srv-"]


def test_the_same_nonce_on_another_event_is_another_scan(
    db: Database, make: Factories, event: Event
) -> None:
    second = open_event(db, make)
    a, b = confirmed(db, event), confirmed(db, second)
    assert scan(db, event, a.ticket_code, nonce="shared-nonce").verdict is Verdict.ADMITTED
    assert scan(db, second, b.ticket_code, nonce="shared-nonce").verdict is Verdict.ADMITTED


# -- partial arrival and undo -------------------------------------------------------------
def test_a_party_of_three_arrives_two_now_one_later(db: Database, event: Event) -> None:
    registration = confirmed(db, event, guests=2)
    now = scan(db, event, registration.ticket_code, people=2, device="door 1")
    assert (now.verdict, now.admitted_now, now.arrived, now.party) == (Verdict.ADMITTED, 2, 2, 3)
    assert door(db, event, "inspect", registration.ticket_code).admitted_now == 1
    later = scan(db, event, registration.ticket_code, device="door 2")
    assert (later.verdict, later.admitted_now, later.arrived) == (Verdict.ADMITTED, 1, 3)
    assert later.first_device == "door 1"  # the party's FIRST check-in
    assert later.first_checked_in_at == now.first_checked_in_at
    done = scan(db, event, registration.ticket_code, people=1)
    assert (done.verdict, done.arrived) == (Verdict.ALREADY_CHECKED_IN, 3)
    assert arrived(db, registration) == 3


def test_asking_for_more_people_than_are_left_admits_those_left(db: Database, event: Event) -> None:
    registration = confirmed(db, event, guests=1)
    scan(db, event, registration.ticket_code, people=1)
    result = scan(db, event, registration.ticket_code, people=5)
    assert (result.verdict, result.admitted_now, result.arrived) == (Verdict.ADMITTED, 1, 2)


@pytest.mark.parametrize("people", [0, -1, "two"])
def test_a_nonsense_head_count_is_a_validation_error(
    db: Database, event: Event, people: Any
) -> None:
    registration = confirmed(db, event)
    with pytest.raises(ValidationFailed) as failed:
        scan(db, event, registration.ticket_code, people=people)
    assert "people" in failed.value.errors
    assert log_rows(db, event) == [] and arrived(db, registration) == 0


def test_undo_takes_back_the_last_admission(db: Database, event: Event) -> None:
    registration = confirmed(db, event, guests=2)
    first = scan(db, event, registration.ticket_code, people=2)
    second = scan(db, event, registration.ticket_code)
    undone = undo(db, event, second.check_in_id)
    assert (undone.verdict, undone.admitted_now, undone.arrived) == (Verdict.UNDONE, 1, 2)
    assert arrived(db, registration) == 2
    with pytest.raises(Conflict) as twice:
        undo(db, event, second.check_in_id)
    assert twice.value.code == "already_undone"
    undo(db, event, first.check_in_id)
    assert arrived(db, registration) == 0
    again = scan(db, event, registration.ticket_code)
    assert (again.verdict, again.admitted_now, again.arrived) == (Verdict.ADMITTED, 3, 3)
    log = door(db, event, "log")
    assert [(r.action, r.undone) for r in log] == [
        ("scan", False),
        ("undo", False),
        ("undo", False),
        ("scan", True),
        ("scan", True),
    ]


def test_only_this_events_admissions_can_be_undone(
    db: Database, make: Factories, event: Event
) -> None:
    registration = confirmed(db, event)
    refused = scan(db, event, "nope")
    admitted = scan(db, event, registration.ticket_code)
    other = open_event(db, make)
    for event_, check_in_id in [
        (event, refused.check_in_id),
        (other, admitted.check_in_id),
        (event, uuid4()),
    ]:
        with pytest.raises(NotFound):
            undo(db, event_, check_in_id, device="d")
    with pytest.raises(ValidationFailed) as malformed:
        undo(db, event, "not-a-uuid")
    assert malformed.value.errors == {"check_in_id": "invalid_choice"}
    assert arrived(db, registration) == 1


def test_inspect_writes_nothing(db: Database, event: Event) -> None:
    registration = confirmed(db, event, guests=1)
    would = door(db, event, "inspect", registration.ticket_code)
    assert (would.verdict, would.admitted_now, would.arrived, would.check_in_id) == (
        Verdict.ADMITTED,
        2,
        0,
        None,
    )
    assert door(db, event, "inspect", "rubbish").verdict is Verdict.UNKNOWN
    assert log_rows(db, event) == [] and arrived(db, registration) == 0


# -- offline -------------------------------------------------------------------------------
def test_an_offline_scan_keeps_its_real_time(db: Database, event: Event) -> None:
    registration = confirmed(db, event)
    real = datetime.now(UTC) - timedelta(minutes=17)
    result = scan(db, event, registration.ticket_code, offline=True, scanned_at=real)
    assert result.verdict is Verdict.ADMITTED
    assert result.first_checked_in_at == real
    (row,) = log_rows(db, event)
    assert row.offline and row.scanned_at == real
    assert row.created_at - real > timedelta(minutes=16)  # recorded when it synced


def test_a_scan_time_in_the_future_is_clamped_to_now(db: Database, event: Event) -> None:
    registration = confirmed(db, event)
    scan(db, event, registration.ticket_code, offline=True, scanned_at=utcnow() + timedelta(days=1))
    (row,) = log_rows(db, event)
    assert row.scanned_at <= utcnow()


def test_the_same_ticket_admitted_offline_on_two_devices_is_flagged_not_counted_twice(
    db: Database, event: Event
) -> None:
    registration = confirmed(db, event, guests=1)
    at = utcnow() - timedelta(minutes=5)
    first = scan(db, event, registration.ticket_code, device="door 1", offline=True, scanned_at=at)
    second = scan(
        db,
        event,
        registration.ticket_code,
        device="door 2",
        offline=True,
        scanned_at=at + timedelta(seconds=30),
    )
    assert first.verdict is Verdict.ADMITTED and not first.conflict
    assert second.verdict is Verdict.ALREADY_CHECKED_IN and second.conflict
    assert second.first_device == "door 1"
    rows = log_rows(db, event)
    assert [(r.device, r.conflict, r.people) for r in rows] == [
        ("door 1", False, 2),
        ("door 2", True, 0),
    ]
    counters = door(db, event, "counters", now=utcnow())
    assert (counters.checked_in, counters.parties_checked_in, counters.conflicts) == (2, 1, 1)
    # An online repeat is no conflict, nor the same device's own duplicate.
    assert not scan(db, event, registration.ticket_code, device="door 2").conflict
    assert not scan(db, event, registration.ticket_code, device="door 1", offline=True).conflict
    assert door(db, event, "counters", now=utcnow()).conflicts == 1


@pytest.mark.parametrize("first_offline", [True, False])
def test_a_phone_renamed_between_two_scans_is_no_conflict(
    db: Database, event: Event, first_offline: bool
) -> None:
    """The label is the volunteer's to change ("door 1" → "Sam"); the phone's key stays."""
    registration = confirmed(db, event)
    at = utcnow() - timedelta(minutes=5)
    phone, other_phone = "phone-key-0001", "phone-key-0002"
    first = scan(
        db,
        event,
        registration.ticket_code,
        device="door 1",
        device_key=phone,
        offline=first_offline,
        scanned_at=at,
    )
    assert first.verdict is Verdict.ADMITTED
    renamed = scan(
        db, event, registration.ticket_code, device="Sam", device_key=phone, offline=True
    )
    assert renamed.verdict is Verdict.ALREADY_CHECKED_IN and not renamed.conflict
    elsewhere = scan(
        db, event, registration.ticket_code, device="door 1", device_key=other_phone, offline=True
    )
    assert elsewhere.conflict  # another phone, although it bears the same label
    assert door(db, event, "counters", now=utcnow()).conflicts == 1
    assert [row.device_key for row in log_rows(db, event)] == [phone, phone, other_phone]


# -- walk-ins ------------------------------------------------------------------------------
def walk_in(
    db: Database, event: Event, name: str = "Walk In", locale: str = "en", **fields: Any
) -> ScanResult:
    return door(db, event, "walk_in", walk_in_of(name, **fields), locale=locale)


def test_a_walk_in_is_registered_and_checked_in_at_once(db: Database, event: Event) -> None:
    confirmed(db, event)
    before = len(outbox(db))
    result = walk_in(db, event, "Zoé Walker", guests=1)
    assert (result.verdict, result.admitted_now, result.arrived, result.party) == (
        Verdict.ADMITTED,
        2,
        2,
        2,
    )
    with db.session() as session:
        registration = session.get(Registration, result.registration_id)
        assert registration is not None
        assert registration.walk_in and registration.status is S.CONFIRMED
        assert registration.ticket_code and ticket_code_from(registration.ticket_code)
        assert registration.email.endswith("@door.invalid")
        assert registration.arrived == 2
    assert load_event(db, event).taken == 3
    # No address, no mail: nothing queued for the placeholder.
    assert len(outbox(db)) == before
    (row,) = log_rows(db, event)
    assert (row.action, row.verdict, row.people) == ("walk_in", "admitted", 2)
    # Later mails to everyone (the event is cancelled) skip the placeholder too.
    with db.transaction() as session:
        EventService(session).cancel(session.get(Event, event.id), "Flooded")
    addresses = [m.to_address for m in outbox(db)]
    assert addresses and not [a for a in addresses if a.endswith(".invalid")]


def test_a_walk_in_with_an_address_gets_the_usual_confirmation(db: Database, event: Event) -> None:
    result = walk_in(db, event, "Mail Person", email="Walk@Example.org")
    assert result.verdict is Verdict.ADMITTED
    (message,) = outbox(db)
    assert (message.to_address, message.kind) == ("walk@example.org", "confirmed")


def test_a_walk_in_with_an_address_already_registered_looks_like_any_other(
    db: Database, event: Event
) -> None:
    """The door must not learn who is registered (a door link is handed to volunteers):
    an address holding a place is treated as if none had been given."""
    registered = confirmed(db, event, "known", name="Known Person")
    before = len(outbox(db))
    known = walk_in(db, event, "Someone", email=registered.email.upper())
    new = walk_in(db, event, "Someone", email="nobody-yet@example.org")
    shape = ("verdict", "name", "party", "arrived", "admitted_now", "replayed", "conflict")
    assert [getattr(known, f) for f in shape] == [getattr(new, f) for f in shape]
    with db.session() as session:
        walked = session.get(Registration, known.registration_id)
        assert walked is not None and walked.email.endswith("@door.invalid")
        kept = session.get(Registration, registered.id)
        assert kept is not None and kept.arrived == 0 and kept.status is S.CONFIRMED
    # Only the new address is mailed; the registered person hears nothing of it.
    assert [m.to_address for m in outbox(db)[before:]] == ["nobody-yet@example.org"]


def test_a_walk_in_is_mailed_in_the_language_of_the_door(db: Database, event: Event) -> None:
    result = walk_in(db, event, "Marie", email="marie@example.org", locale="fr")
    with db.session() as session:
        assert session.get(Registration, result.registration_id).locale == "fr"  # type: ignore[union-attr]
    (message,) = outbox(db)
    assert message.subject.startswith("Votre place")


def test_a_retried_walk_in_registers_once(db: Database, event: Event) -> None:
    first = walk_in(db, event, nonce="walk-in-1")
    retry = walk_in(db, event, nonce="walk-in-1")
    assert retry.replayed and retry.registration_id == first.registration_id
    assert (retry.verdict, retry.admitted_now) == (Verdict.ADMITTED, 1)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Registration)) == 1
    assert load_event(db, event).taken == 1


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"name": "  "}, {"name": "required"}),
        ({"name": "x" * 121}, {"name": "too_long"}),
        ({"name": "a\nb"}, {"name": "invalid_characters"}),
        ({"guests": 4}, {"guests": "out_of_range"}),
        ({"guests": "lots"}, {"guests": "invalid_number"}),
        ({"email": "not-an-address"}, {"email": "invalid_email"}),
        ({"name": "", "guests": -1}, {"name": "required", "guests": "out_of_range"}),
    ],
)
def test_walk_in_input_is_validated(
    db: Database, event: Event, fields: dict[str, Any], errors: dict[str, str]
) -> None:
    fields.setdefault("name", "Walk In")
    with pytest.raises(ValidationFailed) as failed:
        walk_in(db, event, **fields)
    assert failed.value.errors == errors
    assert log_rows(db, event) == [] and load_event(db, event).taken == 0


def test_walk_ins_are_refused_when_full(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="2", guest_allowance=1)
    walk_in(db, event, "First")
    with pytest.raises(Conflict) as full:
        walk_in(db, event, "Pair", guests=1)
    assert full.value.code == "event_full"
    assert walk_in(db, event, "Last one").verdict is Verdict.ADMITTED
    with pytest.raises(Conflict):
        walk_in(db, event, "Too many")
    assert load_event(db, event).taken == 2
    assert [r.action for r in log_rows(db, event)] == ["walk_in", "walk_in"]


def test_walk_ins_may_exceed_capacity_when_the_organiser_allows_it(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make, capacity="1", guest_allowance=2, walk_ins_over_capacity=True)
    confirmed(db, event)
    result = walk_in(db, event, "Over", guests=2)
    assert result.verdict is Verdict.ADMITTED and result.admitted_now == 3
    loaded = load_event(db, event)
    assert (loaded.taken, loaded.capacity, loaded.places_left) == (4, 1, 0)


def test_the_organiser_switches_walk_ins_over_capacity(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="1")
    walk_in(db, event)
    with pytest.raises(Conflict):
        walk_in(db, event)
    door(db, event, "allow_walk_ins_over_capacity", "on")
    assert load_event(db, event).walk_ins_over_capacity
    assert walk_in(db, event).verdict is Verdict.ADMITTED
    door(db, event, "allow_walk_ins_over_capacity", "")
    assert not load_event(db, event).walk_ins_over_capacity
    with pytest.raises(Conflict):
        walk_in(db, event)
    assert load_event(db, event).taken == 2


def test_no_walk_ins_for_an_event_that_is_not_published(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    with db.transaction() as session:
        EventService(session).cancel(session.get(Event, event.id), "")
    assert load_event(db, event).status is EventStatus.CANCELLED
    with pytest.raises(Conflict) as closed:
        walk_in(db, event)
    assert closed.value.code == "registration_closed"


# -- search ---------------------------------------------------------------------------------
def test_search_by_name_ignores_case_and_accents_and_shows_status(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make, capacity="3", guest_allowance=2)
    elodie = confirmed(db, event, "e", name="Élodie Durand", guests=1)
    confirmed(db, event, "m", name="Marc Lodi")
    waiting = register(db, event, person("w", name="Lodovic Wait")).registration
    cancelled = register(db, event, person("c", name="Melodie Gone")).registration
    act(db, cancelled.id, "cancel")
    scan(db, event, elodie.ticket_code, people=1)
    rows = search(db, event, "LODI")
    # Word starts first ("Lodi..."), then other matches; the cancelled party is not listed.
    assert [r.name for r in rows] == ["Marc Lodi", "Élodie Durand"]
    assert search(db, event, "lodo")[0].status == "waitlisted"
    assert search(db, event, "lodo")[0].registration_id == waiting.id
    (found,) = search(db, event, "ELODIE")
    assert (found.registration_id, found.party, found.arrived, found.status) == (
        elodie.id,
        2,
        1,
        "confirmed",
    )
    assert search(db, event, "e") == []
    assert search(db, event, "   ") == []
    assert search(db, event, "%") == []
    assert len(search(db, event, "od", limit=1)) == 1
    assert "example.org" not in repr(search(db, event, "od"))


def test_check_in_from_the_search_works_like_a_scan(db: Database, event: Event) -> None:
    registration = confirmed(db, event, guests=1)
    result = by_name(db, event, registration.id, nonce="search-1", device="door 1")
    assert (result.verdict, result.admitted_now) == (Verdict.ADMITTED, 2)
    assert scan(db, event, registration.ticket_code).verdict is Verdict.ALREADY_CHECKED_IN


# -- counters, snapshot, report, log ----------------------------------------------------
def test_counters_count_people_walk_ins_buckets_and_conflicts(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make, capacity="20", guest_allowance=3)
    parties = [confirmed(db, event, n, guests=g) for n, g in enumerate([0, 1, 2, 3])]
    # Offline scan times lie in the past (a time in the future would be clamped to now).
    two_hours_ago = utcnow() - timedelta(hours=2)
    base = two_hours_ago.replace(
        minute=two_hours_ago.minute - two_hours_ago.minute % 10, second=0, microsecond=0
    )
    scan(db, event, parties[0].ticket_code, offline=True, scanned_at=base + timedelta(minutes=3))
    scan(db, event, parties[1].ticket_code, offline=True, scanned_at=base + timedelta(minutes=9))
    scan(
        db,
        event,
        parties[2].ticket_code,
        people=2,
        offline=True,
        scanned_at=base + timedelta(minutes=31),
    )
    scan(
        db,
        event,
        parties[0].ticket_code,
        device="door 9",
        offline=True,
        scanned_at=base + timedelta(minutes=32),
    )
    walk_in(db, event, "Walker", guests=1)
    counters = door(db, event, "counters", now=base + timedelta(minutes=45))
    assert counters.expected == 1 + 2 + 3 + 4 + 2
    assert counters.checked_in == 1 + 2 + 2 + 2
    assert counters.walk_ins == 2
    assert counters.parties_checked_in == 4
    assert counters.conflicts == 1
    buckets = dict(counters.arrivals)
    # Offline scans count at their real time: 3 in the first ten minutes, 2 at 18:30.
    assert buckets[base] == 3
    assert buckets[base + timedelta(minutes=10)] == 0
    assert buckets[base + timedelta(minutes=30)] == 2
    assert counters.arrivals[0][0] == base
    assert [b - a for (a, _), (b, _) in pairwise(counters.arrivals)] == [timedelta(minutes=10)] * (
        len(counters.arrivals) - 1
    )
    assert sum(n for _, n in counters.arrivals) == counters.checked_in
    assert json.loads(json.dumps(counters.as_json()))["checked_in"] == 7


def test_counters_of_an_empty_door(db: Database, event: Event) -> None:
    confirmed(db, event, guests=2)
    counters = door(db, event, "counters", now=utcnow())
    assert (counters.checked_in, counters.expected, counters.arrivals, counters.conflicts) == (
        0,
        3,
        [],
        0,
    )


def test_the_changes_marker_moves_with_every_scan(db: Database, event: Event) -> None:
    registration = confirmed(db, event)
    before = door(db, event, "changes")
    scan(db, event, registration.ticket_code)
    after = door(db, event, "changes")
    assert before != after
    assert door(db, event, "changes") == after


def test_the_snapshot_holds_salted_hashes_first_names_and_no_codes_or_addresses(
    db: Database, event: Event
) -> None:
    alice = confirmed(db, event, "alice", name="Alice Martin", guests=2)
    bob = confirmed(db, event, "bob", name="Bob Stone")
    gone = confirmed(db, event, "gone", name="Gina Gone")
    act(db, gone.id, "cancel")
    later = confirmed(db, event, "later", name="Lee Later")
    scan(db, event, bob.ticket_code)
    scan(db, event, alice.ticket_code, people=1)
    snapshot = door(db, event, "snapshot")
    text = json.dumps(snapshot)
    with db.session() as session:
        registrations = list(
            session.scalars(select(Registration).where(Registration.event_id == event.id))
        )
    for registration in registrations:
        assert registration.email not in text
        if registration.ticket_code:
            assert registration.ticket_code not in text
    assert "Martin" not in text and "Stone" not in text
    salt = snapshot["salt"]
    assert snapshot["event"] == event.slug and len(salt) >= 16
    by_hash = {t["h"]: t for t in snapshot["tickets"]}

    def entry(registration: Registration) -> dict[str, Any]:
        code = registration.ticket_code or ""
        return by_hash[hashlib.sha256((salt + code).encode()).hexdigest()]

    assert entry(alice) == {
        "h": entry(alice)["h"],
        "name": "Alice",
        "party": 3,
        "arrived": 1,
        "status": "admitted",
        "at": entry(alice)["at"],
    }
    assert (entry(bob)["status"], entry(bob)["arrived"]) == ("already_checked_in", 1)
    assert entry(gone)["status"] == "cancelled"
    assert entry(later) == {
        "h": entry(later)["h"],
        "name": "Lee",
        "party": 1,
        "arrived": 0,
        "status": "admitted",
    }
    assert len(snapshot["tickets"]) == 4
    # A new snapshot gets a new salt: hashes cannot be matched across snapshots.
    assert door(db, event, "snapshot")["salt"] != salt


def test_the_report_after_the_event(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="20", guest_allowance=3)
    came = confirmed(db, event, "came", guests=1)
    partly = confirmed(db, event, "partly", guests=3)
    confirmed(db, event, "absent", guests=2)
    confirmed(db, event, "absent-2")
    cancelled = confirmed(db, event, "cancelled")
    act(db, cancelled.id, "cancel")
    scan(db, event, came.ticket_code)
    scan(db, event, partly.ticket_code, people=2)
    walk_in(db, event, "Walker", guests=2)
    during = load_event(db, event).starts_at + timedelta(minutes=30)
    report = door(db, event, "report", now=during)
    assert report.started
    assert (report.registered_parties, report.registered_people) == (4, 2 + 4 + 3 + 1)
    assert (report.attended_parties, report.attended_people) == (2, 4)
    assert (report.no_show_parties, report.no_show_people) == (2, 6)
    assert (report.walk_in_parties, report.walk_in_people) == (1, 3)
    assert report.attendance_rate == pytest.approx(0.4)
    assert report.total_people == 7
    assert sum(n for _, n in report.arrivals) == 7
    empty = open_event(db, make)
    assert door(db, empty, "report", now=during).attendance_rate is None


def test_before_the_event_nobody_is_a_no_show(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="20", guest_allowance=1)
    early = confirmed(db, event, "early", guests=1)
    confirmed(db, event, "later")
    scan(db, event, early.ticket_code)  # doors open before the start
    starts_at = load_event(db, event).starts_at
    before = door(db, event, "report", now=starts_at - timedelta(minutes=1))
    assert not before.started
    assert (before.attendance_rate, before.no_show_parties, before.no_show_people) == (
        None,
        None,
        None,
    )
    assert (before.attended_people, before.registered_people) == (2, 3)
    at_start = door(db, event, "report", now=starts_at)
    assert at_start.started and at_start.no_show_parties == 1
    assert at_start.attendance_rate == pytest.approx(2 / 3)


def test_the_log_is_newest_first_with_names_and_no_addresses(db: Database, event: Event) -> None:
    registration = confirmed(db, event, name="<img src=x onerror=alert(1)>")
    scan(db, event, "nothing", device="door 1")
    scan(db, event, registration.ticket_code, device="door 2", actor_id=uuid4())
    link_id = uuid4()
    scan(db, event, registration.ticket_code, device="door 3", door_link_id=link_id)
    log = door(db, event, "log")
    assert [(r.verdict, r.device) for r in log] == [
        ("already_checked_in", "door 3"),
        ("admitted", "door 2"),
        ("unknown", "door 1"),
    ]
    assert log[0].name == "<img src=x onerror=alert(1)>"  # escaping is the page's job
    assert log[0].door_link_id == link_id and log[1].actor_id is not None
    assert log[2].name is None
    assert "example.org" not in repr(log)
    assert len(door(db, event, "log", limit=2)) == 2


def test_results_as_json_never_carry_an_address(db: Database, event: Event) -> None:
    registration = confirmed(db, event, "json")
    result = scan(db, event, registration.ticket_code)
    data = json.loads(json.dumps(result.as_json()))
    assert data["verdict"] == "admitted" and data["name"] == "Person json"
    assert UUID(data["registration_id"]) == registration.id
    assert UUID(data["check_in_id"]) == result.check_in_id
    assert "@" not in json.dumps(data)


def test_device_labels_are_cleaned(db: Database, event: Event) -> None:
    registration = confirmed(db, event)
    result = scan(db, event, registration.ticket_code, device="  door\n\x00 7 " + "x" * 100)
    assert result.first_device is not None
    assert result.first_device.startswith("door 7 xxx") and len(result.first_device) == 60
    assert "\x00" not in result.first_device


def test_the_event_days_are_those_of_its_time_zone(db: Database, make: Factories) -> None:
    """Tokyo, 23:00 to 01:30: two days there, whatever the server's zone or UTC says."""
    community = make.community()
    with db.transaction() as session:
        event = EventService(session).create(
            community,
            EventInput(
                title="Late night",
                starts_local="2027-03-04T23:00",
                ends_local="2027-03-05T01:30",
                timezone="Asia/Tokyo",
                capacity="10",
            ),
        )
    assert [day.isoformat() for day in event_days(event)] == ["2027-03-04", "2027-03-05"]
    tokyo_morning_of_the_4th = datetime(2027, 3, 3, 23, 30, tzinfo=UTC)  # 08:30 in Tokyo
    assert is_event_day(event, tokyo_morning_of_the_4th)
    assert not is_event_day(event, datetime(2027, 3, 3, 14, 0, tzinfo=UTC))  # 23:00 the 3rd
    assert is_event_day(event, datetime(2027, 3, 5, 14, 0, tzinfo=UTC))  # 23:00 the 5th
    assert not is_event_day(event, datetime(2027, 3, 5, 15, 0, tzinfo=UTC))  # 00:00 the 6th
