"""The door's admission in one statement, on PostgreSQL.

The general check-in (``DoorService._scan``) runs four statements to let a party in: lock
the registration, look for the nonce, add to ``arrived``, append the log row. On
PostgreSQL each is a network round trip, taken while the registration is locked and, in a
group-commit batch, while every later scan of the batch waits: the batch thread spent two
thirds of its time waiting (docs/performance.md). This module does the same writes in ONE
statement of data-modifying CTEs (SQLite has none; it needs no round trips anyway):

* ``found`` locks the registration (``FOR UPDATE``: concurrent scans of one ticket queue
  here, and each then reads the row as the previous one left it);
* ``seen`` is the log row of this event with the same nonce, if any;
* ``logged`` appends the log row, only for an admission: this event's registration, not
  refused by its status, someone of the party still out, the nonce not seen. ``ON
  CONFLICT DO NOTHING`` on the nonce covers a retry committed after the statement began
  (its snapshot would not show it): nothing is written then;
* ``admitted`` adds the people of the row just logged to ``arrived``.

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
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

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


def _statement(column: Any, refusal_statuses: Collection[RegistrationStatus]) -> Select[Any]:
    """The statement finding the registration by ``column``. Its parameters are named
    ``scan_*``: an UPDATE takes a parameter named after one of its columns as a value to SET."""
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
    event_id = bindparam("scan_event_id", type_=_uuid)
    nonce = bindparam("scan_nonce", type_=String)
    seen = (
        select(_checkins.c.id)
        .where(_checkins.c.event_id == event_id, _checkins.c.nonce == nonce)
        .cte("seen")
    )
    remaining = 1 + found.c.guests - found.c.arrived
    wanted = bindparam("scan_people", type_=Integer)  # None: all of the party still out
    people = func.least(func.coalesce(wanted, remaining), remaining)
    now = bindparam("scan_now", type_=_checkins.c.created_at.type)
    row = {
        "id": bindparam("scan_check_in_id", type_=_uuid),
        "event_id": event_id,
        "registration_id": found.c.id,
        "other_event_id": null(),
        "nonce": nonce,
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
    logged = (
        pg_insert(_checkins)
        .from_select(
            list(row),
            select(*row.values()).where(
                found.c.event_id == event_id,
                # One parameter per status, not an expanding list rendered at each run.
                found.c.status.not_in(
                    [literal(status, _registrations.c.status.type) for status in refusal_statuses]
                ),
                remaining > 0,
                ~exists(select(seen.c.id)),
            ),
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


class OneStatementAdmission:
    """Built once per set of refusal statuses; ``admit`` runs in the caller's session."""

    def __init__(self, refusal_statuses: Collection[RegistrationStatus]) -> None:
        self._by_code = _statement(_registrations.c.ticket_code, refusal_statuses)
        self._by_id = _statement(_registrations.c.id, refusal_statuses)

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
        statement, key = (
            (self._by_id, registration_id) if registration_id is not None else (self._by_code, code)
        )
        check_in_id = new_id()
        row = (
            session.connection()
            .execute(
                statement,
                {
                    "scan_key": key,
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
                },
            )
            .first()
        )
        if row is None:
            return None
        registration_id, name, guests, arrived, admitted, webhooks = row
        return Admission(
            check_in_id, registration_id, name, 1 + guests, arrived, admitted, bool(webhooks)
        )


__all__ = ["Admission", "OneStatementAdmission"]
