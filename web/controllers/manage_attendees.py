"""The organiser's attendee list of one event, its actions and its CSV export
(``/manage/{community}/events/{event}/attendees``).

Everything works with plain links and forms (each action is a POST answered by a 303 back
to the same view of the list, with a flash message); with htmx the search updates the list
as one types, and each action swaps the list in place.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.errors import Conflict, NotFound, ValidationFailed
from events.export import CsvVariant, attendees_csv, export_filename, rows_of
from events.models import Event, Membership, Registration, RegistrationStatus
from events.services.personal_data import is_anonymised
from events.services.questions import export_questions
from events.services.registrations import RegistrationService
from web.auth import Access, access
from web.forms import Form
from web.i18n import gettext as _
from web.i18n import ngettext
from web.messages import error_message, field_errors
from web.path_objects import MANAGED_EVENT, MEMBERSHIP
from web.rendering import csv_download, flash, page, wants_fragment

PAGE_SIZE = 50
MAX_PAGE = 10_000
#: Shorter searches are ignored (one letter matches nearly everyone).
MIN_SEARCH_LENGTH = 2
LIST_PAGE = "manage/attendees/list.html"
LIST_FRAGMENT = "manage/attendees/_list.html"


class ViewForm(Form):
    """The list's current view, sent back by every action so the organiser stays there."""

    q: str = ""
    status: str = ""
    page: str = ""


class GuestsForm(ViewForm):
    guests: str = ""


# -- helpers ------------------------------------------------------------------------------
def status_labels() -> dict[str, str]:
    return {
        "confirmed": _("Confirmed"),
        "waitlisted": _("Waiting list"),
        "pending_approval": _("Awaiting approval"),
        "pending_email": _("Awaiting e-mail confirmation"),
        "cancelled": _("Cancelled"),
        "declined": _("Declined"),
    }


def _status(value: str) -> RegistrationStatus | None:
    try:
        return RegistrationStatus((value or "").strip())
    except ValueError:
        return None


def _search(value: str) -> str:
    term = " ".join((value or "").split())[:120]
    return term if len(term) >= MIN_SEARCH_LENGTH else ""


def _page_number(value: str) -> int:
    try:
        return min(max(int(value), 1), MAX_PAGE)
    except ValueError:
        return 1


def _query(q: str, status: str, page_number: int = 1) -> str:
    params = {"q": q.strip()[:120], "status": status if _status(status) else ""}
    if page_number > 1:
        params["page"] = str(page_number)
    encoded = urlencode({key: value for key, value in params.items() if value})
    return f"?{encoded}" if encoded else ""


def list_url(community: str, event: Event) -> str:
    return f"/manage/{community}/events/{event.slug}/attendees"


