"""Organiser pages for recurring series (``/manage/{community}/series``): the rhythm form
with its live preview, the series page with its occurrences, and the edits to them
(skip one date, edit this and following, end the series, create occurrences ahead)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import msgspec
from babel.dates import get_day_names
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.demo import today_in_paris
from events.errors import ValidationFailed
from events.lifecycle import has_started
from events.models import Community, Event, EventStatus, Membership, Series
from events.services.events import REGISTRATION_SETTINGS
from events.services.series import HORIZON_DAYS, EndChoice, SeriesInput, SeriesService, preview
from events.services.venues import VenueService
from events.text import render_markdown
from web.auth import Access, access
from web.forms import Form
from web.i18n import current_locale, format_date, ngettext
from web.i18n import gettext as _
from web.messages import field_errors
from web.path_objects import MANAGED_SERIES, MEMBERSHIP
from web.rendering import flash, page
from web.timezones import zone_options


class SeriesForm(Form):
    title: str = ""
    description: str = ""
    frequency: str = ""
    interval: str = ""
    weekday: str = ""
    monthly_mode: str = "weekday"  # weekday | date
    week_of_month: str = ""
    month_day: str = ""
    start_time: str = ""
    duration_minutes: str = ""
    timezone: str = ""
    starts_on: str = ""
    until: str = ""
    venue_id: str = ""
    online_url: str = ""
    capacity: str = ""
    tags: str = ""
    publish: str = ""
    # Registration settings (unticked checkboxes send nothing, hence "").
    waitlist_enabled: str = ""
    requires_approval: str = ""
    guest_allowance: str = ""
    confirm_email_first: str = ""


class FollowingForm(Form):
    from_date: str = ""
    title: str = ""
    description: str = ""
    start_time: str = ""
    duration_minutes: str = ""
    venue_id: str = ""
    online_url: str = ""
    capacity: str = ""
    tags: str = ""
    publish: str = ""
    waitlist_enabled: str = ""
    requires_approval: str = ""
    guest_allowance: str = ""
    confirm_email_first: str = ""


class ConfirmForm(Form):
    #: "yes" once the organiser confirmed on the page that says what will happen.
    confirm: str = ""


class SkipForm(Form):
    date: str = ""


class EndForm(Form):
    after: str = ""
    #: What to do with later occurrences people registered for (EndChoice); asked when any.
    registered: str = ""


def _weekdays() -> list[tuple[str, str]]:
    names = get_day_names("wide", locale=current_locale.get())
    return [(str(day), names[day].capitalize()) for day in range(7)]


def _weeks_of_month() -> list[tuple[str, str]]:
    return [
        ("1", _("first")),
        ("2", _("second")),
        ("3", _("third")),
        ("4", _("fourth")),
        ("-1", _("last")),
    ]


def _venue_choices(session: Session, community: Community) -> list[tuple[str, str]]:
    venues = VenueService(session).of_community(community)
    return [("", _("No venue")), *((str(v.id), v.name) for v in venues)]


def _parse_date(field: str, value: str) -> date:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed({field: "required"})
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed({field: "invalid_date"}) from None


def _series_input(form: SeriesForm) -> SeriesInput:
    by_date = form.monthly_mode == "date"
    return SeriesInput(
        title=form.title,
        description=form.description,
        frequency=form.frequency,
        interval=form.interval,
        weekday=form.weekday,
        week_of_month="" if by_date else form.week_of_month,
        month_day=form.month_day if by_date else "",
        start_time=form.start_time,
        duration_minutes=form.duration_minutes,
        timezone=form.timezone,
        starts_on=form.starts_on,
        until=form.until,
        venue_id=form.venue_id,
        online_url=form.online_url,
        capacity=form.capacity,
        tags=form.tags,
        publish=form.publish,
        **_registration_settings(form),
    )


def _registration_settings(form: SeriesForm | FollowingForm) -> dict[str, str]:
    return {name: getattr(form, name) for name in REGISTRATION_SETTINGS}


def _placed(form: SeriesForm, errors: dict[str, str]) -> dict[str, str]:
    """Errors keyed by the field the organiser sees: "by date" without a day of the month
    comes back from the service as a missing week of the month."""
    errors = dict(errors)
    if form.frequency == "monthly" and form.monthly_mode == "date" and "week_of_month" in errors:
        errors["month_day"] = errors.pop("week_of_month")
    return errors


def _form_page_context(
    session: Session, community: Community, form: SeriesForm, **extra: Any
) -> dict[str, Any]:
    return {
        "community": community,
        "form": msgspec.structs.asdict(form),
        "venue_choices": _venue_choices(session, community),
        "weekdays": _weekdays(),
        "weeks_of_month": _weeks_of_month(),
        "zones": zone_options(),
        **extra,
    }


def _preview_context(form: SeriesForm) -> dict[str, Any]:
    """The preview (rule in both languages, next dates) or the reasons it cannot be made."""
    try:
        result = preview(_series_input(form), today_in_paris())
    except ValidationFailed as failed:
        errors = _placed(form, failed.errors)
        return {"preview": None, "preview_errors": field_errors(errors), "errors": {}}
    return {"preview": result, "preview_errors": {}, "zone": form.timezone.strip(), "errors": {}}


def _upcoming(occurrences: list[Event]) -> list[Event]:
    now = utcnow()
    return [
        e for e in occurrences if not has_started(e, now) and e.status is not EventStatus.CANCELLED
    ]


def _end_choices(series: Series, occurrences: list[Event]) -> list[dict[str, str]]:
    """Dates the series can end after, each saying how many occurrences that cancels."""
    live = [e for e in occurrences if e.status is not EventStatus.CANCELLED]
    candidates = {max(today_in_paris(), series.starts_on)}
    candidates.update(e.series_date for e in _upcoming(occurrences) if e.series_date)
    choices = []
    for day in sorted(candidates):
        cancelled = sum(1 for e in live if e.series_date and e.series_date > day)
        label = ngettext(
            "%(day)s — %(num)d later occurrence will be cancelled",
            "%(day)s — %(num)d later occurrences will be cancelled",
            cancelled,
            day=format_date(day),
        )
        choices.append({"value": day.isoformat(), "label": label})
    return choices


def _following_form(series: Series) -> dict[str, str]:
    return {
        "title": series.title,
        "description": series.description,
        "start_time": series.start_time.strftime("%H:%M"),
        "duration_minutes": str(series.duration_minutes),
        "venue_id": str(series.venue_id or ""),
        "online_url": series.online_url,
        "capacity": "" if series.capacity is None else str(series.capacity),
        "tags": series.tag_names,
        "publish": "on" if series.publish_occurrences else "",
        "waitlist_enabled": "on" if series.waitlist_enabled else "",
        "requires_approval": "on" if series.requires_approval else "",
        "guest_allowance": str(series.guest_allowance),
        "confirm_email_first": "on" if series.confirm_email_first else "",
    }


def _series_context(
    session: Session, community: Community, series: Series, **extra: Any
) -> dict[str, Any]:
    occurrences = SeriesService(session).occurrences(series)
    upcoming = _upcoming(occurrences)
    context: dict[str, Any] = {
        "community": community,
        "series": series,
        "drafts": [e for e in upcoming if e.status is EventStatus.DRAFT],
        "description_html": render_markdown(series.description),
        "occurrences": occurrences,
        "upcoming_ids": {e.id for e in upcoming},
        "from_choices": [
            (e.series_date.isoformat(), format_date(e.series_date))
            for e in upcoming
            if e.series_date
        ],
        "end_choices": _end_choices(series, occurrences),
        "venue_choices": _venue_choices(session, community),
        "following": _following_form(series),
        "following_errors": {},
        "end_errors": {},
        "end_after": "",
        "end_question": [],
        "skip_errors": {},
        "horizon": today_in_paris() + timedelta(days=HORIZON_DAYS),
    }
    context.update(extra)
    return context


class ManageSeriesController(Controller):
    path = "/manage/{community:str}/series"
    include_in_schema = False
    dependencies = {**MEMBERSHIP, **MANAGED_SERIES}

    @get("/", opt=access(Access.ORGANISER), sync_to_thread=True)
    def list_series(
        self,
        request: Request,
        community: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        service = SeriesService(db_session)
        today = today_in_paris()
        french = current_locale.get() == "fr"
        rows = []
        for series in service.of_community(membership.community):
            upcoming = _upcoming(service.occurrences(series))
            rows.append(
                {
                    "series": series,
                    "rhythm": series.rhythm_fr if french else series.rhythm_en,
                    "next": upcoming[0] if upcoming else None,
                    "ended": series.ended_on is not None and series.ended_on < today,
                }
            )
        return page(request, "manage/series/list.html", community=membership.community, rows=rows)

    @get("/new", opt=access(Access.ORGANISER), sync_to_thread=True)
    def new_series(
        self,
        request: Request,
        community: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        the_community = membership.community
        form = SeriesForm(
            frequency="monthly",
            interval="1",
            weekday="3",
            week_of_month="1",
            start_time="19:00",
            duration_minutes="180",
            timezone=the_community.timezone,
            starts_on=today_in_paris().isoformat(),
            # New dates are public as they are created unless the organiser says otherwise.
            publish="on",
            waitlist_enabled="on",
            guest_allowance="0",
        )
        return page(
            request,
            "manage/series/form.html",
            **_form_page_context(db_session, the_community, form, **_preview_context(form)),
        )

    @post("/", opt=access(Access.ORGANISER), sync_to_thread=True)
    def create_series(
        self,
        request: Request,
        community: FromPath[str],
        data: URLEncodedBody[SeriesForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Redirect:
        the_community = membership.community
        try:
            series = SeriesService(db_session).create(
                the_community, _series_input(data), today=today_in_paris()
            )
        except ValidationFailed as failed:
            context = _preview_context(data)
            context["errors"] = field_errors(_placed(data, failed.errors))
            return page(
                request,
                "manage/series/form.html",
                status_code=400,
                **_form_page_context(db_session, the_community, data, **context),
            )
        flash(request, _("Series “%(title)s” created.", title=series.title))
        return Redirect(f"/manage/{the_community.slug}/series/{series.slug}", status_code=303)

    @post("/preview", opt=access(Access.ORGANISER), sync_to_thread=True)
    def preview_series(
        self,
        request: Request,
        community: FromPath[str],
        data: URLEncodedBody[SeriesForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        # Always 200: htmx swaps the preview in, messages included; nothing is saved.
        return page(
            request,
            "manage/series/form.html",
            fragment="manage/series/_preview.html",
            **_form_page_context(db_session, membership.community, data, **_preview_context(data)),
        )

    @get("/{series:str}", opt=access(Access.ORGANISER), sync_to_thread=True)
    def show_series(
        self,
        request: Request,
        managed_series: NamedDependency[Series],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        return page(
            request,
            "manage/series/detail.html",
            **_series_context(db_session, membership.community, managed_series),
        )

    @post("/{series:str}/skip", opt=access(Access.ORGANISER), sync_to_thread=True)
    def skip_date(
        self,
        request: Request,
        managed_series: NamedDependency[Series],
        data: URLEncodedBody[SkipForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Redirect:
        service = SeriesService(db_session)
        try:
            day = _parse_date("date", data.date)
        except ValidationFailed as failed:
            return page(
                request,
                "manage/series/detail.html",
                status_code=400,
                **_series_context(
                    db_session,
                    membership.community,
                    managed_series,
                    skip_errors=field_errors(failed.errors),
                ),
            )
        service.skip(managed_series, day)
        flash(request, _("The date of %(date)s is skipped.", date=_long_date(day)))
        return Redirect(_series_url(managed_series), status_code=303)

    @post("/{series:str}/following", opt=access(Access.ORGANISER), sync_to_thread=True)
    def edit_following(
        self,
        request: Request,
        managed_series: NamedDependency[Series],
        data: URLEncodedBody[FollowingForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Redirect:
        service = SeriesService(db_session)
        typed = SeriesInput(
            title=data.title,
            description=data.description,
            start_time=data.start_time,
            duration_minutes=data.duration_minutes,
            venue_id=data.venue_id,
            online_url=data.online_url,
            capacity=data.capacity,
            tags=data.tags,
            publish=data.publish,
            **_registration_settings(data),
        )
        errors: dict[str, str] = {}
        try:
            from_date = _parse_date("from_date", data.from_date)
        except ValidationFailed as failed:
            errors.update(failed.errors)
        if not errors:
            try:
                changed = service.update_following(managed_series, typed, from_date=from_date)
            except ValidationFailed as failed:
                errors.update(failed.errors)
        if errors:
            return page(
                request,
                "manage/series/detail.html",
                status_code=400,
                **_series_context(
                    db_session,
                    membership.community,
                    managed_series,
                    following={**msgspec.structs.asdict(data)},
                    following_errors=field_errors(errors),
                ),
            )
        flash(
            request,
            ngettext("%(num)d occurrence updated.", "%(num)d occurrences updated.", changed),
        )
        return Redirect(_series_url(managed_series), status_code=303)

    @post("/{series:str}/end", opt=access(Access.ORGANISER), sync_to_thread=True)
    def end_series(
        self,
        request: Request,
        managed_series: NamedDependency[Series],
        data: URLEncodedBody[EndForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Redirect:
        service = SeriesService(db_session)
        try:
            after = _parse_date("after", data.after)
            asked = service.registered_after(managed_series, after=after)
        except ValidationFailed as failed:
            return page(
                request,
                "manage/series/detail.html",
                status_code=400,
                **_series_context(
                    db_session,
                    membership.community,
                    managed_series,
                    end_errors=field_errors(failed.errors),
                    end_after=data.after,
                ),
            )
        if asked and data.registered not in set(EndChoice):
            # Ask first: keep those occurrences as one-off events, or cancel them too.
            return page(
                request,
                "manage/series/detail.html",
                status_code=400 if data.registered else 200,
                **_series_context(
                    db_session,
                    membership.community,
                    managed_series,
                    end_question=asked,
                    end_after=data.after,
                    end_errors=field_errors({"registered": "invalid_choice"})
                    if data.registered
                    else {},
                ),
            )
        ended = service.end(
            managed_series, after=after, registered=EndChoice(data.registered or "keep")
        )
        flash(
            request,
            ngettext(
                "The series ends after %(date)s. %(num)d later occurrence was cancelled.",
                "The series ends after %(date)s. %(num)d later occurrences were cancelled.",
                len(ended.cancelled),
                date=_long_date(after),
            ),
        )
        if ended.kept:
            flash(
                request,
                ngettext(
                    "%(num)d occurrence with registrations is kept as a one-off event.",
                    "%(num)d occurrences with registrations are kept as one-off events.",
                    len(ended.kept),
                ),
            )
        return Redirect(_series_url(managed_series), status_code=303)

    @get("/{series:str}/publish", opt=access(Access.ORGANISER), sync_to_thread=True)
    def confirm_publish(
        self,
        request: Request,
        managed_series: NamedDependency[Series],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        """What publishing every upcoming draft does, before it is done."""
        return page(
            request,
            "manage/series/publish.html",
            **_series_context(db_session, membership.community, managed_series),
        )

    @post("/{series:str}/publish", opt=access(Access.ORGANISER), sync_to_thread=True)
    def publish_upcoming(
        self,
        request: Request,
        managed_series: NamedDependency[Series],
        data: URLEncodedBody[ConfirmForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Redirect:
        if data.confirm != "yes":
            return Redirect(_series_url(managed_series) + "/publish", status_code=303)
        published = SeriesService(db_session).publish_upcoming(managed_series, now=utcnow())
        flash(
            request,
            ngettext(
                "%(num)d upcoming date published.",
                "%(num)d upcoming dates published.",
                len(published),
            ),
        )
        return Redirect(_series_url(managed_series), status_code=303)

    @post("/{series:str}/extend", opt=access(Access.ORGANISER), sync_to_thread=True)
    def extend_series(
        self,
        request: Request,
        managed_series: NamedDependency[Series],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Redirect:
        service = SeriesService(db_session)
        created = service.materialise(
            managed_series, today_in_paris() + timedelta(days=HORIZON_DAYS)
        )
        flash(
            request,
            ngettext(
                "%(num)d new occurrence created.", "%(num)d new occurrences created.", len(created)
            ),
        )
        return Redirect(_series_url(managed_series), status_code=303)


def _series_url(series: Series) -> str:
    return f"/manage/{series.community.slug}/series/{series.slug}"


def _long_date(day: date) -> str:
    return format_date(day)
