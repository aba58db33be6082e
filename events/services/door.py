"""The door: check-in by ticket or by name, walk-ins, live counters, offline snapshot, report.

One check-in function
---------------------
``DoorService.check_in`` (and ``check_in_registration`` for a person found by name) is the
only way people get in. It runs in the caller's write transaction and

1. answers a retried request at once: the client's ``nonce`` is unique per event
   (``uq_check_in_nonce``), and a nonce already seen gets the stored answer rebuilt from its
   log row, writing nothing;
2. locks the registration row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serialises
   writers with ``BEGIN IMMEDIATE``, so call it inside ``Database.transaction()`` or a POST
   request, never a plain reader session), then checks in a fixed order: unknown ticket,
   ticket of another event, cancelled or declined, waitlisted or pending, already in;
3. admits with a conditional ``UPDATE registration SET arrived = arrived + :n WHERE arrived
   + :n <= 1 + guests``, so even without the lock a party cannot be let in twice;
4. appends one ``CheckIn`` row per scan, admitted or refused (time, device, volunteer or
   door link, verdict, people, offline flag, real scan time).

On PostgreSQL an admission does 1-4 in ONE statement (events/services/door_admission.py);
whatever that statement does not admit, it leaves untouched to these steps.

Its inputs are typed (events/services/door_input.py cleans every field once): a scan is a
``ScanInput``, a walk-in a ``WalkInInput``, and so on.

Parties may arrive in parts (``people=2`` of 3, the last one later). An offline scan of a
party another device already let in is recorded with ``conflict`` set: it counts nobody
twice and shows up in the counters. Check-ins change ``arrived`` with a Core UPDATE, not
through the ORM, so a scan does not stamp the public pages' content version.

Nothing here returns an e-mail address: the door sees names, party sizes and statuses only.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from events.clock import utcnow
from events.errors import Conflict, NotFound, ValidationFailed
from events.folding import fold
from events.lifecycle import require_registration_open
from events.mail.notify import MailKind
from events.models import (
    CheckIn,
    CheckInAction,
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from events.models.base import new_id, table_of
from events.services.door_admission import Admission, DirectAdmission
from events.services.door_input import (
    UNDO_NONCE_PREFIX,
    Arrival,
    ScanInput,
    SearchTerm,
    UndoInput,
    WalkInInput,
    ticket_code_from,
)
from events.services.places import Places, confirm
from events.services.registration_records import log_registration, mail_registrant
from events.tokens import hash_token, new_token
from events.validation import clean_locale
from events.webhook_queue import queue_webhook

#: TEST-ONLY hook, called with the session between the verdict and the write that lets
#: people in. Tests set it to widen the race window; it must stay None in the application.
_between_check_and_write: Callable[[Session], None] | None = None

S = RegistrationStatus
BUCKET = timedelta(minutes=10)
#: At most this many 10-minute buckets in an arrival curve (two days).
MAX_BUCKETS = 288
#: Walk-ins without an address get ``walk-in-<hex>@door.invalid``: ``.invalid`` can never
#: be delivered (RFC 2606), and the mail queue skips it (events/mail/notify.py).
WALK_IN_DOMAIN = "door.invalid"
UNDONE = "undone"


class Verdict(enum.StrEnum):
    ADMITTED = "admitted"
    #: The whole party is already in.
    ALREADY_CHECKED_IN = "already_checked_in"
    #: Cancelled or declined.
    CANCELLED = "cancelled"
    WAITLISTED = "waitlisted"
    #: Pending approval or e-mail confirmation.
    PENDING = "pending"
    #: A valid ticket of another event (its title and start are given).
    OTHER_EVENT = "other_event"
    UNKNOWN = "unknown"
    #: Answer of ``undo``: the admission was taken back.
    UNDONE = "undone"


_REFUSAL_FOR_STATUS = {
    S.CANCELLED: Verdict.CANCELLED,
    S.DECLINED: Verdict.CANCELLED,
    S.WAITLISTED: Verdict.WAITLISTED,
    S.PENDING_APPROVAL: Verdict.PENDING,
    S.PENDING_EMAIL: Verdict.PENDING,
}

#: An admission is one statement on PostgreSQL and two on SQLite
#: (events/services/door_admission.py), built from the same refusals as ``_judge``. False
#: runs the general path instead: tests use it to keep covering that path.
DIRECT_ADMISSION = True
_DIRECT = DirectAdmission(_REFUSAL_FOR_STATUS)


# -- the scan's statements, built once ----------------------------------------------------
# The general path runs four statements per scan; building each anew (and computing its
# cache key) was a third of a scan's time (docs/performance.md). These are built at import
# with bound parameters, so SQLAlchemy reuses their compiled form.
_checkins = table_of(CheckIn)
_registrations = table_of(Registration)


def _lookup(column: Any) -> dict[bool, Any]:
    """Registration by ``column == :key``, with and without the row lock, refreshed from
    the row read (another transaction may have let people in since it was loaded)."""
    query = (
        select(Registration)
        .where(column == bindparam("key"))
        .execution_options(populate_existing=True)
    )
    return {False: query, True: query.with_for_update()}


_BY_CODE = _lookup(Registration.ticket_code)
_BY_ID = _lookup(Registration.id)
_NONCE_SEEN = select(_checkins.c.id).where(
    _checkins.c.event_id == bindparam("event_id"), _checkins.c.nonce == bindparam("nonce")
)
_people = bindparam("people", type_=Integer)
_ADD_ARRIVED = (
    update(_registrations)
    .where(
        _registrations.c.id == bindparam("registration_id"),
        _registrations.c.arrived + _people <= 1 + _registrations.c.guests,
        _registrations.c.arrived + _people >= 0,
    )
    .values(arrived=_registrations.c.arrived + _people, updated_at=_registrations.c.updated_at)
    .returning(_registrations.c.arrived)
)
#: Every column given (see ``_record``), so one compiled form serves every scan.
_INSERT_CHECK_IN = insert(_checkins)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@dataclass(frozen=True)
class ScanResult:
    """What the door shows after a scan. Never carries an e-mail address."""

    verdict: Verdict
    registration_id: UUID | None
    #: The registrant's full name (the door may show it).
    name: str | None
    #: 1 + guests.
    party: int
    #: People of this party checked in so far (after this scan).
    arrived: int
    #: People admitted by THIS scan (0 if refused; for ``undo``, the people taken back).
    admitted_now: int
    #: UTC, when the party was first checked in, and the device that did it.
    first_checked_in_at: datetime | None
    first_device: str | None
    other_event_title: str | None = None
    other_event_starts_at: datetime | None = None
    other_event_timezone: str | None = None
    #: The log row written (for undo); for a replay, the row written the first time.
    check_in_id: UUID | None = None
    #: An offline scan of a party another device had already let in.
    conflict: bool = False
    #: The same nonce was seen before: this is the stored answer, nothing was written.
    replayed: bool = False
    #: A walk-in's new ticket: the door shows its QR code for the walk-in's own phone
    #: (their ticket page, and the open-space board from it). Never in the JSON answer.
    ticket_code: str | None = None

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.ADMITTED

    def as_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "registration_id": str(self.registration_id) if self.registration_id else None,
            "name": self.name,
            "party": self.party,
            "arrived": self.arrived,
            "admitted_now": self.admitted_now,
            "first_checked_in_at": _iso(self.first_checked_in_at),
            "first_device": self.first_device,
            "other_event_title": self.other_event_title,
            "other_event_starts_at": _iso(self.other_event_starts_at),
            "other_event_timezone": self.other_event_timezone,
            "check_in_id": str(self.check_in_id) if self.check_in_id else None,
            "conflict": self.conflict,
            "replayed": self.replayed,
        }


@dataclass(frozen=True, slots=True)
class Logged:
    """What a scan's caller needs of the log row it wrote (no ORM object: building one
    was a third of writing the row)."""

    id: UUID
    registration_id: UUID | None
    scanned_at: datetime
    device: str


@dataclass(frozen=True)
class DoorRow:
    """One person found by the door's name search."""

    registration_id: UUID
    name: str
    party: int
    arrived: int
    #: The registration status ("confirmed", "waitlisted", "pending_approval", ...).
    status: str
    walk_in: bool = False


