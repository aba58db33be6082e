"""The programme of an evening: sessions with speakers, rooms and times.

Organisers edit it by hand (``add``, ``update``, ``remove``, ``move``); the open-space board
writes the sessions its facilitators place (``add_session``, ``reschedule``, ``remove``).

The programme is part of the event as calendars show it (its DESCRIPTION lists the
sessions, events/calendar.py): every change of it is a change of the event, whose
``revision`` (the feeds' SEQUENCE) goes up once per transaction, and whose ``updated_at``
moves with it, so feeds and caches take the new programme.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import NotFound, ValidationFailed
from events.models import Event, ProgrammeItem
from events.recurrence import localise
from events.validation import FieldErrors, clean_text

MAX_ITEMS = 100


@dataclass
class ProgrammeInput:
    title: str = ""
    speakers: str = ""
    room: str = ""
    start_time: str = ""  # "19:30", on the event's local day
    end_time: str = ""
    description: str = ""
    tag: str = ""


@dataclass(frozen=True)
class SessionTimes:
    """A session at known instants (the board's placed topics and common slots)."""

    title: str
    starts_at: datetime
    ends_at: datetime
    room: str = ""
    speakers: str = ""
    description: str = ""
    tag: str = ""


_REVISED = "rencontres.programme_revised"


def local_time_on(event: Event, field: str, value: str) -> datetime | None:
    """``"19:30"`` on the event's local evening (a time after midnight belongs to it)."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        hours, minutes = (int(part) for part in text[:5].split(":"))
        local_day = event.starts_at.astimezone(ZoneInfo(event.timezone)).date()
        wall = datetime(local_day.year, local_day.month, local_day.day, hours, minutes)
    except ValueError:
        raise ValidationFailed({field: "invalid_time"}) from None
    moment, _ = localise(wall, event.timezone)
    if moment < event.starts_at - timedelta(hours=12):
        moment += timedelta(days=1)  # a session after midnight belongs to the same evening
    return moment


class ProgrammeService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def items(self, event: Event) -> list[ProgrammeItem]:
        return list(
            self.session.scalars(
                select(ProgrammeItem)
                .where(ProgrammeItem.event_id == event.id)
                .order_by(ProgrammeItem.position, ProgrammeItem.starts_at)
            )
        )

    def item(self, event: Event, item_id: UUID) -> ProgrammeItem:
        item = self.session.get(ProgrammeItem, item_id)
        if item is None or item.event_id != event.id:
            raise NotFound()
        return item

    def _clean(self, event: Event, data: ProgrammeInput) -> dict[str, object]:
        errors = FieldErrors()
        values: dict[str, object] = {
            "title": errors.check(clean_text, "title", data.title, max_length=200),
            "speakers": errors.check(
                clean_text, "speakers", data.speakers, max_length=300, required=False
            )
            or "",
            "room": errors.check(clean_text, "room", data.room, max_length=120, required=False)
            or "",
            "description": errors.check(
                clean_text,
                "description",
                data.description,
                max_length=2000,
                required=False,
                multiline=True,
            )
            or "",
            "tag": errors.check(clean_text, "tag", data.tag, max_length=60, required=False) or "",
            "starts_at": errors.check(local_time_on, event, "start_time", data.start_time),
            "ends_at": errors.check(local_time_on, event, "end_time", data.end_time),
        }
        starts, ends = values["starts_at"], values["ends_at"]
        if starts and ends and ends <= starts:  # type: ignore[operator]
            errors.add("end_time", "ends_before_start")
        errors.raise_if_any()
        return values

    def _revised(self, event: Event) -> None:
        """The event changed with its programme: one revision more per transaction."""
        transaction = self.session.get_transaction()
        revised = self.session.info.setdefault(_REVISED, {})
        if transaction is None or revised.get(event.id) is not transaction:
            revised[event.id] = transaction
            event.revision = (event.revision or 0) + 1
        else:
            event.updated_at = utcnow()  # the feeds' fingerprint follows updated_at

    def _append(self, event: Event, values: dict[str, object]) -> ProgrammeItem:
        count = (
            self.session.scalar(
                select(func.count())
                .select_from(ProgrammeItem)
                .where(ProgrammeItem.event_id == event.id)
            )
            or 0
        )
        if count >= MAX_ITEMS:
            raise ValidationFailed({"title": "too_many"})
        item = ProgrammeItem(event_id=event.id, position=count, **values)
        self.session.add(item)
        self._revised(event)
        self.session.flush()
        return item

    def add(self, event: Event, data: ProgrammeInput) -> ProgrammeItem:
        return self._append(event, self._clean(event, data))

    def add_session(self, event: Event, times: SessionTimes) -> ProgrammeItem:
        """A session at known instants (already cleaned by its caller, the board)."""
        item = self._append(event, _session_values(times))
        self._order_by_time(event)
        return item

    def _order_by_time(self, event: Event) -> None:
        """Sessions in time order (then rooms): what the board writes settles into a
        programme that reads from the first session to the last; untimed items keep
        their place after them."""
        items = self.items(event)
        ordered = sorted(
            items,
            key=lambda item: (item.starts_at is None, item.starts_at or event.starts_at, item.room),
        )
        for position, item in enumerate(ordered):
            item.position = position
        self.session.flush()

    def reschedule(self, event: Event, item_id: UUID, times: SessionTimes) -> ProgrammeItem:
        """Give a session new times, room and text; the event's revision goes up only when
        something changed."""
        item = self.item(event, item_id)
        values = _session_values(times)
        if any(getattr(item, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(item, name, value)
            self._revised(event)
            self.session.flush()
            self._order_by_time(event)
        return item

    def update(self, event: Event, item_id: UUID, data: ProgrammeInput) -> ProgrammeItem:
        item = self.item(event, item_id)
        for name, value in self._clean(event, data).items():
            setattr(item, name, value)
        self._revised(event)
        self.session.flush()
        return item

    def remove(self, event: Event, item_id: UUID) -> None:
        self.session.delete(self.item(event, item_id))
        self._revised(event)
        self.session.flush()
        for position, item in enumerate(self.items(event)):
            item.position = position
        self.session.flush()

    def move(self, event: Event, item_id: UUID, direction: int) -> None:
        """Swap an item with its neighbour (``direction`` -1 = up, +1 = down)."""
        items = self.items(event)
        index = next((i for i, it in enumerate(items) if it.id == item_id), None)
        if index is None:
            raise NotFound()
        other = index + (1 if direction > 0 else -1)
        if 0 <= other < len(items):
            items[index], items[other] = items[other], items[index]
            for position, item in enumerate(items):
                item.position = position
            self._revised(event)
            self.session.flush()


def _session_values(times: SessionTimes) -> dict[str, object]:
    return {
        "title": times.title[:200],
        "speakers": times.speakers[:300],
        "room": times.room[:120],
        "description": times.description[:2000],
        "tag": times.tag[:60],
        "starts_at": times.starts_at,
        "ends_at": times.ends_at,
    }
