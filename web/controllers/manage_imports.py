"""Organiser pages for imported calendars (``/manage/{community}/imports``): subscribe to
an external iCalendar URL, refresh it now, remove it (with its events), or upload an
``.ics`` file once.

No request waits for another site: subscribing and "Refresh now" queue the fetch and
answer at once; it runs in the background (events/services/calendar_refresh.py), started
as soon as the answer is sent. A calendar being fetched shows "Fetching…"; with htmx its
card asks again every few seconds until the outcome is there, without JavaScript a link
reloads the page. An uploaded file is read before the write begins, in one of the
process's CPU slots (web/heavy_work.py), then written in one short transaction. Every
action works as a plain form answered by a 303 with a flash message.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any
from uuid import UUID

import anyio.to_thread
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
from events.imports import MAX_BYTES, ImportRefused
from events.models import Community, ExternalCalendar, Membership
from events.services.communities import CommunityService
from events.services.external_calendars import (
    PENDING,
    ExternalCalendarService,
    SubscriptionInput,
    read_calendar_file,
)
from web.auth import Access, access, provide_membership
from web.db import run_write
from web.forms import Form
from web.heavy_work import run_heavy
from web.i18n import gettext as _
from web.i18n import ngettext
from web.imports import fetch_soon
from web.messages import field_errors
from web.rendering import flash, page, wants_fragment

LIST_PAGE = "manage/imports/list.html"
SOURCE_FRAGMENT = "manage/imports/_source.html"
#: The multipart envelope around an uploaded file of MAX_BYTES.
UPLOAD_OVERHEAD = 64 * 1024
#: How often a card whose fetch is pending asks for news (htmx).
POLL_EVERY = "3s"


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
        "queued": _("Waiting for its turn to be fetched…"),
        "fetching": _("Fetching…"),
        "ok": _("Imported."),
        "not_modified": _("Up to date: unchanged since the last fetch."),
        "invalid_url": _("This is not a valid http(s) address."),
        "private_address": _(
            "The address leads to a private network, which calendar imports may not reach."
        ),
        "dns_error": _("The server's name could not be found."),
        "connection_failed": _("The server could not be reached."),
        "timeout": _("The server did not answer in time: the fetch was abandoned."),
        "too_many_redirects": _("The address redirects too many times."),
        "http_error": _("The server answered with an error."),
        "too_large": _("The calendar is too large (more than 5 MB)."),
        "not_icalendar": _("This is not an iCalendar (.ics) calendar."),
        "too_many_events": _(
            "The calendar has too many events (more than 2,000 in the coming year)."
        ),
        "too_complex": _(
            "The calendar takes too long to read (too many events or repeating rules)."
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
        "too_complex": status_message("too_complex"),
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
    #: A fetch is queued or under way: the card asks for news until it is done.
    fetching: bool
    notes: list[str]
    #: The question asked before removing it (with how many events go with it).
    confirm: str


def source_view(source: ExternalCalendar) -> SourceView:
    status = source.last_status
    fetching = status in PENDING
    state = (
        "pending"
        if not status or fetching
        else "ok"
        if status in {"ok", "not_modified"}
        else "error"
    )
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
        fetching=fetching,
        notes=notes,
        confirm=confirm,
    )


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


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
        "poll_every": POLL_EVERY,
    }


def _render_list(request: Request, slug: str, status_code: int = 200, **kwargs: Any) -> Template:
    with _db(request).session() as session:
        community = CommunityService(session).by_slug(slug)
        context = _list_context(session, community, **kwargs)
    return page(request, LIST_PAGE, status_code=status_code, **context)


def _back(slug: str, *, fetch: bool = False, request: Request | None = None) -> Redirect:
    """Back to the list; with ``fetch``, the queued fetch starts once this is sent."""
    background = fetch_soon(request) if fetch and request is not None else None
    return Redirect(f"/manage/{slug}/imports", status_code=303, background=background)


def _card(request: Request, community: Community, source: ExternalCalendar) -> Template:
    return page(
        request,
        LIST_PAGE,
        fragment=SOURCE_FRAGMENT,
        community=community,
        item=source_view(source),
        poll_every=POLL_EVERY,
    )


def _community_zone(db: Database, slug: str) -> str:
    with db.session() as session:
        return CommunityService(session).by_slug(slug).timezone


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
        self,
        request: Request,
        community: FromPath[str],
        data: URLEncodedBody[SubscriptionForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Redirect:
        try:
            source = ExternalCalendarService(db_session).subscribe(
                membership.community, SubscriptionInput(name=data.name, url=data.url)
            )
        except ValidationFailed as failed:
            return page(
                request,
                LIST_PAGE,
                status_code=400,
                **_list_context(
                    db_session,
                    membership.community,
                    form=msgspec.structs.asdict(data),
                    errors=_field_messages(failed.errors),
                ),
            )
        flash(request, _("Calendar added: “%(name)s” is being fetched.", name=source.name))
        return _back(community, fetch=True, request=request)

    @post(
        "/upload",
        opt=access(Access.ORGANISER),
        request_max_body_size=MAX_BYTES + UPLOAD_OVERHEAD,
    )
    async def upload(
        self, request: Request, community: FromPath[str], data: MultipartBody[UploadForm]
    ) -> Template | Redirect:
        # No write session here: reading the file takes seconds and must not hold the
        # write lock (web/heavy_work.py); the events are written afterwards, briefly.
        upload = data.file if isinstance(data.file, UploadFile) else None
        render = partial(_render_list, request, community, status_code=400)
        if upload is None or not upload.filename:
            errors = field_errors({"file": "required"})
            return await anyio.to_thread.run_sync(partial(render, upload_errors=errors))
        content = await upload.read(MAX_BYTES + 1)
        now = utcnow()
        zone = await anyio.to_thread.run_sync(_community_zone, _db(request), community)
        try:
            prepared = await run_heavy(
                partial(read_calendar_file, content, now=now, default_timezone=zone)
            )
        except ImportRefused as refused:
            errors = _field_messages({"file": refused.code})
            return await anyio.to_thread.run_sync(
                partial(render, upload_errors=errors, upload_detail=refused.detail)
            )

        def store(session: Session) -> tuple[str, int]:
            found = CommunityService(session).by_slug(community)
            source, report = ExternalCalendarService(session).import_upload(
                found, prepared, filename=upload.filename, now=now
            )
            return source.name, report.total

        try:
            name, total = await run_write(request, store)
        except ValidationFailed as failed:
            errors = _field_messages({"file": failed.errors.get("file", "invalid")})
            return await anyio.to_thread.run_sync(partial(render, upload_errors=errors))
        flash(
            request,
            ngettext(
                "%(num)d event imported from “%(name)s”.",
                "%(num)d events imported from “%(name)s”.",
                total,
                name=name,
            ),
        )
        return _back(community)

    @get("/{item_id:uuid}", opt=access(Access.ORGANISER), sync_to_thread=True)
    def source_card(
        self,
        request: Request,
        community: FromPath[str],
        item_id: FromPath[UUID],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Redirect | ClientRedirect:
        """One calendar's card: what a pending card asks for (htmx); the list otherwise."""
        source = ExternalCalendarService(db_session).in_community(membership.community, item_id)
        if source is None:
            return self._gone(request, community)
        if not wants_fragment(request):
            return _back(community)
        return _card(request, membership.community, source)

    @post("/{item_id:uuid}/refresh", opt=access(Access.ORGANISER), sync_to_thread=True)
    def refresh(
        self,
        request: Request,
        community: FromPath[str],
        item_id: FromPath[UUID],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Redirect | ClientRedirect:
        service = ExternalCalendarService(db_session)
        source = service.in_community(membership.community, item_id)
        if source is None or not service.request_fetch(source):
            return self._gone(request, community)
        if wants_fragment(request):
            card = _card(request, membership.community, source)
            card.background = fetch_soon(request)
            return card
        flash(request, _("“%(name)s” is being fetched.", name=source.name))
        return _back(community, fetch=True, request=request)

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
