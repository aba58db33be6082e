"""The organiser's side of one event's door (``/manage/{community}/events/{event}/door``).

Door links (create; list, each live one with its address, QR code, copy and share buttons
and "send by e-mail", its token derived again from the secret key, never stored:
events/services/door_links.py; revoke), the walk-ins-beyond-capacity switch, live
counters, the after-event report
and the check-in log with its CSV export (same conventions as the attendee export:
UTF-8 with BOM, ``;`` for the French Excel variant, formula cells neutralised).
"""

from __future__ import annotations

import base64
import csv
import io
from datetime import UTC, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import NotFound, ValidationFailed
from events.export import BOM, CsvVariant, export_filename, neutralise
from events.models import Event, Membership
from events.qr import qr_svg
from events.services.door import CheckInRow, DoorService
from events.services.door_links import DoorLinkService, door_link_url, is_live, link_state
from events.services.events import EventService
from web.auth import Access, access, provide_membership
from web.door.counters import arrival_bars, counters_of
from web.forms import Form
from web.i18n import current_locale
from web.i18n import gettext as _
from web.messages import field_errors
from web.rendering import csv_download, flash, page
from web.settings import Settings

PAGE = "manage/door.html"
LOG_LIMIT = 200


class DoorLinkForm(Form):
    label: str = ""
    expires_local: str = ""
    #: "door", or "facilitator" for a link to the open-space board's facilitation.
    role: str = "door"


class SendLinkForm(Form):
    email: str = ""


class DoorSettingsForm(Form):
    walk_ins_over_capacity: str = ""


def verdict_labels() -> dict[str, str]:
    return {
        "admitted": _("Admitted"),
        "already_checked_in": _("Already checked in"),
        "cancelled": _("Cancelled"),
        "waitlisted": _("On the waiting list"),
        "pending": _("Awaiting approval"),
        "other_event": _("Ticket for another event"),
        "unknown": _("Unknown ticket"),
        "undone": _("Undone"),
    }


def action_labels() -> dict[str, str]:
    return {"scan": _("Scan"), "walk_in": _("Walk-in"), "undo": _("Undo")}


def link_service(request: Request, session: Session) -> DoorLinkService:
    """Door links whose tokens derive from this installation's secret key."""
    settings: Settings = request.app.state.settings
    return DoorLinkService(session, secret=settings.secret_key)


def qr_data_uri(url: str) -> str:
    """The QR code as a data: URI (the token is never stored, so no URL serves it)."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(url)).decode("ascii")


def parse_expiry(value: str, zone: str) -> datetime | None:
    """``YYYY-MM-DDTHH:MM`` in the event's zone, as UTC; "" = the default (event end)."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed({"expires_local": "invalid_datetime"}) from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


def log_csv(rows: list[CheckInRow], *, zone: str, variant: CsvVariant) -> bytes:
    """The check-in log as CSV, with the attendee export's conventions (events/export.py)."""
    tz = ZoneInfo(zone)
    verdicts, actions = verdict_labels(), action_labels()
    yes = _("yes")
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, delimiter=variant.delimiter, lineterminator="\r\n")
    headers = (
        _("Scanned at"),
        _("Recorded at"),
        _("Name"),
        _("Action"),
        _("Result"),
        _("People"),
        _("Device"),
        _("Offline"),
        _("Conflict"),
        _("Undone"),
    )
    writer.writerow([neutralise(header) for header in headers])
    for row in rows:
        cells = [
            row.scanned_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
            row.recorded_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
            row.name or "",
            actions.get(row.action, row.action),
            verdicts.get(row.verdict, row.verdict),
            str(row.people),
            row.device or "",
            yes if row.offline else "",
            yes if row.conflict else "",
            yes if row.undone else "",
        ]
        writer.writerow([neutralise(cell) for cell in cells])
    return buffer.getvalue().encode("utf-8")