@dataclass(frozen=True)
class DoorCounters:
    #: People in (parties and guests), walk-ins included.
    checked_in: int
    #: People holding a confirmed place, walk-ins included.
    expected: int
    #: People in who registered at the door.
    walk_ins: int
    parties_checked_in: int
    #: (UTC start of a 10-minute bucket, people admitted in it), oldest first, gaps as 0.
    arrivals: list[tuple[datetime, int]]
    #: Offline scans of a party another device had already let in.
    conflicts: int

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["arrivals"] = [[start.isoformat(), people] for start, people in self.arrivals]
        return data


@dataclass(frozen=True)
class DoorReport:
    """Attendance. Registered people are those who held a confirmed place before the door
    (walk-ins apart); the attendance rate is the share of them who came in. Before the
    event starts nobody can have failed to come: no rate, no no-shows (None)."""

    #: The event has started: absences are no-shows.
    started: bool
    registered_parties: int
    registered_people: int
    attended_parties: int
    attended_people: int
    no_show_parties: int | None
    no_show_people: int | None
    walk_in_parties: int
    walk_in_people: int
    #: attended_people / registered_people (0..1); None when nobody registered, or before
    #: the event starts.
    attendance_rate: float | None
    arrivals: list[tuple[datetime, int]]
    conflicts: int

    @property
    def total_people(self) -> int:
        return self.attended_people + self.walk_in_people


@dataclass(frozen=True)
class CheckInRow:
    """One line of the check-in log (display and CSV export); no e-mail."""

    id: UUID
    recorded_at: datetime
    scanned_at: datetime
    action: str
    verdict: str
    people: int
    device: str
    offline: bool
    conflict: bool
    undone: bool
    registration_id: UUID | None
    name: str | None
    actor_id: UUID | None
    door_link_id: UUID | None