def attendee_view(
    session: Session, event: Event, *, q: str = "", status: str = "", page_number: int = 1
) -> dict[str, Any]:
    """The template context of the list: counts, one page of rows, the view's filters."""
    service = RegistrationService(session)
    chosen = _status(status)
    search = _search(q)
    total = service.count_attendees(event, status=chosen, search=search)
    pages = max(math.ceil(total / PAGE_SIZE), 1)
    number = min(page_number, pages)
    registrations = service.attendees(
        event, status=chosen, search=search, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    ranks = service.waitlist_ranks(event)
    return {
        "event": event,
        "counts": service.counts(event),
        "rows": [
            {
                "registration": registration,
                "rank": ranks.get(registration.id),
                "anonymised": is_anonymised(registration),
            }
            for registration in registrations
        ],
        "total": total,
        "page_number": number,
        "pages": pages,
        "q": (q or "")[:120],
        "status": chosen.value if chosen else "",
        "search_too_short": bool(q.strip()) and not search,
        "status_labels": status_labels(),
        "view_query": _query(q, status, number),
        "prev_query": _query(q, status, number - 1) if number > 1 else None,
        "next_query": _query(q, status, number + 1) if number < pages else None,
        "row_errors": {},
    }


class ManageAttendeesController(Controller):
    path = "/manage/{community:str}/events/{event:str}"
    include_in_schema = False
    dependencies = {**MEMBERSHIP, **MANAGED_EVENT}

    # -- rendering ------------------------------------------------------------------------
    @staticmethod
    def _render(
        request: Request,
        session: Session,
        membership: Membership,
        event: Event,
        view: ViewForm,
        *,
        status_code: int = 200,
        row_errors: dict[Any, str] | None = None,
    ) -> Template:
        context = attendee_view(
            session, event, q=view.q, status=view.status, page_number=_page_number(view.page)
        )
        context["row_errors"] = row_errors or {}
        return page(
            request,
            LIST_PAGE,
            fragment=LIST_FRAGMENT,
            status_code=status_code,
            community=membership.community,
            **context,
        )

    def _done(
        self,
        request: Request,
        session: Session,
        membership: Membership,
        event: Event,
        view: ViewForm,
        message: str,
        level: str = "success",
    ) -> Template | Response[Any]:
        """After an action: htmx gets the list back, browsers a 303 to the same view."""
        flash(request, message, level)
        if wants_fragment(request):
            # The fragment shows (and pops) the flash message itself.
            return self._render(request, session, membership, event, view)
        query = _query(view.q, view.status, _page_number(view.page))
        url = list_url(membership.community.slug, event) + query
        return Redirect(url, status_code=303)

    def _act(
        self,
        request: Request,
        session: Session,
        membership: Membership,
        event: Event,
        item_id: UUID,
        view: ViewForm,
        action: Callable[[RegistrationService, Registration], str],
    ) -> Template | Response[Any]:
        service = RegistrationService(session, actor_id=membership.user_id)
        try:
            registration = service.in_event(event, item_id)
        except NotFound:
            message = _("This registration no longer exists: the list is up to date now.")
            return self._done(request, session, membership, event, view, message, "error")
        try:
            message = action(service, registration)
        except Conflict as refused:
            failure = self._conflict_message(refused.code or "", registration)
            return self._done(request, session, membership, event, view, failure, "error")
        except ValidationFailed as failed:
            # A refused value (too many guests for the free places, out of range): the list
            # again, with the message next to that row's field and at the top.
            error = next(iter(field_errors(failed.errors).values()))
            flash(request, error, "error")
            return self._render(
                request,
                session,
                membership,
                event,
                view,
                status_code=400,
                row_errors={registration.id: error},
            )
        return self._done(request, session, membership, event, view, message)

    @staticmethod
    def _conflict_message(code: str, registration: Registration) -> str:
        if code == "not_enough_free_places":
            return _(
                "Not enough free places for this party of %(people)s. Raise the capacity "
                "first: waiting parties are then confirmed in order of arrival.",
                people=registration.people,
            )
        if code == "registration_not_waitlisted":
            return _("This registration is not on the waiting list any more.")
        return error_message(code)

    @staticmethod
    def _promoted(promoted: list[Registration]) -> str:
        if not promoted:
            return ""
        return " " + ngettext(
            "%(num)s party moved up from the waiting list.",
            "%(num)s parties moved up from the waiting list.",
            len(promoted),
        )

    # -- the list -------------------------------------------------------------------------
    @get("/attendees", opt=access(Access.ORGANISER), sync_to_thread=True)
    def index(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
        q: FromQuery[str] = "",
        status: FromQuery[str] = "",
        page_number: Annotated[str, QueryParameter(name="page")] = "",
    ) -> Template:
        view = ViewForm(q=q, status=status, page=page_number)
        return self._render(request, db_session, membership, managed_event, view)

    # -- CSV ------------------------------------------------------------------------------
    def _csv(
        self,
        session: Session,
        found: Event,
        variant: CsvVariant,
        q: str,
        status: str,
    ) -> Response[bytes]:
        service = RegistrationService(session)
        registrations = service.attendees(found, status=_status(status), search=_search(q))
        questions = export_questions(found)
        body = attendees_csv(
            rows_of(registrations, service.waitlist_ranks(found), questions),
            zone=found.timezone,
            variant=variant,
            headers=(
                _("Name"),
                _("E-mail"),
                _("Guests"),
                _("Status"),
                _("Waiting list position"),
                _("Registered at"),
                _("Opt-in"),
                *(
                    _("%(label)s (question removed)", label=question.label)
                    if question.removed
                    else question.label
                    for question in questions
                ),
            ),
            status_labels=status_labels(),
            yes_no=(_("yes"), _("no")),
        )
        filename = export_filename(found.slug, variant)
        return csv_download(body, filename)

    @get("/attendees.csv", opt=access(Access.ORGANISER), sync_to_thread=True)
    def export(
        self,
        managed_event: NamedDependency[Event],
        db_session: NamedDependency[Session],
        variant: FromQuery[str] = "",
        q: FromQuery[str] = "",
        status: FromQuery[str] = "",
    ) -> Response[bytes]:
        chosen = CsvVariant.parse(variant)
        return self._csv(db_session, managed_event, chosen, q, status)

    @get("/attendees-fr.csv", opt=access(Access.ORGANISER), sync_to_thread=True)
    def export_excel_fr(
        self,
        managed_event: NamedDependency[Event],
        db_session: NamedDependency[Session],
        q: FromQuery[str] = "",
        status: FromQuery[str] = "",
    ) -> Response[bytes]:
        return self._csv(db_session, managed_event, CsvVariant.EXCEL_FR, q, status)

    # -- actions --------------------------------------------------------------------------
    @post("/attendees/{item_id:uuid}/approve", opt=access(Access.ORGANISER), sync_to_thread=True)
    def approve(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        item_id: FromPath[UUID],
        data: URLEncodedBody[ViewForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Response[Any]:
        def action(service: RegistrationService, registration: Registration) -> str:
            service.approve(registration)
            if registration.status is RegistrationStatus.WAITLISTED:
                return _(
                    "Approved, but the event is full: %(name)s is on the waiting list.",
                    name=registration.name,
                )
            return _("Approved: %(name)s has a place.", name=registration.name)

        return self._act(request, db_session, membership, managed_event, item_id, data, action)

    @post("/attendees/{item_id:uuid}/decline", opt=access(Access.ORGANISER), sync_to_thread=True)
    def decline(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        item_id: FromPath[UUID],
        data: URLEncodedBody[ViewForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Response[Any]:
        def action(service: RegistrationService, registration: Registration) -> str:
            promoted = service.decline(registration)
            message = _("Declined: %(name)s.", name=registration.name)
            return message + self._promoted(promoted)

        return self._act(request, db_session, membership, managed_event, item_id, data, action)

    @post("/attendees/{item_id:uuid}/promote", opt=access(Access.ORGANISER), sync_to_thread=True)
    def promote(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        item_id: FromPath[UUID],
        data: URLEncodedBody[ViewForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Response[Any]:
        def action(service: RegistrationService, registration: Registration) -> str:
            service.promote(registration)
            return _(
                "%(name)s moved from the waiting list: they have a place now.",
                name=registration.name,
            )

        return self._act(request, db_session, membership, managed_event, item_id, data, action)

    @post("/attendees/{item_id:uuid}/cancel", opt=access(Access.ORGANISER), sync_to_thread=True)
    def cancel(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        item_id: FromPath[UUID],
        data: URLEncodedBody[ViewForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Response[Any]:
        def action(service: RegistrationService, registration: Registration) -> str:
            promoted = service.cancel(registration)
            message = _("Registration of %(name)s cancelled.", name=registration.name)
            return message + self._promoted(promoted)

        return self._act(request, db_session, membership, managed_event, item_id, data, action)

    @post("/attendees/{item_id:uuid}/guests", opt=access(Access.ORGANISER), sync_to_thread=True)
    def change_guests(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        item_id: FromPath[UUID],
        data: URLEncodedBody[GuestsForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Response[Any]:
        def action(service: RegistrationService, registration: Registration) -> str:
            promoted = service.change_guests(registration, data.guests)
            message = ngettext(
                "%(name)s now comes with %(num)s guest.",
                "%(name)s now comes with %(num)s guests.",
                registration.guests,
                name=registration.name,
            )
            return message + self._promoted(promoted)

        return self._act(request, db_session, membership, managed_event, item_id, data, action)
