"""Recurring series: the rhythm, materialised occurrences, and edits to them.

Occurrences are ordinary ``Event`` rows created ahead of time up to a rolling horizon
(``HORIZON_DAYS``), extended by ``extend_all`` (daily job / ``rencontres series extend``)
and whenever the organiser saves the series. Each occurrence keeps its original local
date (``series_date``) so a moved occurrence keeps its identity (the RECURRENCE-ID).

Edits: "this one only" is a plain event edit (the row becomes ``detached``); "this and the
following" changes the series' template and every later occurrence not edited on its own.
Changing the rhythm itself is done by ending the series and starting a new one.

Publishing: a series whose template says "publish occurrences" (the default for a new
series) creates them published; turning it on later publishes the drafts that the edit
reaches, and ``publish_upcoming`` publishes every draft still to come at once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from events.errors import NotFound, ValidationFailed
from events.models import (
    Community,
    Event,
    EventStatus,
    Registration,
    Series,
    SeriesException,
    Venue,
)
from events.models.registrations import INACTIVE_STATUSES
from events.recurrence import (
    InvalidRhythm,
    Occurrence,
    Rhythm,
    localise,
    occurrences_between,
    spell_out,
)
from events.services.event_addresses import new_event_slug
from events.services.events import (
    REGISTRATION_SETTINGS,
    EventService,
    apply_description,
    find_or_create_tags,
    parse_flag,
    parse_guest_allowance,
    time_and_place,
)
from events.services.questions import Asker, Question, QuestionService, form_questions
from events.services.registrations import RegistrationService
from events.services.slugs import available_slug
from events.validation import (
    FieldErrors,
    clean_tag_names,
    clean_text,
    clean_timezone,
    clean_url,
    parse_int,
)

HORIZON_DAYS = 183
PREVIEW_COUNT = 6


@dataclass
class SeriesInput:
    """The series form, as strings."""

    title: str = ""
    description: str = ""
    frequency: str = "monthly"  # weekly | monthly
    interval: str = "1"
    weekday: str = "3"  # 0 = Monday
    week_of_month: str = "1"  # 1..4 or -1 (last); "" for by-day-of-month
    month_day: str = ""  # 1..31 when monthly by date
    start_time: str = "19:00"
    duration_minutes: str = "180"
    timezone: str = "Europe/Paris"
    starts_on: str = ""
    until: str = ""
    venue_id: str = ""
    online_url: str = ""
    capacity: str = ""
    tags: str = ""
    publish: str = ""  # "on": occurrences are published as they are created
    # Registration settings, as on EventInput: None leaves the series' value as it is.
    waitlist_enabled: str | bool | None = None
    requires_approval: str | bool | None = None
    guest_allowance: str | int | None = None
    confirm_email_first: str | bool | None = None


def _parse_time(field: str, value: str) -> time:
    try:
        return time.fromisoformat((value or "").strip()[:5])
    except ValueError:
        raise ValidationFailed({field: "invalid_time"}) from None


def _parse_date(field: str, value: str, *, required: bool) -> date | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationFailed({field: "required"})
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed({field: "invalid_date"}) from None


def rhythm_from_input(data: SeriesInput, errors: FieldErrors) -> Rhythm | None:
    """Build the Rhythm the form describes, collecting field errors."""
    frequency = data.frequency if data.frequency in {"weekly", "monthly"} else None
    if frequency is None:
        errors.add("frequency", "invalid_choice")
    interval = errors.check(
        parse_int, "interval", data.interval, minimum=1, maximum=12, required=True
    )
    weekday = errors.check(parse_int, "weekday", data.weekday, minimum=0, maximum=6)
    by_date = frequency == "monthly" and bool((data.month_day or "").strip())
    month_day = (
        errors.check(parse_int, "month_day", data.month_day, minimum=1, maximum=31)
        if by_date
        else None
    )
    week = None
    if frequency == "monthly" and not by_date:
        week = errors.check(
            parse_int, "week_of_month", data.week_of_month, minimum=-1, maximum=4, required=True
        )
        if week == 0:
            errors.add("week_of_month", "invalid_choice")
    start_time = errors.check(_parse_time, "start_time", data.start_time)
    minutes = errors.check(
        parse_int,
        "duration_minutes",
        data.duration_minutes,
        minimum=5,
        maximum=24 * 60,
        required=True,
    )
    zone = errors.check(clean_timezone, "timezone", data.timezone)
    starts_on = errors.check(_parse_date, "starts_on", data.starts_on, required=True)
    until = errors.check(_parse_date, "until", data.until, required=False)
    if errors.errors:
        return None
    # No error collected: every value above was parsed.
    assert frequency in {"weekly", "monthly"} and interval is not None
    assert minutes is not None and starts_on is not None
    try:
        return Rhythm(
            frequency=frequency,  # type: ignore[arg-type]  # narrowed by the assert
            interval=interval,
            weekday=None if by_date else weekday,
            week_of_month=week,
            month_day=month_day,
            start_time=start_time,
            duration=timedelta(minutes=minutes),
            timezone=zone,
            starts_on=starts_on,
            until=until,
        )
    except InvalidRhythm as invalid:
        errors.add(invalid.field or "frequency", invalid.code)
        return None


@dataclass(frozen=True)
class Preview:
    rule_en: str
    rule_fr: str
    occurrences: list[Occurrence]


def preview(data: SeriesInput, today: date) -> Preview:
    """The rule in words and its next dates, for the live preview (nothing is saved)."""
    errors = FieldErrors()
    rhythm = rhythm_from_input(data, errors)
    errors.raise_if_any()
    assert rhythm is not None
    start = datetime.combine(max(today, rhythm.starts_on), time(), tzinfo=UTC)
    upcoming = occurrences_between(rhythm, start, start + timedelta(days=3 * 366))
    return Preview(spell_out(rhythm, "en"), spell_out(rhythm, "fr"), upcoming[:PREVIEW_COUNT])


def rhythm_of(series: Series) -> Rhythm:
    start = datetime.combine(series.starts_on, series.start_time)
    return Rhythm.from_rrule(
        series.rrule,
        start=start,
        duration=timedelta(minutes=series.duration_minutes),
        timezone=series.timezone,
    )


class EndChoice(enum.StrEnum):
    """What ending a series does to later occurrences that people registered for."""

    KEEP = "keep"
    CANCEL = "cancel"


@dataclass
class EndResult:
    cancelled: list[Event]
    kept: list[Event]


class SeriesService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def in_community(self, community: Community, slug: str) -> Series:
        series = self.session.scalar(select(Series).where(Series.slug == slug))
        if series is None or series.community_id != community.id:
            raise NotFound()
        return series

    def of_community(self, community: Community) -> list[Series]:
        return list(
            self.session.scalars(
                select(Series).where(Series.community_id == community.id).order_by(Series.title)
            )
        )

    def occurrences(self, series: Series) -> list[Event]:
        return list(
            self.session.scalars(
                select(Event).where(Event.series_id == series.id).order_by(Event.starts_at)
            )
        )

    def _template(
        self, community: Community, data: SeriesInput, errors: FieldErrors
    ) -> dict[str, Any]:
        values: dict[str, Any] = {
            "title": errors.check(clean_text, "title", data.title, max_length=200),
            "description": errors.check(
                clean_text,
                "description",
                data.description,
                max_length=20_000,
                required=False,
                multiline=True,
            )
            or "",
            "online_url": errors.check(clean_url, "online_url", data.online_url),
            "capacity": errors.check(
                parse_int, "capacity", data.capacity, minimum=0, maximum=100_000
            ),
            "tag_names": ", ".join(errors.check(clean_tag_names, "tags", data.tags) or []),
            "publish_occurrences": data.publish == "on",
            "venue_id": None,
        }
        settings = {
            "waitlist_enabled": errors.check(parse_flag, "waitlist_enabled", data.waitlist_enabled),
            "requires_approval": errors.check(
                parse_flag, "requires_approval", data.requires_approval
            ),
            "guest_allowance": errors.check(
                parse_guest_allowance, "guest_allowance", data.guest_allowance
            ),
            "confirm_email_first": errors.check(
                parse_flag, "confirm_email_first", data.confirm_email_first
            ),
        }
        values.update({name: value for name, value in settings.items() if value is not None})
        if data.venue_id:
            venue = self.session.get(Venue, _uuid_or_none(data.venue_id))
            if venue is None or venue.community_id != community.id:
                errors.add("venue_id", "invalid_choice")
            else:
                values["venue_id"] = venue.id
        return values

    def create(self, community: Community, data: SeriesInput, *, today: date) -> Series:
        errors = FieldErrors()
        rhythm = rhythm_from_input(data, errors)
        template = self._template(community, data, errors)
        errors.raise_if_any()
        assert rhythm is not None
        series = Series(
            community_id=community.id,
            slug=available_slug(self.session, Series.slug, template["title"], fallback="series"),
            rrule=rhythm.to_rrule(),
            timezone=rhythm.timezone,
            start_time=rhythm.start_time,
            duration_minutes=int(rhythm.duration.total_seconds() // 60),
            starts_on=rhythm.starts_on,
            rhythm_en=spell_out(rhythm, "en"),
            rhythm_fr=spell_out(rhythm, "fr"),
            **template,
        )
        self.session.add(series)
        self.session.flush()
        self.materialise(series, today + timedelta(days=HORIZON_DAYS))
        return series

    def _skipped(self, series: Series) -> set[date]:
        return set(
            self.session.scalars(
                select(SeriesException.local_date).where(SeriesException.series_id == series.id)
            )
        )

    def materialise(self, series: Series, horizon: date) -> list[Event]:
        """Create the occurrences up to ``horizon`` that do not exist yet."""
        if series.ended_on is not None:
            horizon = min(horizon, series.ended_on)
        begin = (
            series.starts_on
            if series.materialised_until is None
            else series.materialised_until + timedelta(days=1)
        )
        if begin > horizon:
            return []
        zone = ZoneInfo(series.timezone)
        window_start = datetime.combine(begin, time(), tzinfo=zone).astimezone(UTC)
        window_end = datetime.combine(horizon + timedelta(days=1), time(), tzinfo=zone).astimezone(
            UTC
        )
        existing = set(
            self.session.scalars(select(Event.series_date).where(Event.series_id == series.id))
        )
        skipped = self._skipped(series)
        tags = find_or_create_tags(self.session, clean_tag_names("tags", series.tag_names))
        created = []
        for occurrence in occurrences_between(
            rhythm_of(series), window_start, window_end, exdates=skipped
        ):
            if occurrence.local_date in existing:
                continue
            event = Event(
                community_id=series.community_id,
                series_id=series.id,
                series_date=occurrence.local_date,
                title=series.title,
                starts_at=occurrence.starts_at,
                ends_at=occurrence.ends_at,
                timezone=series.timezone,
                time_adjusted=occurrence.adjusted,
                venue_id=series.venue_id,
                online_url=series.online_url,
                capacity=series.capacity,
                tags=list(tags),
                revision=0,
                status=EventStatus.PUBLISHED if series.publish_occurrences else EventStatus.DRAFT,
                questions=list(series.questions or []),
                **registration_settings(series),
                slug=new_event_slug(
                    self.session, f"{series.slug}-{occurrence.local_date.isoformat()}"
                ),
            )
            apply_description(event, series.description)
            self.session.add(event)
            created.append(event)
        series.materialised_until = horizon
        self.session.flush()
        return created

    def publish_upcoming(self, series: Series, *, now: datetime) -> list[Event]:
        """Publish every draft occurrence that has not started yet (edited on its own or
        not); returns them. Cancelled and past occurrences are left as they are."""
        drafts = list(
            self.session.scalars(
                select(Event)
                .where(
                    Event.series_id == series.id,
                    Event.status == EventStatus.DRAFT,
                    Event.starts_at > now,
                )
                .order_by(Event.starts_at)
            )
        )
        events = EventService(self.session)
        for event in drafts:
            events.publish(event)
        return drafts

    def extend_all(self, today: date) -> int:
        """Roll every open series' horizon forward (the daily job)."""
        horizon = today + timedelta(days=HORIZON_DAYS)
        total = 0
        for series in self.session.scalars(select(Series).where(Series.ended_on.is_(None))):
            total += len(self.materialise(series, horizon))
        return total

    def skip(self, series: Series, local_date: date) -> None:
        """Skip one date: no occurrence is created for it; an existing one is cancelled
        (drafts simply disappear)."""
        if local_date not in self._skipped(series):
            self.session.add(SeriesException(series_id=series.id, local_date=local_date))
        event = self.session.scalar(
            select(Event).where(Event.series_id == series.id, Event.series_date == local_date)
        )
        if event is not None:
            EventService(self.session).cancel(event, "")
        self.session.flush()

    def update_following(self, series: Series, data: SeriesInput, *, from_date: date) -> int:
        """Apply the template (title, description, place, time of day, duration...) to the
        series and to every occurrence from ``from_date`` not edited on its own."""
        errors = FieldErrors()
        template = self._template(series.community, data, errors)
        start_time = errors.check(_parse_time, "start_time", data.start_time)
        minutes = errors.check(
            parse_int,
            "duration_minutes",
            data.duration_minutes,
            minimum=5,
            maximum=24 * 60,
            required=True,
        )
        errors.raise_if_any()
        assert start_time is not None and minutes is not None  # no error collected
        for name, value in template.items():
            setattr(series, name, value)
        series.start_time, series.duration_minutes = start_time, minutes
        rhythm = rhythm_of(series)
        series.rrule = rhythm.to_rrule()
        series.rhythm_en, series.rhythm_fr = spell_out(rhythm, "en"), spell_out(rhythm, "fr")
        tags = find_or_create_tags(self.session, clean_tag_names("tags", series.tag_names))
        changed = 0
        for event in self.session.scalars(
            select(Event).where(
                Event.series_id == series.id,
                Event.series_date >= from_date,
                Event.detached.is_(False),
            )
        ):
            assert event.series_date is not None  # every occurrence has its series date
            starts_at, adjusted = localise(
                datetime.combine(event.series_date, start_time), series.timezone
            )
            new = {
                "title": series.title,
                "starts_at": starts_at,
                "ends_at": starts_at + timedelta(minutes=minutes),
                "venue_id": series.venue_id,
                "online_url": series.online_url,
            }
            significant = any(getattr(event, k) != v for k, v in new.items())
            before = time_and_place(self.session, event)
            for name, value in new.items():
                setattr(event, name, value)
            event.time_adjusted, event.tags = adjusted, list(tags)
            # Never below the people already confirmed there; a raise promotes the waitlist.
            capacity = series.capacity
            if capacity is not None and capacity < event.taken:
                capacity = event.taken
            RegistrationService(self.session).set_capacity(event, capacity)
            for name, value in registration_settings(series).items():
                setattr(event, name, value)
            QuestionService(self.session).ask_exactly(event, form_questions(series))
            apply_description(event, series.description)
            if significant and event.status is not EventStatus.DRAFT:
                event.revision += 1
            EventService(self.session).mail_if_moved(event, before)
            if series.publish_occurrences and event.status is EventStatus.DRAFT:
                # "Publish occurrences" reaches the drafts this edit covers, not only the
                # dates created from now on.
                EventService(self.session).publish(event)
            changed += 1
        self.session.flush()
        return changed

    def registered_after(self, series: Series, *, after: date) -> list[tuple[Event, int]]:
        """Live occurrences after ``after`` that people registered for, with how many
        active registrations each has: ending the series must ask what to do with them.
        Refused like :meth:`end` for a date before the series starts."""
        _require_end_after_start(series, after)
        active = Registration.status.not_in(INACTIVE_STATUSES)
        rows = self.session.execute(
            select(Event, func.count(Registration.id))
            .join(Registration, (Registration.event_id == Event.id) & active)
            .where(
                Event.series_id == series.id,
                Event.series_date > after,
                Event.status != EventStatus.CANCELLED,
            )
            .group_by(Event.id)
            .order_by(Event.starts_at)
        )
        return [(event, count) for event, count in rows]

    def end(
        self, series: Series, *, after: date, registered: EndChoice = EndChoice.KEEP
    ) -> EndResult:
        """End the series after ``after``. Later occurrences without registrations are
        cancelled (drafts deleted); those with registrations are kept as one-off events
        (``KEEP``: people keep their places) or cancelled too (``CANCEL``: registrants are
        told by the cancellation mail).

        A series cannot end before it starts: ``after`` earlier than ``starts_on`` is
        refused (``ValidationFailed {"after": "until_before_start"}``) and changes nothing."""
        _require_end_after_start(series, after)
        series.ended_on = after
        with_people = {event.id for event, _count in self.registered_after(series, after=after)}
        result = EndResult(cancelled=[], kept=[])
        for event in self.session.scalars(
            select(Event).where(Event.series_id == series.id, Event.series_date > after)
        ):
            if event.status is EventStatus.CANCELLED:
                continue
            if event.id in with_people and registered is EndChoice.KEEP:
                event.detached = True  # stands on its own now: series edits leave it alone
                result.kept.append(event)
            else:
                EventService(self.session).cancel(event, "")
                result.cancelled.append(event)
        self.session.flush()
        return result


def registration_settings(series: Series) -> dict[str, object]:
    """How people register for each occurrence, from the series' template."""
    return {name: getattr(series, name) for name in REGISTRATION_SETTINGS}


class SeriesQuestionService(QuestionService):
    """The registration questions of a series' template. Every change reaches at once the
    occurrences still to come that were not edited on their own (``ask_exactly``: answers
    already given stay attached); the template itself has no answers, so a question
    removed from it is simply deleted there."""

    def __init__(self, session: Session, *, now: datetime) -> None:
        super().__init__(session)
        self.now = now

    def _answered(self, event: Asker, question_id: str) -> bool:
        return False

    def _save(self, event: Asker, questions: list[Question]) -> None:
        self._store(event, questions)
        for occurrence in self.session.scalars(
            select(Event).where(
                Event.series_id == event.id,
                Event.detached.is_(False),
                Event.starts_at > self.now,
            )
        ):
            QuestionService(self.session).ask_exactly(occurrence, questions)


def _require_end_after_start(series: Series, after: date) -> None:
    """Ending on the first date keeps that one occurrence; ending before it is nonsense."""
    if after < series.starts_on:
        raise ValidationFailed({"after": "until_before_start"})


def _uuid_or_none(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None