def ticket_hash(salt: str, code: str) -> str:
    """What the offline snapshot holds instead of a code: ``sha256_hex(salt + code)``."""
    return hashlib.sha256((salt + code).encode()).hexdigest()


def event_days(event: Event) -> list[date]:
    """The dates the event spans in its own time zone (an evening past midnight: two). A
    door scanning on another day is probably at the wrong event: it is warned first."""
    zone = ZoneInfo(event.timezone)
    first = _aware(event.starts_at).astimezone(zone).date()
    last = _aware(event.ends_at).astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def is_event_day(event: Event, now: datetime) -> bool:
    """Whether ``now`` falls on one of ``event_days(event)``, in the event's time zone."""
    return _aware(now).astimezone(ZoneInfo(event.timezone)).date() in event_days(event)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _bucket(moment: datetime) -> datetime:
    moment = _aware(moment)
    return moment.replace(minute=moment.minute - moment.minute % 10, second=0, microsecond=0)


def _first_name(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else ""


class DoorService:
    """Door rules for one unit of work; methods flush, the caller's transaction commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- checking in -------------------------------------------------------------------
    def check_in(
        self,
        event: Event,
        scan: ScanInput,
        *,
        actor_id: UUID | None = None,
        door_link_id: UUID | None = None,
    ) -> ScanResult:
        """Check in the ticket ``scan.code`` (see the module docstring for the order of
        checks). ``scan.people`` = None admits everyone of the party not yet in; a number
        admits that many (partial arrival; capped at those not yet in). Answers ``unknown``
        for a code that is no ticket ("" included)."""
        return self._scan(event, scan.code, None, scan, actor_id, door_link_id)

    def check_in_registration(
        self,
        event: Event,
        registration_id: UUID,
        arrival: Arrival,
        *,
        actor_id: UUID | None = None,
        door_link_id: UUID | None = None,
    ) -> ScanResult:
        """``check_in`` for a person found by name (``search``), without their ticket: the
        same checks and log. An id that is not one of this event's registrations answers
        ``unknown``."""
        return self._scan(event, "", registration_id, arrival, actor_id, door_link_id)

    def inspect(self, event: Event, code: str) -> ScanResult:
        """Careful mode: the verdict ``check_in`` WOULD give for the ticket ``code``,
        writing nothing. ``admitted`` means "would admit" (``admitted_now`` = people who
        would come in)."""
        registration = self._find(code, None, lock=False) if code else None
        return self._judge(event, registration, people=None)[0]

    def inspect_registration(self, event: Event, registration_id: UUID) -> ScanResult:
        """``inspect`` for a person found by name."""
        registration = self._find("", registration_id, lock=False)
        if registration is not None and registration.event_id != event.id:
            registration = None
        return self._judge(event, registration, people=None)[0]

    def undo(self, event: Event, undo: UndoInput) -> ScanResult:
        """Take back the admission ``undo.check_in_id`` (the people it let in are out
        again). ``NotFound`` unless it is an admission of this event;
        ``Conflict("already_undone")`` the second time."""
        original = self.session.get(CheckIn, undo.check_in_id)
        if (
            original is None
            or original.event_id != event.id
            or original.verdict != Verdict.ADMITTED
            or original.people <= 0
            or original.registration_id is None
        ):
            raise NotFound()
        registration = self._find("", original.registration_id, lock=True)
        if registration is None:
            raise NotFound()
        if self._undone(original.id):
            raise Conflict("already_undone")
        people = min(original.people, registration.arrived)
        arrived = self._add_arrived(registration, -people)
        now = utcnow()
        row = CheckIn(
            event_id=event.id,
            registration_id=registration.id,
            nonce=UNDO_NONCE_PREFIX + original.id.hex,
            action=CheckInAction.UNDO,
            verdict=UNDONE,
            people=people,
            arrived=arrived,
            device=undo.device,
            scanned_at=now,
            undoes_id=original.id,
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            raise Conflict("already_undone") from None
        first_at, first_device = self._first_admission(registration.id)
        return ScanResult(
            verdict=Verdict.UNDONE,
            registration_id=registration.id,
            name=registration.name,
            party=registration.people,
            arrived=arrived,
            admitted_now=people,
            first_checked_in_at=first_at,
            first_device=first_device,
            check_in_id=row.id,
        )

    # -- walk-ins ----------------------------------------------------------------------
    def walk_in(
        self,
        event: Event,
        walk_in: WalkInInput,
        *,
        actor_id: UUID | None = None,
        door_link_id: UUID | None = None,
        locale: str = "en",
    ) -> ScanResult:
        """Register a party at the door (confirmed, ticket issued) and check it in at once.
        ``locale``: the language of the door's page, for the mails of a walk-in with an
        address.

        Raises ``ValidationFailed`` (``guests`` beyond the event's guest allowance),
        ``Conflict("registration_closed")`` unless the event is published,
        ``Conflict("event_full")`` when no place is left unless
        ``event.walk_ins_over_capacity``. Without an address no mail is ever queued; with
        one, the registrant gets the usual confirmation with their ticket and links.

        An address that already holds a place at this event is treated as if none had
        been given (no mail, a placeholder address): the answer is the same as for a new
        address, so the door cannot learn who is registered (docs/door.md).
        """
        nonce, device = walk_in.nonce, walk_in.device
        previous = self._by_nonce(event, nonce)
        if previous is not None:
            return self._replay(previous)
        places = Places(self.session, actor_id=actor_id)
        places.lock(event)
        # Walk-ins are serialised by the event's lock: a concurrent retry has committed now.
        previous = self._by_nonce(event, nonce)
        if previous is not None:
            return self._replay(previous)
        if walk_in.guests > event.guest_allowance:
            raise ValidationFailed({"guests": "out_of_range"})
        now = utcnow()
        require_registration_open(event, now)
        clean_name, count, address = walk_in.name, walk_in.guests, walk_in.email
        if address and self._holds_a_place(event, address):
            address = ""
        token = new_token()
        registration = Registration(
            event_id=event.id,
            name=clean_name,
            email=address or f"walk-in-{secrets.token_hex(12)}@{WALK_IN_DOMAIN}",
            guests=count or 0,
            locale=clean_locale(locale),
            opt_in=False,
            consent_at=now,
            request_key=nonce,
            manage_token_hash=hash_token(token),
            walk_in=True,
        )
        people = registration.people
        if not places.take(event, people):
            if not event.walk_ins_over_capacity:
                raise Conflict("event_full")
            places.take_beyond_capacity(event, people)
        confirm(registration, now)  # issues the ticket as any confirmation
        self.session.add(registration)
        self.session.flush()
        log_registration(
            self.session,
            registration,
            "registered",
            actor_id,
            status=S.CONFIRMED.value,
            people=people,
            walk_in=True,
        )
        if address:
            mail_registrant(self.session, event, registration, MailKind.CONFIRMED, token)
        arrived = self._add_arrived(registration, people)
        row = self._record(
            event,
            registration,
            Verdict.ADMITTED,
            nonce=nonce,
            action=CheckInAction.WALK_IN,
            people=people,
            arrived=arrived,
            device=device,
            scanned_at=now,
            offline=False,
            conflict=False,
            actor_id=actor_id,
            door_link_id=door_link_id,
        )
        assert row is not None  # the nonce was checked under the event's lock: it is ours
        return ScanResult(
            verdict=Verdict.ADMITTED,
            registration_id=registration.id,
            name=registration.name,
            party=people,
            arrived=arrived,
            admitted_now=people,
            first_checked_in_at=now,
            first_device=row.device,
            check_in_id=row.id,
            ticket_code=registration.ticket_code,
        )

    def allow_walk_ins_over_capacity(self, event: Event, allowed: bool | str | None) -> Event:
        """The organiser's switch on the door page (a checkbox sends "on")."""
        value = allowed if isinstance(allowed, bool) else (allowed or "").strip().lower()
        event.walk_ins_over_capacity = value in {True, "on", "true", "1", "yes"}
        self.session.flush()
        return event

    # -- reading -----------------------------------------------------------------------
    def search(self, event: Event, term: SearchTerm, limit: int = 20) -> list[DoorRow]:
        """Active registrations (confirmed, waitlisted, pending) whose name contains
        ``term``, ignoring case and accents; nothing for a term too short to search.
        Names starting with the term come first, then alphabetical order."""
        if not term.searchable or limit <= 0:
            return []
        wanted = term.folded
        # Accent folding is not portable SQL (no unaccent on SQLite): filter here. One
        # event's registrations are a few thousand short rows at most.
        rows = self.session.execute(
            select(
                Registration.id,
                Registration.name,
                Registration.guests,
                Registration.arrived,
                Registration.status,
                Registration.walk_in,
            ).where(
                Registration.event_id == event.id,
                Registration.status.in_([s for s in S if s.is_active]),
            )
        ).all()
        found: list[tuple[bool, str, DoorRow]] = []
        for reg_id, name, guests, arrived, status, walk_in in rows:
            folded = fold(name)
            if wanted not in folded:
                continue
            prefix = any(word.startswith(wanted) for word in folded.split()) or folded.startswith(
                wanted
            )
            row = DoorRow(reg_id, name, 1 + guests, arrived, status.value, walk_in)
            found.append((not prefix, folded, row))
        found.sort(key=lambda item: (item[0], item[1]))
        return [row for _, _, row in found[:limit]]

    def counters(self, event: Event, *, now: datetime) -> DoorCounters:
        """Live figures for the door devices and the organiser's dashboard."""
        people = 1 + Registration.guests
        confirmed = Registration.status == S.CONFIRMED
        expected, checked_in, parties, walk_ins = self.session.execute(
            select(
                func.coalesce(func.sum(people).filter(confirmed), 0),
                func.coalesce(func.sum(Registration.arrived), 0),
                func.count().filter(Registration.arrived > 0),
                func.coalesce(func.sum(Registration.arrived).filter(Registration.walk_in), 0),
            ).where(Registration.event_id == event.id)
        ).one()
        return DoorCounters(
            checked_in=int(checked_in),
            expected=int(expected),
            walk_ins=int(walk_ins),
            parties_checked_in=int(parties),
            arrivals=self._arrivals(event, now),
            conflicts=self._conflicts(event),
        )

    def changes(self, event: Event) -> str:
        """A cheap marker that changes whenever the counters may have: compare it between
        polls (server-sent events) before computing ``counters``. Works across processes:
        it is read from the database."""
        rows, last = self.session.execute(
            select(func.count(), func.max(CheckIn.created_at)).where(CheckIn.event_id == event.id)
        ).one()
        taken = self.session.scalar(select(Event.taken).where(Event.id == event.id))
        return f"{rows}:{_iso(last)}:{taken}"

    def snapshot(self, event: Event) -> dict[str, Any]:
        """What an offline door needs: per ticket of this event, ``h`` = sha256 hex of
        ``salt + code`` (the code as ``ticket_code_from`` normalises it), first name, party
        size, people in, and the verdict a scan would give now. Never a code, never an
        address. ``at`` is the first check-in time (ISO, UTC) of a party partly or fully in.
        """
        salt = secrets.token_hex(16)
        rows = self.session.execute(
            select(
                Registration.id,
                Registration.ticket_code,
                Registration.name,
                Registration.guests,
                Registration.arrived,
                Registration.status,
            ).where(Registration.event_id == event.id, Registration.ticket_code.is_not(None))
        ).all()
        firsts = self._first_admissions(event)
        entries: list[dict[str, Any]] = []
        for reg_id, code, name, guests, arrived, status in rows:
            assert code is not None  # only rows with a ticket were selected
            party = 1 + guests
            verdict = _REFUSAL_FOR_STATUS.get(status)
            if verdict is None:
                verdict = Verdict.ALREADY_CHECKED_IN if arrived >= party else Verdict.ADMITTED
            entry: dict[str, Any] = {
                "h": ticket_hash(salt, code),
                "name": _first_name(name),
                "party": party,
                "arrived": arrived,
                "status": verdict.value,
            }
            if arrived and reg_id in firsts:
                entry["at"] = firsts[reg_id].isoformat()
            entries.append(entry)
        return {
            "event": event.slug,
            "generated_at": utcnow().isoformat(),
            "salt": salt,
            "tickets": entries,
        }

    def report(self, event: Event, *, now: datetime) -> DoorReport:
        """Attendance at ``now``, final once the event has ended (see ``DoorReport``)."""
        rows = self.session.execute(
            select(Registration.guests, Registration.arrived, Registration.walk_in).where(
                Registration.event_id == event.id, Registration.status == S.CONFIRMED
            )
        ).all()
        registered = [(1 + g, a) for g, a, walk_in in rows if not walk_in]
        walk_ins = [a for g, a, walk_in in rows if walk_in and a > 0]
        registered_people = sum(party for party, _ in registered)
        attended_people = sum(min(arrived, party) for party, arrived in registered)
        attended_parties = sum(1 for _, arrived in registered if arrived > 0)
        arrivals = self._arrivals(event, None)
        started = _aware(event.starts_at) <= _aware(now)
        return DoorReport(
            started=started,
            registered_parties=len(registered),
            registered_people=registered_people,
            attended_parties=attended_parties,
            attended_people=attended_people,
            no_show_parties=len(registered) - attended_parties if started else None,
            no_show_people=registered_people - attended_people if started else None,
            walk_in_parties=len(walk_ins),
            walk_in_people=sum(walk_ins),
            attendance_rate=attended_people / registered_people
            if started and registered_people
            else None,
            arrivals=arrivals,
            conflicts=self._conflicts(event),
        )

    def log(
        self, event: Event, *, limit: int | None = None, registration_id: UUID | None = None
    ) -> list[CheckInRow]:
        """The check-in log, newest first (by the time the server recorded it); only one
        registration's lines with ``registration_id`` (what the attendee's data download
        shows of their arrival)."""
        undone = select(CheckIn.undoes_id).where(
            CheckIn.event_id == event.id, CheckIn.undoes_id.is_not(None)
        )
        query = (
            select(CheckIn, Registration.name, CheckIn.id.in_(undone))
            .outerjoin(Registration, Registration.id == CheckIn.registration_id)
            .where(CheckIn.event_id == event.id)
            .order_by(CheckIn.created_at.desc(), CheckIn.id.desc())
        )
        if registration_id is not None:
            query = query.where(CheckIn.registration_id == registration_id)
        if limit is not None:
            query = query.limit(limit)
        return [
            CheckInRow(
                id=row.id,
                recorded_at=row.created_at,
                scanned_at=row.scanned_at,
                action=row.action,
                verdict=row.verdict,
                people=row.people,
                device=row.device,
                offline=row.offline,
                conflict=row.conflict,
                undone=bool(is_undone),
                registration_id=row.registration_id,
                name=name,
                actor_id=row.actor_id,
                door_link_id=row.door_link_id,
            )
            for row, name, is_undone in self.session.execute(query)
        ]

    # -- internals ---------------------------------------------------------------------
    def _scan(
        self,
        event: Event,
        code: str,
        registration_id: UUID | None,
        arrival: Arrival,
        actor_id: UUID | None,
        door_link_id: UUID | None,
    ) -> ScanResult:
        nonce, device, people = arrival.nonce, arrival.device, arrival.people
        offline, now = arrival.offline, utcnow()
        when = arrival.scanned_at or now
        if (code or registration_id is not None) and DIRECT_ADMISSION:
            admission = _DIRECT.admit(
                self.session,
                event_id=event.id,
                community_id=event.community_id,
                code=code,
                registration_id=registration_id,
                nonce=nonce,
                people=people,
                device=device,
                device_key=arrival.device_key,
                scanned_at=when,
                now=now,
                offline=offline,
                actor_id=actor_id,
                door_link_id=door_link_id,
            )
            if admission is not None:
                return self._admitted(event, admission, when, device)
        registration = None
        if code or registration_id is not None:
            registration = self._find(code, registration_id, lock=True)
        if registration_id is not None and registration and registration.event_id != event.id:
            registration = None  # by id: another event's registrant is simply unknown
        # Looked up under the lock: a concurrent retry of the same scan has committed by now.
        previous = self._by_nonce(event, nonce)
        if previous is not None:
            return self._replay(previous)
        result, admit = self._judge(event, registration, people=people)
        conflict = False
        arrived = result.arrived
        if admit:
            assert registration is not None
            if _between_check_and_write is not None:
                _between_check_and_write(self.session)
            arrived = self._add_arrived(registration, admit)
            if arrived < 0:  # lost a race without the lock: the party is in after all
                admit, arrived = 0, registration.arrived
                result = self._judge(event, registration, people=people)[0]
        if result.verdict is Verdict.ALREADY_CHECKED_IN and offline and registration:
            conflict = self._admitted_elsewhere(registration.id, device, arrival.device_key)
        row = self._record(
            event,
            registration if result.verdict is not Verdict.OTHER_EVENT else None,
            result.verdict,
            nonce=nonce,
            action=CheckInAction.SCAN,
            people=admit,
            arrived=arrived,
            device=device,
            device_key=arrival.device_key,
            scanned_at=when,
            offline=offline,
            conflict=conflict,
            actor_id=actor_id,
            door_link_id=door_link_id,
            other_event_id=registration.event_id
            if registration is not None and result.verdict is Verdict.OTHER_EVENT
            else None,
        )
        if row is None:  # the same nonce committed meanwhile (no registration to lock)
            previous = self._by_nonce(event, nonce)
            assert previous is not None
            return self._replay(previous)
        if admit:
            assert registration is not None
            admission = Admission(
                row.id, registration.id, registration.name, result.party, arrived, admit
            )
            return self._admitted(event, admission, row.scanned_at, row.device)
        return replace(result, check_in_id=row.id, conflict=conflict)

    def _holds_a_place(self, event: Event, address: str) -> bool:
        """Whether ``address`` has an active registration (confirmed, waiting, pending)."""
        return (
            self.session.scalar(
                select(Registration.id).where(
                    Registration.event_id == event.id,
                    Registration.email == address,
                    Registration.status.in_([s for s in S if s.is_active]),
                )
            )
            is not None
        )

    def _admitted(
        self, event: Event, admission: Admission, when: datetime, device: str
    ) -> ScanResult:
        """The answer to a scan that let people in, by either path (and its webhook)."""
        queue_webhook(
            self.session,
            "checkin.created",
            {
                "event_id": event.id,
                "registration_id": admission.registration_id,
                "check_in_id": admission.check_in_id,
                "people": admission.people,
                "arrived": admission.arrived,
                "party": admission.party,
                "device": device,
            },
            community_id=event.community_id,
            subscribed=admission.webhooks,
        )
        first_at: datetime | None
        first_device: str | None
        # After the direct admission, an earlier unit of the batch may hold this registration.
        loaded = self.session.identity_map.get(
            identity_key(Registration, admission.registration_id)
        )
        if loaded is not None:
            set_committed_value(loaded, "arrived", admission.arrived)
        if admission.arrived == admission.people:  # nobody of the party was in before
            first_at, first_device = when, device
        else:
            first_at, first_device = self._first_admission(admission.registration_id)
        return ScanResult(
            verdict=Verdict.ADMITTED,
            registration_id=admission.registration_id,
            name=admission.name,
            party=admission.party,
            arrived=admission.arrived,
            admitted_now=admission.people,
            first_checked_in_at=first_at,
            first_device=first_device,
            check_in_id=admission.check_in_id,
        )

    def _judge(
        self, event: Event, registration: Registration | None, *, people: int | None
    ) -> tuple[ScanResult, int]:
        """The verdict for ``registration`` at ``event`` and how many people to let in."""
        if registration is None:
            return _unknown(), 0
        if registration.event_id != event.id:
            other = self.session.get(Event, registration.event_id)
            if other is None or other.status is EventStatus.DRAFT:
                return _unknown(), 0
            # Another event's registrant stays private: only that event is named.
            return (
                ScanResult(
                    verdict=Verdict.OTHER_EVENT,
                    registration_id=None,
                    name=None,
                    party=0,
                    arrived=0,
                    admitted_now=0,
                    first_checked_in_at=None,
                    first_device=None,
                    other_event_title=other.title,
                    other_event_starts_at=other.starts_at,
                    other_event_timezone=other.timezone,
                ),
                0,
            )
        party = registration.people
        arrived = registration.arrived
        first_at, first_device = self._first_admission(registration.id) if arrived else (None, None)
        verdict = _REFUSAL_FOR_STATUS.get(registration.status)
        remaining = max(party - arrived, 0)
        admit = 0
        if verdict is None:
            if remaining <= 0:
                verdict = Verdict.ALREADY_CHECKED_IN
            else:
                verdict = Verdict.ADMITTED
                admit = remaining if people is None else min(people, remaining)
        result = ScanResult(
            verdict=verdict,
            registration_id=registration.id,
            name=registration.name,
            party=party,
            arrived=arrived,
            admitted_now=admit,
            first_checked_in_at=first_at,
            first_device=first_device,
        )
        return result, admit

    def _find(self, code: str, registration_id: UUID | None, *, lock: bool) -> Registration | None:
        key: UUID | str
        if registration_id is not None:
            query, key = _BY_ID[lock], registration_id
        elif code:
            query, key = _BY_CODE[lock], code
        else:
            return None
        found: Registration | None = self.session.scalar(query, {"key": key})
        return found

    def _add_arrived(self, registration: Registration, people: int) -> int:
        """Add ``people`` (negative to take back) to ``arrived`` if it stays within the
        party; returns the new value, or -1 when it would not."""
        self.session.flush()  # Core does not autoflush (a walk-in's registration is new)
        result = self.session.connection().execute(
            _ADD_ARRIVED, {"registration_id": registration.id, "people": people}
        )
        row = result.first()
        if row is None:
            return -1
        set_committed_value(registration, "arrived", row[0])
        return int(row[0])

    def _record(
        self,
        event: Event,
        registration: Registration | None,
        verdict: Verdict,
        *,
        nonce: str,
        action: CheckInAction,
        people: int,
        arrived: int,
        device: str,
        scanned_at: datetime,
        offline: bool,
        conflict: bool,
        actor_id: UUID | None,
        door_link_id: UUID | None,
        device_key: str | None = None,
        other_event_id: UUID | None = None,
    ) -> Logged | None:
        """Append the log row; None if the nonce was taken meanwhile (nothing written)."""
        values: dict[str, Any] = {
            "id": new_id(),
            "event_id": event.id,
            "registration_id": registration.id if registration is not None else None,
            "other_event_id": other_event_id,
            "nonce": nonce,
            "action": action,
            "verdict": verdict.value,
            "people": people,
            "arrived": arrived,
            "device": device,
            "device_key": device_key,
            "actor_id": actor_id,
            "door_link_id": door_link_id,
            "offline": offline,
            "conflict": conflict,
            "scanned_at": scanned_at,
        }
        # A Core insert: the row is never read back in this session, and tracking it was a
        # fifth of a scan's time (docs/performance.md); the caller gets what it needs of it.
        row = Logged(values["id"], values["registration_id"], scanned_at, values["device"])
        if registration is not None and people:
            # Under the registration's lock nobody else writes this nonce: no savepoint.
            self.session.connection().execute(_INSERT_CHECK_IN, values)
            return row
        try:
            with self.session.begin_nested():
                self.session.connection().execute(_INSERT_CHECK_IN, values)
        except IntegrityError:
            return None
        return row

    def _by_nonce(self, event: Event, nonce: str) -> CheckIn | None:
        # Core first: on the hot path the nonce is new, and no ORM object is needed.
        found = (
            self.session.connection()
            .execute(_NONCE_SEEN, {"event_id": event.id, "nonce": nonce})
            .first()
        )
        return self.session.get(CheckIn, found.id) if found is not None else None

    def _replay(self, row: CheckIn) -> ScanResult:
        """The answer given the first time ``row``'s nonce was seen, rebuilt from the row."""
        verdict = Verdict(row.verdict) if row.verdict != UNDONE else Verdict.UNDONE
        if verdict is Verdict.OTHER_EVENT:
            other = self.session.get(Event, row.other_event_id) if row.other_event_id else None
            return ScanResult(
                verdict=verdict,
                registration_id=None,
                name=None,
                party=0,
                arrived=0,
                admitted_now=0,
                first_checked_in_at=None,
                first_device=None,
                other_event_title=other.title if other else None,
                other_event_starts_at=other.starts_at if other else None,
                other_event_timezone=other.timezone if other else None,
                check_in_id=row.id,
                replayed=True,
            )
        registration = (
            self.session.get(Registration, row.registration_id) if row.registration_id else None
        )
        if registration is None:
            return replace(_unknown(), check_in_id=row.id, replayed=True)
        first_at, first_device = self._first_admission(registration.id)
        return ScanResult(
            verdict=verdict,
            registration_id=registration.id,
            name=registration.name,
            party=registration.people,
            arrived=row.arrived,
            admitted_now=row.people if verdict is Verdict.ADMITTED else 0,
            first_checked_in_at=first_at,
            first_device=first_device,
            check_in_id=row.id,
            conflict=row.conflict,
            replayed=True,
        )

    def _admissions(self, registration_id: UUID) -> list[CheckIn]:
        """This registration's admissions that were not undone, earliest scan first."""
        undone = select(CheckIn.undoes_id).where(
            CheckIn.registration_id == registration_id, CheckIn.undoes_id.is_not(None)
        )
        return list(
            self.session.scalars(
                select(CheckIn)
                .where(
                    CheckIn.registration_id == registration_id,
                    CheckIn.verdict == Verdict.ADMITTED.value,
                    CheckIn.people > 0,
                    CheckIn.id.not_in(undone),
                )
                .order_by(CheckIn.scanned_at, CheckIn.id)
            )
        )

    def _first_admission(self, registration_id: UUID) -> tuple[datetime | None, str | None]:
        admissions = self._admissions(registration_id)
        if not admissions:
            return None, None
        return admissions[0].scanned_at, admissions[0].device

    def _admitted_elsewhere(self, registration_id: UUID, device: str, key: str | None) -> bool:
        """Whether another device let this party in. A phone is known by its key when both
        scans carry one (its label may have been renamed meanwhile), else by its label."""
        return any(
            row.device_key != key if key and row.device_key else row.device != device
            for row in self._admissions(registration_id)
        )

    def _first_admissions(self, event: Event) -> dict[UUID, datetime]:
        firsts: dict[UUID, datetime] = {}
        for registration_id, scanned_at, _people in self._admission_rows(event):
            if registration_id not in firsts or scanned_at < firsts[registration_id]:
                firsts[registration_id] = scanned_at
        return firsts

    def _admission_rows(self, event: Event) -> list[tuple[UUID, datetime, int]]:
        undone = select(CheckIn.undoes_id).where(
            CheckIn.event_id == event.id, CheckIn.undoes_id.is_not(None)
        )
        return [
            (registration_id, _aware(scanned_at), people)
            for registration_id, scanned_at, people in self.session.execute(
                select(CheckIn.registration_id, CheckIn.scanned_at, CheckIn.people).where(
                    CheckIn.event_id == event.id,
                    CheckIn.verdict == Verdict.ADMITTED.value,
                    CheckIn.people > 0,
                    CheckIn.id.not_in(undone),
                )
            )
            # Admissions always name their registration (only refusals of unknown tickets
            # have none); the condition says so to the checker.
            if registration_id is not None
        ]

    def _undone(self, check_in_id: UUID) -> bool:
        return (
            self.session.scalar(select(CheckIn.id).where(CheckIn.undoes_id == check_in_id))
            is not None
        )

    def _arrivals(self, event: Event, now: datetime | None) -> list[tuple[datetime, int]]:
        """People admitted per 10-minute bucket (by real scan time), gaps filled with 0,
        from the first arrival to the last or to ``now`` (not past the event's end)."""
        buckets: dict[datetime, int] = {}
        for _registration_id, scanned_at, people in self._admission_rows(event):
            key = _bucket(scanned_at)
            buckets[key] = buckets.get(key, 0) + people
        if not buckets:
            return []
        start, end = min(buckets), max(buckets)
        if now is not None:
            end = max(end, _bucket(min(_aware(now), _aware(event.ends_at))))
        start = max(start, end - BUCKET * (MAX_BUCKETS - 1))
        curve: list[tuple[datetime, int]] = []
        moment = start
        while moment <= end:
            curve.append((moment, buckets.get(moment, 0)))
            moment += BUCKET
        return curve

    def _conflicts(self, event: Event) -> int:
        return int(
            self.session.scalar(
                select(func.count()).where(CheckIn.event_id == event.id, CheckIn.conflict)
            )
            or 0
        )


def _unknown() -> ScanResult:
    return ScanResult(
        verdict=Verdict.UNKNOWN,
        registration_id=None,
        name=None,
        party=0,
        arrived=0,
        admitted_now=0,
        first_checked_in_at=None,
        first_device=None,
    )


__all__ = [
    "CheckInRow",
    "DoorCounters",
    "DoorReport",
    "DoorRow",
    "DoorService",
    "ScanResult",
    "Verdict",
    "event_days",
    "is_event_day",
    "ticket_code_from",
    "ticket_hash",
]
