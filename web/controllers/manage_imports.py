"""Organiser pages for imported calendars (``/manage/{community}/imports``): subscribe to
an external iCalendar URL, refresh it now, remove it (with its events), or upload an
``.ics`` file once.

Fetching another site takes seconds, so the handlers that fetch or parse do not take the
request's write session (it would hold the database's write lock meanwhile): they call
the services in events/services/external_calendars.py, which fetch and parse first and
write in one short transaction afterwards. Every action works as a plain form answered by
a 303 with a flash message; with htmx, "refresh now" swaps the calendar's card in place
and shows its progress on the button.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, MultipartBody, URLEncodedBody
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.database import Database
from events.errors import ValidationFailed
from events.imports import MAX_BYTES, ImportRefused, parse_calendar
from events.models import Community, ExternalCalendar, Membership
from events.services.communities import CommunityService
from events.services.external_calendars import (
    ExternalCalendarService,
    RefreshOutcome,
    SubscriptionInput,
    refresh_source,
)
from web.auth import Access, access, provide_membership
from web.forms import Form
from web.i18n import gettext as _
from web.i18n import ngettext
from web.imports import fetch_policy
from web.messages import field_errors
from web.rendering import flash, page, wants_fragment
from web.settings import Settings

LIST_PAGE = "manage/imports/list.html"
SOURCE_FRAGMENT = "manage/imports/_source.html"
#: The multipart envelope around an uploaded file of MAX_BYTES.
UPLOAD_OVERHEAD = 64 * 1024


class SubscriptionForm(Form):
    name: str = ""
    url: str = ""


@dataclass
class UploadForm:
    file: UploadFile | None = None


def status_message(status: str) -> str:
    """What the last fetch's status means, in the reader's language."""
    messages = {
        "": _("Not fetched yet."),
        "ok": _("Imported."),
        "not_modified": _("Up to date: unchanged since the last fetch."),
        "invalid_url": _("This is not a valid http(s) address."),
        "private_address": _(
            "The address leads to a private network, which calendar imports may not reach."
        ),
        "dns_error": _("The server's name could not be found."),
        "connection_failed": _("The server could not be reached."),
        "timeout": _("The server did not answer in time."),
        "too_many_redirects": _("The address redirects too many times."),
        "http_error": _("The server answered with an error."),
        "too_large": _("The calendar is too large (more than 5 MB)."),
        "not_icalendar": _("This is not an iCalendar (.ics) calendar."),
        "too_many_events": _(
            "The calendar has too many events (more than 2,000 in the coming year)."
        ),
        "internal_error": _("The import failed unexpectedly; it will be tried again."),
    }
    return messages.get(status, _("The import failed."))


def note_message(note: Any) -> str:
    """One of the notes the last import left (events.imports.Note, stored as JSON)."""
    try:
        code, params = str(note[0]), dict(note[1])
    except (TypeError, ValueError, IndexError, KeyError):
        return ""
    count = int(params.get("count") or 0)
    if code == "floating_times":
        return _("Times without a time zone were read in %(zone)s.", zone=params.get("zone", ""))
    if code == "unknown_timezone" and params.get("zone"):
        return _(
            "Unknown time zone “%(tzid)s”: its times were read in %(zone)s.",
            tzid=params.get("tzid", ""),
            zone=params.get("zone", ""),
        )
    if code == "unknown_timezone":
        return _("Unknown calendar time zone “%(tzid)s”: ignored.", tzid=params.get("tzid", ""))
    if code == "frequent_rule":
        return ngettext(
            "%(num)d event repeats too often to import and was left out.",
            "%(num)d events repeat too often to import and were left out.",
            count,
        )
    if code == "skipped_events":
        return ngettext(
            "%(num)d event could not be read and was left out.",
            "%(num)d events could not be read and were left out.",
            count,
        )
    if code == "not_utf8":
        return _("The calendar is not in UTF-8: some characters may be wrong.")
    return ""


def _field_messages(errors: dict[str, str]) -> dict[str, str]:
    own = {
        "already_subscribed": _("This community already imports this calendar."),
        "too_large": status_message("too_large"),
        "not_icalendar": status_message("not_icalendar"),
        "too_many_events": status_message("too_many_events"),
    }
    messages = field_errors({f: c for f, c in errors.items() if c not in own})
    messages.update({f: own[c] for f, c in errors.items() if c in own})
    return messages


@dataclass(frozen=True)
class SourceView:
    source: ExternalCalendar
    message: str
    #: "ok", "error" or "pending": the badge's colour.
    state: str
    notes: list[str]
    #: The question asked before removing it (with how many events go with it).
    confirm: str


def source_view(source: ExternalCalendar) -> SourceView:
    status = source.last_status
    state = "pending" if not status else "ok" if status in {"ok", "not_modified"} else "error"
    notes = [text for text in map(note_message, source.last_notes or []) if text]
    confirm = ngettext(
        "Remove “%(name)s” and its %(num)d imported event?",
        "Remove “%(name)s” and its %(num)d imported events?",
        source.event_count,
        name=source.name,
    )
    return SourceView(
        source=source,
        message=status_message(status),
        state=state,
        notes=notes,
        confirm=confirm,
    )


def _db(request: Request) -> Database:
    return request.app.state.db


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _list_context(
    session: Session,
    community: Community,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    upload_errors: dict[str, str] | None = None,
    upload_detail: str = "",
) -> dict[str, Any]:
    sources = ExternalCalendarService(session).of_community(community)
    return {
        "community": community,
        "sources": [source_view(s) for s in sources],
        "form": form or {},
        "errors": errors or {},
        "upload_errors": upload_errors or {},
        "upload_detail": upload_detail,
        "max_megabytes": MAX_BYTES // (1024 * 1024),
    }


def _render_list(request: Request, slug: str, status_code: int = 200, **kwargs: Any) -> Template:
    with _db(request).session() as session:
        community = CommunityService(session).by_slug(slug)
        context = _list_context(session, community, **kwargs)
    return page(request, LIST_PAGE, status_code=status_code, **context)


def _outcome_flash(request: Request, outcome: RefreshOutcome | None) -> None:
    if outcome is None:
        return
    if outcome.status == "ok":
        report = outcome.report
        flash(
            request,
            _(
                "“%(name)s” fetched: %(created)d new, %(updated)d changed, "
                "%(removed)d removed events.",
                name=outcome.name,
                created=report.created,
                updated=report.updated,
                removed=report.removed,
            ),
        )
    elif outcome.status == "not_modified":
        flash(request, _("“%(name)s” is unchanged.", name=outcome.name))
    else:
        flash(
            request,
            _(
                "“%(name)s” could not be imported: %(reason)s",
                name=outcome.name,
                reason=status_message(outcome.status),
            ),
            "error",
        )


def _back(slug: str) -> Redirect:
    return Redirect(f"/manage/{slug}/imports", status_code=303)


class ManageImportsController(Controller):
    path = "/manage/{community:str}/imports"
    include_in_schema = False
    dependencies = {"membership": Provide(provide_membership, sync_to_thread=True)}

    @get("/", opt=access(Access.ORGANISER), sync_to_thread=True)
    def list_imports(
        self,
        request: Request,
        community: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        return page(request, LIST_PAGE, **_list_context(db_session, membership.community))

    @post("/", opt=access(Access.ORGANISER), sync_to_thread=True)
    def subscribe(
        self, request: Request, community: FromPath[str], data: URLEncodedBody[SubscriptionForm]
    ) -> Template | Redirect:
        db = _db(request)
        try:
            with db.transaction() as session:
                found = CommunityService(session).by_slug(community)
                source = ExternalCalendarService(session).subscribe(
                    found, SubscriptionInput(name=data.name, url=data.url)
                )
                source_id = source.id
        except ValidationFailed as failed:
            return _render_list(
                request,
                community,
                status_code=400,
                form=msgspec.structs.asdict(data),
                errors=_field_messages(failed.errors),
            )
        # The first fetch right away (bounded by the fetch timeouts): the organiser sees
        # at once whether the address works.
        outcome = refresh_source(db, source_id, policy=fetch_policy(_settings(request)))
        flash(request, _("Calendar added."))
        _outcome_flash(request, outcome)
        return _back(community)

    @post(
        "/upload",
        opt=access(Access.ORGANISER),
        sync_to_thread=True,
        request_max_body_size=MAX_BYTES + UPLOAD_OVERHEAD,
    )
    def upload(
        self, request: Request, community: FromPath[str], data: MultipartBody[UploadForm]
    ) -> Template | Redirect:
        upload = data.file if isinstance(data.file, UploadFile) else None
        if upload is None or not upload.filename:
            return _render_list(
                request,
                community,
                status_code=400,
                upload_errors=field_errors({"file": "required"}),
            )
        content = upload.file.read(MAX_BYTES + 1)
        db, now = _db(request), utcnow()
        with db.session() as session:
            zone = CommunityService(session).by_slug(community).timezone
        try:
            parsed = parse_calendar(content, now=now, default_timezone=zone)
        except ImportRefused as refused:
            return _render_list(
                request,
                community,
                status_code=400,
                upload_errors=_field_messages({"file": refused.code}),
                upload_detail=refused.detail,
            )
        try:
            with db.transaction() as session:
                found = CommunityService(session).by_slug(community)
                source, report = ExternalCalendarService(session).import_upload(
                    found, parsed, filename=upload.filename, now=now
                )
                name = source.name
        except ValidationFailed as failed:
            return _render_list(
                request,
                community,
                status_code=400,
                upload_errors=_field_messages({"file": failed.errors.get("file", "invalid")}),
            )
        flash(
            request,
            ngettext(
                "%(num)d event imported from “%(name)s”.",
                "%(num)d events imported from “%(name)s”.",
                report.total,
                name=name,
            ),
        )
        return _back(community)

    @post("/{item_id:uuid}/refresh", opt=access(Access.ORGANISER), sync_to_thread=True)
    def refresh(
        self, request: Request, community: FromPath[str], item_id: FromPath[UUID]
    ) -> Template | Redirect | ClientRedirect:
        db = _db(request)
        with db.session() as session:
            found = CommunityService(session).by_slug(community)
            source = ExternalCalendarService(session).in_community(found, item_id)
        if source is None or source.is_upload:
            return self._gone(request, community)
        outcome = refresh_source(db, item_id, policy=fetch_policy(_settings(request)))
        if wants_fragment(request):
            with db.session() as session:
                found = CommunityService(session).by_slug(community)
                source = ExternalCalendarService(session).in_community(found, item_id)
                if source is None:
                    return self._gone(request, community)
                return page(
                    request,
                    LIST_PAGE,
                    fragment=SOURCE_FRAGMENT,
                    community=found,
                    item=source_view(source),
                )
        _outcome_flash(request, outcome)
        return _back(community)

    @post("/{item_id:uuid}/delete", opt=access(Access.ORGANISER), sync_to_thread=True)
    def delete(
        self,
        request: Request,
        community: FromPath[str],
        item_id: FromPath[UUID],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Redirect | ClientRedirect:
        service = ExternalCalendarService(db_session)
        source = service.in_community(membership.community, item_id)
        if source is None:
            return self._gone(request, community)
        name = source.name
        removed = service.remove(source)
        flash(
            request,
            ngettext(
                "“%(name)s” removed, with its %(num)d imported event.",
                "“%(name)s” removed, with its %(num)d imported events.",
                removed,
                name=name,
            ),
        )
        return _back(community)

    @staticmethod
    def _gone(request: Request, community: str) -> Redirect | ClientRedirect:
        """A calendar that is not (or no longer) there: back to the list, saying so."""
        flash(request, _("This imported calendar does not exist (any more)."), "error")
        if wants_fragment(request):
            return ClientRedirect(f"/manage/{community}/imports")
        return _back(community)
