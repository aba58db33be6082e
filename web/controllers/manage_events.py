"""The organiser's one-off events and each evening's programme (``/manage/{community}/events``).

Every form works as a plain POST followed by a redirect; htmx only makes it smoother:
the event form swaps itself on errors, the Markdown preview updates as one types, and
the programme editor re-renders in place.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromPath, FromQuery, MultipartBody, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.database import Database
from events.errors import ValidationFailed
from events.models import Community, Event, EventStatus, Membership
from events.services.communities import CommunityService
from events.services.cover_images import (
    MAX_PIXELS,
    MAX_UPLOAD_BYTES,
    CoverImageService,
    encode_cover,
)
from events.services.discovery import EventFilters, all_tags, find_events
from events.services.events import EventInput, EventService
from events.services.programme import ProgrammeInput, ProgrammeService
from events.services.series import SeriesService
from events.services.venues import VenueService
from events.text import render_markdown
from web.auth import Access, access
from web.db import run_write
from web.errors import error_response
from web.event_page import event_page_context, render_event_parts
from web.forms import Form
from web.heavy_work import run_heavy
from web.i18n import gettext as _
from web.messages import error_message, field_errors
from web.path_objects import MANAGED_EVENT, MEMBERSHIP
from web.rendering import flash, page, wants_fragment
from web.settings import Settings
from web.timezones import zone_options

PAGE_SIZE = 50
MAX_PAGE = 200
PREVIEW_MAX_CHARS = 20_000
DEFAULT_COVER_COLOR = "#0b5cad"
#: The cover upload's whole request: the image plus the few fields around it. Anything
#: bigger is cut off while it arrives (413) instead of being spooled to disk first.
MAX_COVER_REQUEST_BYTES = MAX_UPLOAD_BYTES + 64 * 1024


class EventForm(Form):
    title: str = ""
    description: str = ""
    starts_local: str = ""
    ends_local: str = ""
    timezone: str = ""
    venue_id: str = ""
    online_url: str = ""
    capacity: str = ""
    tags: str = ""
    # <input type=color> always sends a colour: the checkbox says whether to use it.
    use_cover_color: str = ""
    cover_color: str = ""
    # Registration settings (unticked checkboxes send nothing, hence "").
    waitlist_enabled: str = ""
    requires_approval: str = ""
    guest_allowance: str = ""
    confirm_email_first: str = ""

    def to_input(self) -> EventInput:
        return EventInput(
            title=self.title,
            description=self.description,
            starts_local=self.starts_local,
            ends_local=self.ends_local,
            timezone=self.timezone,
            venue_id=self.venue_id,
            online_url=self.online_url,
            capacity=self.capacity,
            tags=self.tags,
            cover_color=self.cover_color if self.use_cover_color else "",
            waitlist_enabled=self.waitlist_enabled,
            requires_approval=self.requires_approval,
            guest_allowance=self.guest_allowance,
            confirm_email_first=self.confirm_email_first,
        )

    def values(self) -> dict[str, str]:
        """What the visitor typed, trimmed to sane lengths, to refill the form."""
        return {name: getattr(self, name)[:20_000] for name in self.__struct_fields__}


@dataclass
class CoverForm:
    """The cover upload (multipart): the file, if one was chosen."""

    cover_image: UploadFile | None = None


class PreviewForm(Form):
    description: str = ""


class CancelForm(Form):
    reason: str = ""


class ConfirmForm(Form):
    #: "yes" once the organiser confirmed on the page that says what will happen.
    confirm: str = ""


class ProgrammeForm(Form):
    title: str = ""
    speakers: str = ""
    room: str = ""
    start_time: str = ""
    end_time: str = ""
    description: str = ""
    tag: str = ""

    def to_input(self) -> ProgrammeInput:
        return ProgrammeInput(
            title=self.title,
            speakers=self.speakers,
            room=self.room,
            start_time=self.start_time,
            end_time=self.end_time,
            description=self.description,
            tag=self.tag,
        )

    def values(self) -> dict[str, str]:
        return {name: getattr(self, name)[:5_000] for name in self.__struct_fields__}


# -- helpers ------------------------------------------------------------------------------
def local_input(moment: datetime | None, zone: str, pattern: str = "%Y-%m-%dT%H:%M") -> str:
    """A UTC instant as ``<input type=datetime-local>`` (or ``time``) expects it."""
    return moment.astimezone(ZoneInfo(zone)).strftime(pattern) if moment else ""


def form_of(event: Event) -> dict[str, str]:
    return {
        "title": event.title,
        "description": event.description,
        "starts_local": local_input(event.starts_at, event.timezone),
        "ends_local": local_input(event.ends_at, event.timezone),
        "timezone": event.timezone,
        "venue_id": str(event.venue_id) if event.venue_id else "",
        "online_url": event.online_url,
        "capacity": "" if event.capacity is None else str(event.capacity),
        "tags": ", ".join(tag.name for tag in event.tags),
        "use_cover_color": "on" if event.cover_color else "",
        "cover_color": event.cover_color or DEFAULT_COVER_COLOR,
        "waitlist_enabled": "on" if event.waitlist_enabled else "",
        "requires_approval": "on" if event.requires_approval else "",
        "guest_allowance": str(event.guest_allowance),
        "confirm_email_first": "on" if event.confirm_email_first else "",
    }


def blank_form(community: Community) -> dict[str, str]:
    return {
        "timezone": community.timezone,
        "cover_color": DEFAULT_COVER_COLOR,
        "waitlist_enabled": "on",
        "guest_allowance": "0",
    }


def cover_messages() -> dict[str, str]:
    # Until web/messages.py knows these codes; error_message() takes over for the rest.
    megabytes = MAX_UPLOAD_BYTES // (1024 * 1024)
    return {
        "cover_empty": _("Choose an image file."),
        "cover_too_large": _(
            "This image is too large: choose one under %(size)s MB.", size=megabytes
        ),
        "cover_unsupported": _("This is not an image we can use: choose a JPEG, PNG, WebP or GIF."),
        "cover_too_many_pixels": _(
            "This image has too many pixels: reduce it to at most %(megapixels)s megapixels.",
            megapixels=MAX_PIXELS // 1_000_000,
        ),
        "cover_damaged": _("This image file is damaged or incomplete: export it again."),
    }


def cover_errors(errors: dict[str, str]) -> dict[str, str]:
    messages = cover_messages()
    return {name: messages.get(code) or error_message(code) for name, code in errors.items()}


def cover_preview(session: Session, event: Event) -> str | None:
    """The small cover as a ``data:`` URL: drafts have no public image address."""
    if getattr(event, "cover", None) is None:
        return None
    cover = CoverImageService(session).cover_of(event, "small")
    if cover is None:
        return None
    return f"data:{cover.content_type};base64,{base64.b64encode(cover.data).decode()}"


def cover_upload_too_large(request: Request, exc: HTTPException) -> Response[Any]:
    """A cover upload cut off at MAX_COVER_REQUEST_BYTES: say why, in words."""
    megabytes = MAX_UPLOAD_BYTES // (1024 * 1024)
    return error_response(
        request,
        413,
        _("This image is too large: choose one under %(size)s MB.", size=megabytes),
    )


def redirect_to(request: Request, url: str) -> Response[Any]:
    """After a successful write: htmx navigates with ``HX-Redirect``, browsers follow a 303."""
    if wants_fragment(request):
        return Response(content=b"", status_code=200, headers={"HX-Redirect": url})
    return Redirect(url, status_code=303)


def _event_url(community: Community, event: Event) -> str:
    return f"/manage/{community.slug}/events/{event.slug}"


def _parse_page(value: str) -> int:
    try:
        return min(max(int(value), 1), MAX_PAGE)
    except ValueError:
        return 1


class ManageEventsController(Controller):
    path = "/manage/{community:str}/events"
    include_in_schema = False
    dependencies = {**MEMBERSHIP, **MANAGED_EVENT}

    # -- rendering helpers ----------------------------------------------------------------
    @staticmethod
    def _form_context(
        session: Session,
        community: Community,
        form: dict[str, str],
        errors: dict[str, str],
        *,
        preview: str | None = None,
    ) -> dict[str, Any]:
        description = form.get("description", "")
        return {
            "community": community,
            "form": form,
            "errors": errors,
            "venues": VenueService(session).of_community(community),
            "tag_suggestions": all_tags(session),
            "zones": zone_options(),
            "preview_html": preview
            if preview is not None
            else render_markdown(description[:PREVIEW_MAX_CHARS]),
        }

    @classmethod
    def _edit_page(
        cls,
        request: Request,
        session: Session,
        community: Community,
        event: Event,
        *,
        status_code: int = 200,
        fragment: str | None = None,
        form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        programme_form: dict[str, str] | None = None,
        programme_errors: dict[str, str] | None = None,
        editing: UUID | None = None,
        cancel_form: dict[str, str] | None = None,
        cancel_errors: dict[str, str] | None = None,
        cover_errors: dict[str, str] | None = None,
    ) -> Template:
        series = None
        if event.series_id is not None:
            of_community = SeriesService(session).of_community(community)
            series = next((s for s in of_community if s.id == event.series_id), None)
        items = ProgrammeService(session).items(event)
        rows = [
            {
                "item": item,
                "start": local_input(item.starts_at, event.timezone, "%H:%M"),
                "end": local_input(item.ends_at, event.timezone, "%H:%M"),
            }
            for item in items
        ]
        preview = event.description_html if form is None else None
        return page(
            request,
            "manage/events/edit.html",
            fragment=fragment,
            status_code=status_code,
            event=event,
            series=series,
            programme=rows,
            programme_form=programme_form or {},
            programme_errors=programme_errors or {},
            editing=editing,
            cancel_form=cancel_form or {},
            cancel_errors=cancel_errors or {},
            cover_preview=cover_preview(session, event),
            can_unpublish=EventService(session).can_unpublish(event),
            cover_errors=cover_errors or {},
            cover_max_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
            **cls._form_context(
                session,
                community,
                form if form is not None else form_of(event),
                errors or {},
                preview=preview,
            ),
        )

    # -- the list ---------------------------------------------------------------------------
    @get("/", opt=access(Access.ORGANISER), sync_to_thread=True)
    def index(
        self,
        request: Request,
        community: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
        past: FromQuery[str] = "",
        page_number: Annotated[str, QueryParameter(name="page")] = "",
    ) -> Template:
        current = membership.community
        number = _parse_page(page_number)
        if past:
            found = find_events(
                db_session,
                EventFilters(community=current.slug, past=True, page=number),
                now=utcnow(),
            )
            events, has_next = found.events, found.page < found.pages
        else:
            upcoming = EventService(db_session).upcoming_in(current, limit=number * PAGE_SIZE + 1)
            events = upcoming[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
            has_next = len(upcoming) > number * PAGE_SIZE
        return page(
            request,
            "manage/events/list.html",
            community=current,
            events=events,
            past=bool(past),
            page_number=number,
            has_next=has_next,
            total=EventService(db_session).count_in(current),
        )

    # -- create -------------------------------------------------------------------------------
    @get("/new", opt=access(Access.ORGANISER), sync_to_thread=True)
    def new(
        self,
        request: Request,
        community: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        current = membership.community
        return page(
            request,
            "manage/events/new.html",
            **self._form_context(db_session, current, blank_form(current), {}),
        )

    @post("/", opt=access(Access.ORGANISER), sync_to_thread=True)
    def create(
        self,
        request: Request,
        community: FromPath[str],
        data: URLEncodedBody[EventForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Response[Any]:
        current = membership.community
        try:
            event = EventService(db_session).create(current, data.to_input())
        except ValidationFailed as failed:
            return page(
                request,
                "manage/events/new.html",
                fragment="manage/events/_form.html",
                status_code=400,
                **self._form_context(
                    db_session, current, data.values(), field_errors(failed.errors)
                ),
            )
        flash(request, _("Event “%(title)s” created as a draft.", title=event.title))
        return redirect_to(request, f"/manage/{current.slug}/events/{event.slug}")

    @post("/preview", opt=access(Access.ORGANISER), sync_to_thread=True)
    def preview(
        self,
        request: Request,
        community: FromPath[str],
        data: URLEncodedBody[PreviewForm],
    ) -> Template:
        html = render_markdown(data.description[:PREVIEW_MAX_CHARS])
        return Template(template_name="manage/events/_preview.html", context={"preview_html": html})

    # -- edit ---------------------------------------------------------------------------------
    @get("/{event:str}", opt=access(Access.ORGANISER), sync_to_thread=True)
    def edit(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        current = membership.community
        return self._edit_page(request, db_session, current, managed_event)

    @post("/{event:str}", opt=access(Access.ORGANISER), sync_to_thread=True)
    def update(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        data: URLEncodedBody[EventForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Response[Any]:
        current = membership.community
        service = EventService(db_session)
        try:
            service.update(managed_event, data.to_input())
        except ValidationFailed as failed:
            # Validation runs before anything is assigned: the event is still as stored.
            return self._edit_page(
                request,
                db_session,
                current,
                managed_event,
                status_code=400,
                fragment="manage/events/_form.html",
                form=data.values(),
                errors=field_errors(failed.errors),
            )
        flash(request, _("Saved."))
        return redirect_to(request, f"/manage/{current.slug}/events/{managed_event.slug}")

    @get("/{event:str}/view", opt=access(Access.ORGANISER), sync_to_thread=True)
    def view(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        """The public page as it is or will be, drafts included, for the organisers only
        (never cached, never indexed; a banner says whether the public sees it)."""
        event = EventService(db_session).with_programme(managed_event.slug, public=False)
        settings: Settings = request.app.state.settings
        parts = render_event_parts(request, db_session, event, settings, now=utcnow())
        return page(
            request,
            "public/event.html",
            **event_page_context(
                request,
                parts,
                preview={"event": event, "edit_url": _event_url(membership.community, event)},
            ),
        )

    @get("/{event:str}/publish", opt=access(Access.ORGANISER), sync_to_thread=True)
    def confirm_publish(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        membership: NamedDependency[Membership],
    ) -> Template:
        """What publishing does, before it is done."""
        return page(
            request,
            "manage/events/publish.html",
            community=membership.community,
            event=managed_event,
        )

    @post("/{event:str}/publish", opt=access(Access.ORGANISER), sync_to_thread=True)
    def publish(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        data: URLEncodedBody[ConfirmForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        here = _event_url(membership.community, managed_event)
        if data.confirm != "yes":
            return redirect_to(request, f"{here}/publish")
        EventService(db_session).publish(managed_event)
        flash(request, _("Published: the event is now public."))
        return redirect_to(request, here)

    @post("/{event:str}/unpublish", opt=access(Access.ORGANISER), sync_to_thread=True)
    def unpublish(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        EventService(db_session).unpublish(managed_event)
        flash(request, _("Back to draft: the event is no longer public."))
        return redirect_to(request, _event_url(membership.community, managed_event))

    @post("/{event:str}/cancel", opt=access(Access.ORGANISER), sync_to_thread=True)
    def cancel(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        data: URLEncodedBody[CancelForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Response[Any]:
        current = membership.community
        service = EventService(db_session)
        was_draft = managed_event.status is EventStatus.DRAFT
        try:
            service.cancel(managed_event, data.reason)
        except ValidationFailed as failed:
            return self._edit_page(
                request,
                db_session,
                current,
                managed_event,
                status_code=400,
                cancel_form={"reason": data.reason[:5_000]},
                cancel_errors=field_errors({"reason": next(iter(failed.errors.values()))}),
            )
        if was_draft:
            flash(request, _("Draft deleted."))
            return redirect_to(request, f"/manage/{current.slug}/events")
        flash(request, _("Event cancelled."))
        return redirect_to(request, f"/manage/{current.slug}/events/{managed_event.slug}")

    @post("/{event:str}/duplicate", opt=access(Access.ORGANISER), sync_to_thread=True)
    def duplicate(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        current = membership.community
        service = EventService(db_session)
        copy = service.duplicate(managed_event)
        CoverImageService(db_session).copy_cover(managed_event, copy)
        flash(request, _("Copy created as a draft, one week later. Check its date."))
        return redirect_to(request, f"/manage/{current.slug}/events/{copy.slug}")

    # -- cover image ----------------------------------------------------------------------------
    @post(
        "/{event:str}/cover",
        opt=access(Access.ORGANISER),
        request_max_body_size=MAX_COVER_REQUEST_BYTES,
        exception_handlers={413: cover_upload_too_large},
    )
    async def upload_cover(
        self,
        request: Request,
        community: FromPath[str],
        event: FromPath[str],
        data: MultipartBody[CoverForm],
    ) -> Template | Response[Any]:
        # No write session here (nor ``membership`` or ``managed_event``, built on it):
        # decoding takes seconds and must not hold the write lock (web/heavy_work.py).
        upload = data.cover_image
        # One byte more than allowed is enough to know it is too much.
        content = await upload.read(MAX_UPLOAD_BYTES + 1) if upload is not None else b""
        try:
            encoded = await run_heavy(encode_cover, content)
        except ValidationFailed as failed:
            return await anyio.to_thread.run_sync(
                self._cover_refused, request, community, event, failed.errors
            )

        def store(session: Session) -> str:
            current = CommunityService(session).by_slug(community)
            found = EventService(session).in_community(current, event)
            CoverImageService(session).store_cover(found, encoded)
            return f"/manage/{current.slug}/events/{found.slug}#cover"

        target = await run_write(request, store)
        flash(request, _("Cover image saved."))
        return redirect_to(request, target)

    def _cover_refused(
        self, request: Request, community: str, event: str, errors: dict[str, str]
    ) -> Template:
        db: Database = request.app.state.db
        with db.session() as session:
            current = CommunityService(session).by_slug(community)
            found = EventService(session).in_community(current, event)
            return self._edit_page(
                request,
                session,
                current,
                found,
                status_code=400,
                fragment="manage/events/_cover.html",
                cover_errors=cover_errors(errors),
            )

    @post("/{event:str}/cover/delete", opt=access(Access.ORGANISER), sync_to_thread=True)
    def delete_cover(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        current = membership.community
        if CoverImageService(db_session).remove_cover(managed_event):
            flash(request, _("Cover image removed."))
        return redirect_to(request, f"/manage/{current.slug}/events/{managed_event.slug}#cover")

    # -- programme ------------------------------------------------------------------------------
    def _programme_done(
        self, request: Request, session: Session, community: Community, event: Event
    ) -> Template | Response[Any]:
        if wants_fragment(request):
            return self._edit_page(
                request, session, community, event, fragment="manage/events/_programme.html"
            )
        return Redirect(f"/manage/{community.slug}/events/{event.slug}#programme", status_code=303)

    def _programme_failed(
        self,
        request: Request,
        session: Session,
        community: Community,
        event: Event,
        data: ProgrammeForm,
        failed: ValidationFailed,
        editing: UUID | None = None,
    ) -> Template:
        return self._edit_page(
            request,
            session,
            community,
            event,
            status_code=400,
            fragment="manage/events/_programme.html",
            programme_form=data.values(),
            programme_errors=field_errors(failed.errors),
            editing=editing,
        )

    @post("/{event:str}/programme", opt=access(Access.ORGANISER), sync_to_thread=True)
    def add_item(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        data: URLEncodedBody[ProgrammeForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Response[Any]:
        current = membership.community
        try:
            ProgrammeService(db_session).add(managed_event, data.to_input())
        except ValidationFailed as failed:
            return self._programme_failed(request, db_session, current, managed_event, data, failed)
        return self._programme_done(request, db_session, current, managed_event)

    @post(
        "/{event:str}/programme/{item_id:uuid}", opt=access(Access.ORGANISER), sync_to_thread=True
    )
    def update_item(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        item_id: FromPath[UUID],
        data: URLEncodedBody[ProgrammeForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Response[Any]:
        current = membership.community
        try:
            ProgrammeService(db_session).update(managed_event, item_id, data.to_input())
        except ValidationFailed as failed:
            return self._programme_failed(
                request, db_session, current, managed_event, data, failed, editing=item_id
            )
        return self._programme_done(request, db_session, current, managed_event)

    @post(
        "/{event:str}/programme/{item_id:uuid}/delete",
        opt=access(Access.ORGANISER),
        sync_to_thread=True,
    )
    def delete_item(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        item_id: FromPath[UUID],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Response[Any]:
        current = membership.community
        ProgrammeService(db_session).remove(managed_event, item_id)
        return self._programme_done(request, db_session, current, managed_event)

    @post(
        "/{event:str}/programme/{item_id:uuid}/up",
        opt=access(Access.ORGANISER),
        sync_to_thread=True,
    )
    def move_item_up(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        item_id: FromPath[UUID],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Response[Any]:
        current = membership.community
        ProgrammeService(db_session).move(managed_event, item_id, -1)
        return self._programme_done(request, db_session, current, managed_event)

    @post(
        "/{event:str}/programme/{item_id:uuid}/down",
        opt=access(Access.ORGANISER),
        sync_to_thread=True,
    )
    def move_item_down(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        item_id: FromPath[UUID],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Response[Any]:
        current = membership.community
        ProgrammeService(db_session).move(managed_event, item_id, +1)
        return self._programme_done(request, db_session, current, managed_event)
