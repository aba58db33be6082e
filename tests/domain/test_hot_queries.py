"""The hot writes' look-ups use their indexes, so a registration costs the same with 10 or
10,000 registrations for the event (with the statuses as bound parameters, SQLite could
not use the active-address index and read every registration of the event instead)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.sql import Executable

from events.database import Database
from events.models import CheckInAction, RegistrationStatus
from events.services import door, registrations
from tests.factories import Factories
from tests.mail.scenario import open_event

#: Registrations of the event when the plans are asked for: enough for the planners'
#: statistics to make reading all of them the costly choice it is.
MANY = 2_000

VALUES: dict[str, Any] = {
    "event_id": UUID(int=1),  # replaced by the crowded event's id
    "email": "a@example.org",
    "request_key": "k",
    "key": "code",
    "nonce": "n",
    # The direct admission's (events/services/door_admission.py).
    "scan_key": "code",
    "scan_nonce": "n",
    "scan_people": None,
    "scan_check_in_id": UUID(int=2),
    "scan_community_id": UUID(int=3),
    "scan_device": "door",
    "scan_device_key": None,
    "scan_actor_id": None,
    "scan_door_link_id": None,
    "scan_offline": False,
    "scan_scanned_at": "2030-01-01 00:00:00",
    "scan_now": "2030-01-01 00:00:00",
}


@pytest.fixture
def crowded(db: Database, make: Factories) -> UUID:
    """An event with :data:`MANY` registrations, each checked in, and fresh planner
    statistics."""
    event = open_event(db, make, capacity="", title="Crowded")
    with db.transaction() as session:
        session.execute(
            registrations._INSERT_REGISTRATION,
            [
                {
                    "id": UUID(int=n + 10),
                    "event_id": event.id,
                    "name": f"P{n}",
                    "email": f"p{n}@example.org",
                    "guests": 0,
                    "status": RegistrationStatus.CONFIRMED,
                    "manage_token_hash": f"{n:064x}",
                    "ticket_code": f"code{n}",
                    "locale": "en",
                    "opt_in": False,
                    "consent_at": event.created_at,
                    "request_key": f"key{n}",
                    "answers": {},
                }
                for n in range(MANY)
            ],
        )
        session.execute(
            door._INSERT_CHECK_IN,
            [
                {
                    "id": UUID(int=MANY + n + 10),
                    "event_id": event.id,
                    "registration_id": UUID(int=n + 10),
                    "nonce": f"nonce{n}",
                    "action": CheckInAction.SCAN,
                    "verdict": "admitted",
                    "people": 1,
                    "arrived": 1,
                    "device": "door",
                    "offline": False,
                    "conflict": False,
                    "scanned_at": event.created_at,
                }
                for n in range(MANY)
            ],
        )
    with db.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return event.id


def query_plan(db: Database, statement: Executable, event_id: UUID) -> str:
    with db.engine.connect() as connection:
        compiled = statement.compile(dialect=connection.dialect)
        params = compiled.construct_params(
            {**VALUES, "event_id": event_id, "scan_event_id": event_id}
        )
        if db.is_sqlite:
            positional = tuple(
                params[name].bytes if isinstance(params[name], UUID) else params[name]
                for name in compiled.positiontup or ()
            )
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", positional)
            return "\n".join(str(row[-1]) for row in rows)
        rows = connection.exec_driver_sql(f"EXPLAIN {compiled}", params)
        return "\n".join(str(row[0]) for row in rows)


@pytest.mark.parametrize(
    ("statement", "index", "only_on"),
    [
        (registrations._EARLIER_BY_ADDRESS, "uq_registration_active_email", None),
        (registrations._EARLIER_BY_KEY_OR_ADDRESS, "uq_registration_active_email", None),
        (door._BY_CODE[True], "ticket_code", None),
        (door._NONCE_SEEN, "nonce", None),
        (door._DIRECT._by_code, "ticket_code", "postgresql"),
        (door._DIRECT._sqlite_by_code, "ticket_code", "sqlite"),
    ],
    ids=[
        "address",
        "request-key-or-address",
        "ticket-code",
        "scan-nonce",
        "direct-admission",
        "direct-admission-sqlite",
    ],
)
def test_the_hot_look_ups_use_an_index(
    db: Database, crowded: UUID, statement: Executable, index: str, only_on: str | None
) -> None:
    if only_on is not None and db.engine.dialect.name != only_on:
        pytest.skip(f"{only_on}'s statement")
    found = query_plan(db, statement, crowded)
    # A community's webhook endpoints are a handful of rows: reading them all is fine.
    scans = [line for line in found.splitlines() if "Seq Scan" in line]
    assert all("Seq Scan on webhook_endpoint" in line for line in scans), found
    assert not any(line.startswith("SCAN") for line in found.splitlines()), found
    assert index in found, found  # an index on it, by name or by its column
