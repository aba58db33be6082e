"""The door's direct admission: one statement on PostgreSQL, two on SQLite.

The general check-in (``DoorService._scan``) runs four statements to let a party in: lock
the registration, look for the nonce, add to ``arrived``, append the log row. On
PostgreSQL each is a network round trip, taken while the registration is locked and, in a
group-commit batch, while every later scan of the batch waits: the batch thread spent two
thirds of its time waiting (docs/performance.md). This module does the same writes in ONE
statement of data-modifying CTEs there:

* ``found`` locks the registration (``FOR UPDATE``: concurrent scans of one ticket queue
  here, and each then reads the row as the previous one left it);
* ``logged`` appends the log row, only for an admission: this event's registration, not
  refused by its status, someone of the party still out, no log row of this event with
  the scan's nonce. ``ON CONFLICT DO NOTHING`` on the nonce covers a retry committed
  after the statement began (its snapshot would not show it): nothing is written then;
* ``admitted`` adds the people of the row just logged to ``arrived``.

SQLite has no data-modifying CTEs, and no round trips to save, but each statement costs
the batch's thread its Python around it while the database's one write lock is held. There
the log row is appended straight from the registration under the same conditions
(``INSERT … SELECT … RETURNING``), then ``arrived`` is raised (``UPDATE … RETURNING``):
two statements, none through the ORM. One writer at a time: nothing changes the
registration between the two.

It only ever admits. Whenever it does not (unknown ticket, another event, a refusal, a
nonce already seen), it has written nothing and the general path decides and answers, so
the order of checks and every refusal live in one place. The admission rule is the
general path's own (``refusal_statuses``: the statuses ``_judge`` refuses).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Integer,
    String,
    bindparam,
    exists,
    false,
    func,
    literal,
    null,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import Insert

from events.models import CheckIn, CheckInAction, Registration, RegistrationStatus
from events.models.base import new_id, table_of
from events.webhook_queue import anyone_subscribed

_checkins = table_of(CheckIn)
_registrations = table_of(Registration)
_uuid = _checkins.c.id.type


@dataclass(frozen=True, slots=True)
class Admission:
    """A party let in (by either path), and what the door shows."""

    check_in_id: UUID
    registration_id: UUID
    name: str
    party: int
    #: People of the party in after this scan.
    arrived: int
    #: People let in by this scan.
    people: int
    #: Whether a webhook endpoint of the community hears of check-ins (asked in the same
    #: statement; None: not asked, the general path looks it up).
    webhooks: bool | None = None


def _logged_row(found: Any, least: Any) -> tuple[dict[str, Any], Any]:
    """The log row of an admission, read from ``found`` (the registration's columns), and
    the people of the party still out. ``least``: the dialect's smaller-of-two."""
    event_id = bindparam("scan_event_id", type_=_uuid)
    remaining = 1 + found.c.guests - found.c.arrived
    wanted = bindparam("scan_people", type_=Integer)  # None: all of the party still out
    people = least(func.coalesce(wanted, remaining), remaining)
    now = bindparam("scan_now", type_=_checkins.c.created_at.type)
    row = {
        "id": bindparam("scan_check_in_id", type_=_uuid),
        "event_id": event_id,
        "registration_id": found.c.id,
        "other_event_id": null(),
        "nonce": bindparam("scan_nonce", type_=String),
        "action": literal(CheckInAction.SCAN.value, String),
        "verdict": literal("admitted", String),  # Verdict.ADMITTED (events/services/door.py)
        "people": people,
        "arrived": found.c.arrived + people,
        "device": bindparam("scan_device", type_=String),
        "device_key": bindparam("scan_device_key", type_=String),
        "actor_id": bindparam("scan_actor_id", type_=_uuid),
        "door_link_id": bindparam("scan_door_link_id", type_=_uuid),
        "offline": bindparam("scan_offline", type_=Boolean),
        "conflict": false(),
        "scanned_at": bindparam("scan_scanned_at", type_=_checkins.c.scanned_at.type),
        "undoes_id": null(),
        "sa_orm_sentinel": null(),
        "created_at": now,
        "updated_at": now,
    }
    return row, remaining


def _admits(
    found: Any, remaining: Any, refusal_statuses: Collection[RegistrationStatus]
) -> list[ColumnElement[bool]]:
    """When the general path would admit: this event's registration, not refused by its
    status, someone of the party still out, the scan's nonce not seen at this event."""
    event_id = bindparam("scan_event_id", type_=_uuid)
    nonce = bindparam("scan_nonce", type_=String)
    return [
        found.c.event_id == event_id,
        # One parameter per status, not an expanding list rendered at each run.
        found.c.status.not_in(
            [literal(status, _registrations.c.status.type) for status in refusal_statuses]
        ),
        remaining > 0,
        ~exists(
            select(_checkins.c.id).where(
                _checkins.c.event_id == event_id, _checkins.c.nonce == nonce
            )
        ),
    ]


def _statement(column: Any, refusal_statuses: Collection[RegistrationStatus]) -> Select[Any]:
    """PostgreSQL: the statement finding the registration by ``column``. Its parameters are
    named ``scan_*``: an UPDATE takes a parameter named after one of its columns as a value
    to SET."""
    found = (
        select(
            _registrations.c.id,
            _registrations.c.event_id,
            _registrations.c.status,
            _registrations.c.name,
            _registrations.c.guests,
            _registrations.c.arrived,
        )
        .where(column == bindparam("scan_key"))
        .with_for_update()
        .cte("found")
    )
    row, remaining = _logged_row(found, func.least)
    logged = (
        pg_insert(_checkins)
        .from_select(
            list(row),
            select(*row.values()).where(*_admits(found, remaining, refusal_statuses)),
        )
        .on_conflict_do_nothing(constraint="uq_check_in_nonce")
        .returning(_checkins.c.registration_id, _checkins.c.people)
        .cte("logged")
    )
    admitted = (
        update(_registrations)
        .where(_registrations.c.id == logged.c.registration_id)
        # ``updated_at`` kept: a check-in is not an edit of the registration.
        .values(
            arrived=_registrations.c.arrived + logged.c.people,
            updated_at=_registrations.c.updated_at,
        )
        .returning(_registrations.c.arrived, logged.c.people)
        .cte("admitted")
    )
    community_id = bindparam("scan_community_id", type_=_uuid)
    return select(
        found.c.id,
        found.c.name,
        found.c.guests,
        admitted.c.arrived,
        admitted.c.people,
        anyone_subscribed("checkin.created", community_id).label("webhooks"),
    ).select_from(found.join(admitted, true()))


def _sqlite_log(column: Any, refusal_statuses: Collection[RegistrationStatus]) -> Insert:
    """SQLite (no data-modifying CTEs): the log row appended straight from the
    registration found by ``column``, under the same conditions. SQLite has one writer at
    a time, so nothing changes the registration between this and :data:`_SQLITE_ADMIT`."""
    row, remaining = _logged_row(_registrations, func.min)
    return (
        sqlite_insert(_checkins)
        .from_select(
            list(row),
            select(*row.values()).where(
                column == bindparam("scan_key"),
                *_admits(_registrations, remaining, refusal_statuses),
            ),
        )
        .on_conflict_do_nothing(index_elements=["event_id", "nonce"])
        .returning(_checkins.c.registration_id, _checkins.c.people)
    )


#: SQLite's second statement: the people just logged added to ``arrived``.
_SQLITE_ADMIT = (
    update(_registrations)
    .where(_registrations.c.id == bindparam("scan_registration_id", type_=_uuid))
    # ``updated_at`` kept: a check-in is not an edit of the registration.
    .values(
        arrived=_registrations.c.arrived + bindparam("scan_admitted", type_=Integer),
        updated_at=_registrations.c.updated_at,
    )
    .returning(_registrations.c.name, _registrations.c.guests, _registrations.c.arrived)
)


class DirectAdmission:
    """Built once per set of refusal statuses; ``admit`` runs in the caller's session."""

    def __init__(self, refusal_statuses: Collection[RegistrationStatus]) -> None:
        self._by_code = _statement(_registrations.c.ticket_code, refusal_statuses)
        self._by_id = _statement(_registrations.c.id, refusal_statuses)
        self._sqlite_by_code = _sqlite_log(_registrations.c.ticket_code, refusal_statuses)
        self._sqlite_by_id = _sqlite_log(_registrations.c.id, refusal_statuses)

    def admit(
        self,
        session: Session,
        *,
        event_id: UUID,
        community_id: UUID,
        code: str,
        registration_id: UUID | None,
        nonce: str,
        people: int | None,
        device: str,
        device_key: str | None,
        scanned_at: datetime,
        now: datetime,
        offline: bool,
        actor_id: UUID | None,
        door_link_id: UUID | None,
    ) -> Admission | None:
        """Let the party in if the general path would admit it; None (nothing written)
        otherwise. ``registration_id`` (a person found by name) or ``code`` (a ticket)."""
        by_id = registration_id is not None
        check_in_id = new_id()
        parameters = {
            "scan_key": registration_id if by_id else code,
            "scan_event_id": event_id,
            "scan_community_id": community_id,
            "scan_nonce": nonce,
            "scan_people": people,
            "scan_check_in_id": check_in_id,
            "scan_device": device,
            "scan_device_key": device_key,
            "scan_actor_id": actor_id,
            "scan_door_link_id": door_link_id,
            "scan_offline": offline,
            "scan_scanned_at": scanned_at,
            "scan_now": now,
        }
        connection = session.connection()
        if connection.dialect.name == "sqlite":
            return self._sqlite_admit(connection, check_in_id, by_id, parameters)
        statement = self._by_id if by_id else self._by_code
        row = connection.execute(statement, parameters).first()
        if row is None:
            return None
        found_id, name, guests, arrived, admitted, webhooks = row
        return Admission(check_in_id, found_id, name, 1 + guests, arrived, admitted, bool(webhooks))

    def _sqlite_admit(
        self, connection: Connection, check_in_id: UUID, by_id: bool, parameters: dict[str, Any]
    ) -> Admission | None:
        logged = connection.execute(
            self._sqlite_by_id if by_id else self._sqlite_by_code, parameters
        ).first()
        if logged is None:
            return None
        found_id, admitted = logged
        name, guests, arrived = connection.execute(
            _SQLITE_ADMIT, {"scan_registration_id": found_id, "scan_admitted": admitted}
        ).one()
        return Admission(check_in_id, found_id, name, 1 + guests, arrived, admitted)


__all__ = ["Admission", "DirectAdmission"]