class ManageDoorController(Controller):
    path = "/manage/{community:str}/events/{event:str}/door"
    include_in_schema = False
    dependencies = {"membership": Provide(provide_membership, sync_to_thread=True)}

    def _render(
        self,
        request: Request,
        session: Session,
        membership: Membership,
        event: Event,
        *,
        open_link: str = "",
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        send_errors: dict[str, dict[str, str]] | None = None,
        status_code: int = 200,
    ) -> Template:
        service = DoorService(session)
        now = utcnow()
        report = service.report(event, now=now)
        settings: Settings = request.app.state.settings
        links_service = link_service(request, session)
        links = []
        for link in links_service.for_event(event):
            live = is_live(link, now)
            token = links_service.token_of(link) if live else None
            url = door_link_url(settings.base_url, event, token) if token else None
            links.append(
                {
                    "link": link,
                    "state": link_state(link, now).value,
                    "live": live,
                    "url": url,
                    "qr": qr_data_uri(url) if url else None,
                    "open": str(link.id) == open_link,
                }
            )
        return page(
            request,
            PAGE,
            status_code=status_code,
            community=membership.community,
            event=event,
            links=links,
            values=values or {},
            errors=errors or {},
            send_errors=send_errors or {},
            counters=counters_of(session, event),
            report=report,
            curve=arrival_bars(report.arrivals, event.timezone),
            log=service.log(event, limit=LOG_LIMIT),
            verdict_labels=verdict_labels(),
            action_labels=action_labels(),
            ended=event.ends_at <= now,
        )

    def _event(self, session: Session, membership: Membership, slug: str) -> Event:
        return EventService(session).in_community(membership.community, slug)

    def _here(self, membership: Membership, event: Event) -> str:
        return f"/manage/{membership.community.slug}/events/{event.slug}/door"

    @get("/", opt=access(Access.ORGANISER), sync_to_thread=True)
    def index(
        self,
        request: Request,
        community: FromPath[str],
        event: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
        link: FromQuery[str] = "",
    ) -> Template:
        """``link``: the id of a door link to show opened (the one just created)."""
        found = self._event(db_session, membership, event)
        return self._render(request, db_session, membership, found, open_link=link[:40])

    @post("/links", opt=access(Access.ORGANISER), sync_to_thread=True)
    def create_link(
        self,
        request: Request,
        community: FromPath[str],
        event: FromPath[str],
        data: URLEncodedBody[DoorLinkForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Redirect:
        found = self._event(db_session, membership, event)
        values = {"label": data.label, "expires_local": data.expires_local, "role": data.role}
        try:
            expires_at = parse_expiry(data.expires_local, found.timezone)
            link, _token = link_service(request, db_session).create(
                found,
                label=data.label,
                created_by=membership.user_id,
                expires_at=expires_at,
                role=data.role,
            )
        except ValidationFailed as failed:
            errors = field_errors(failed.errors)
            if "expires_at" in errors:
                errors.pop("expires_at")
                errors["expires_local"] = _("Choose a time in the future.")
            return self._render(
                request,
                db_session,
                membership,
                found,
                values=values,
                errors=errors,
                status_code=400,
            )
        flash(
            request,
            _(
                "Door link “%(label)s” created: hand it over below (copy, share, e-mail or "
                "QR code). It stays listed here until it expires.",
                label=link.label,
            ),
        )
        here = self._here(membership, found)
        return Redirect(f"{here}?link={link.id}#door-link-{link.id}", status_code=303)

    @post("/links/{item_id:uuid}/send", opt=access(Access.ORGANISER), sync_to_thread=True)
    def send_link(
        self,
        request: Request,
        community: FromPath[str],
        event: FromPath[str],
        item_id: FromPath[UUID],
        data: URLEncodedBody[SendLinkForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Redirect:
        """Mail a live link to a volunteer's address."""
        found = self._event(db_session, membership, event)
        settings: Settings = request.app.state.settings
        try:
            sent_to = link_service(request, db_session).send_by_email(
                found,
                item_id,
                address=data.email,
                base_url=settings.base_url,
                locale=current_locale.get(),
            )
        except ValidationFailed as failed:
            return self._render(
                request,
                db_session,
                membership,
                found,
                open_link=str(item_id),
                send_errors={
                    str(item_id): {"value": data.email[:320], **field_errors(failed.errors)}
                },
                status_code=400,
            )
        flash(request, _("Door link sent to %(email)s.", email=sent_to))
        here = self._here(membership, found)
        return Redirect(f"{here}?link={item_id}#door-link-{item_id}", status_code=303)

    @post("/links/{item_id:uuid}/revoke", opt=access(Access.ORGANISER), sync_to_thread=True)
    def revoke_link(
        self,
        request: Request,
        community: FromPath[str],
        event: FromPath[str],
        item_id: FromPath[UUID],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Redirect:
        found = self._event(db_session, membership, event)
        try:
            DoorLinkService(db_session).revoke(found, item_id)
        except NotFound:
            # Another event's link, or a stale page: say so rather than answer 404.
            flash(request, _("This door link does not exist (any more)."), "error")
        else:
            flash(request, _("Door link revoked: it stopped working at once."))
        return Redirect(self._here(membership, found) + "#door-links", status_code=303)

    @post("/settings", opt=access(Access.ORGANISER), sync_to_thread=True)
    def change_settings(
        self,
        request: Request,
        community: FromPath[str],
        event: FromPath[str],
        data: URLEncodedBody[DoorSettingsForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Redirect:
        found = self._event(db_session, membership, event)
        DoorService(db_session).allow_walk_ins_over_capacity(found, data.walk_ins_over_capacity)
        flash(
            request,
            _("Walk-ins may now exceed the capacity.")
            if found.walk_ins_over_capacity
            else _("Walk-ins are now limited to the free places."),
        )
        return Redirect(self._here(membership, found) + "#door-settings", status_code=303)

    def _csv(
        self, session: Session, membership: Membership, slug: str, variant: CsvVariant
    ) -> Response[bytes]:
        found = self._event(session, membership, slug)
        body = log_csv(DoorService(session).log(found), zone=found.timezone, variant=variant)
        filename = export_filename(found.slug, variant).replace("attendees-", "check-ins-", 1)
        return csv_download(body, filename)

    @get("/log.csv", opt=access(Access.ORGANISER), sync_to_thread=True)
    def export_log(
        self,
        community: FromPath[str],
        event: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
        variant: FromQuery[str] = "",
    ) -> Response[bytes]:
        return self._csv(db_session, membership, event, CsvVariant.parse(variant))

    @get("/log-fr.csv", opt=access(Access.ORGANISER), sync_to_thread=True)
    def export_log_fr(
        self,
        community: FromPath[str],
        event: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[bytes]:
        return self._csv(db_session, membership, event, CsvVariant.EXCEL_FR)
