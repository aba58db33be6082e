"""Volunteering, from the volunteer's side.

- ``/g/{group}/volunteer``: the community's shifts that still need people (public);
- ``/g/{group}/volunteer/{shift}``: someone without a ticket signs up with a name and an
  address; the address is confirmed by the double opt-in (``/c/{token}``,
  web/controllers/confirmations.py), which finishes the sign-up;
- ``/r/{token}/volunteer``: a registrant signs up for their event's shifts with their
  ticket, from their private page, and sees (and cancels) the shifts they took;
- ``/v/{token}``: a sign-up's private page (the link mailed to the volunteer): their shifts
  in the community, cancel, an ``.ics`` of them, and their data as JSON.

Private pages are never cached, never indexed and send no ``Referer``. The rules are the
domain's (events/services/volunteers.py); refusals come back as messages on the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import TooManyRequestsException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.calendar import ShiftEntry, shifts_calendar
from events.clock import utcnow
from events.errors import Conflict, NotFound, RateLimited, ValidationFailed
from events.models import Event, EventStatus, Registration, RegistrationStatus, ShiftSignup
from events.services.communities import CommunityService
from events.services.personal_data import export_volunteer_data
from events.services.registrations import RegistrationService
from events.services.volunteers import VolunteerService
from web.auth import Access, access
from web.forms import Form
from web.i18n import current_locale
from web.i18n import gettext as _
from web.messages import error_message, field_errors, volunteer_role_name
from web.proposal_pages import client_of
from web.rendering import PRIVATE_HEADERS, flash, page, private
from web.settings import Settings


class ShiftChoiceForm(Form):
    shift: str = ""


class VolunteerForm(Form):
    """Someone without a ticket: who they are, and where to mail the confirmation."""

    name: str = ""
    email: str = ""
    #: The honeypot (web/templates/macros/forms.html): robots fill it in.
    website: str = ""


class SignupChoiceForm(Form):
    #: The sign-up to cancel ("" on ``/v/{token}``: the link's own).
    signup: str = ""


def _event(session: Session, event_id: Any) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound()
    return event


def cancel_and_return(request: Request, cancel: Callable[[], None], back: str) -> Response[Any]:
    """Cancel a shift (``cancel`` finds the sign-up and cancels it), say how it went, and go
    back to the private page."""
    try:
        cancel()
    except NotFound:
        flash(request, _("You are no longer on this shift."))
    except Conflict as refused:
        flash(request, error_message(refused.code or ""), "error")
    else:
        flash(request, _("Your shift is cancelled. Thank you for telling us in time."))
    return private(Redirect(back, status_code=303))


class VolunteerController(Controller):
    include_in_schema = False

    # -- the community's open shifts ------------------------------------------------------
    @get("/g/{group:str}/volunteer", opt=access(Access.PUBLIC), sync_to_thread=True)
    def community_shifts(
        self, request: Request, group: FromPath[str], db_session: NamedDependency[Session]
    ) -> Template:
        community = CommunityService(db_session).by_slug(group)
        open_shifts = VolunteerService(db_session).open_shifts(community)
        by_event: dict[Any, dict[str, Any]] = {}
        for item in open_shifts:
            entry = by_event.setdefault(item.event.id, {"event": item.event, "shifts": []})
            entry["shifts"].append(item)
        return page(
            request,
            "volunteers/community.html",
            community=community,
            events=list(by_event.values()),
        )

    # -- signing up with an address -------------------------------------------------------
    def _offer_page(
        self,
        request: Request,
        session: Session,
        group: str,
        shift_id: str,
        *,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        community = CommunityService(session).by_slug(group)
        item = VolunteerService(session).shift_in_community(community, shift_id)
        return page(
            request,
            "volunteers/offer.html",
            status_code=status_code,
            community=community,
            item=item,
            open=item.shift.free > 0 and item.shift.starts_at > utcnow(),
            values=values or {},
            errors=errors or {},
        )

    @get("/g/{group:str}/volunteer/{shift_id:str}", opt=access(Access.PUBLIC), sync_to_thread=True)
    def offer_form(
        self,
        request: Request,
        group: FromPath[str],
        shift_id: FromPath[str],
        db_session: NamedDependency[Session],
    ) -> Template:
        return self._offer_page(request, db_session, group, shift_id)

    @post("/g/{group:str}/volunteer/{shift_id:str}", opt=access(Access.PUBLIC), sync_to_thread=True)
    def offer(
        self,
        request: Request,
        group: FromPath[str],
        shift_id: FromPath[str],
        data: URLEncodedBody[VolunteerForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        """Mail the link that confirms the address and takes the shift (nothing is said
        of the address itself: whether it is already on a shift or ever came is told only
        to its owner, after the click)."""
        community = CommunityService(db_session).by_slug(group)
        item = VolunteerService(db_session).shift_in_community(community, shift_id)
        values = {"name": data.name, "email": data.email}
        try:
            VolunteerService(db_session).ask_by_mail(
                item.shift,
                name=data.name,
                email=data.email,
                locale=current_locale.get(),
                client=client_of(request),
                trap=data.website,
            )
        except RateLimited:
            raise TooManyRequestsException(headers={"Retry-After": "600"}) from None
        except ValidationFailed as invalid:
            return self._offer_page(
                request,
                db_session,
                group,
                shift_id,
                values=values,
                errors=field_errors(invalid.errors),
                status_code=400,
            )
        except Conflict as refused:
            return self._offer_page(
                request,
                db_session,
                group,
                shift_id,
                values=values,
                errors={"form": error_message(refused.code or "")},
                status_code=409,
            )
        flash(
            request,
            _(
                "Almost there: we sent you an e-mail. Click the link in it to confirm your "
                "address and take the shift."
            ),
        )
        return Redirect(f"/g/{community.slug}/volunteer", status_code=303)

    # -- a registrant's shifts ------------------------------------------------------------
    def _registrant_page(
        self,
        request: Request,
        session: Session,
        registration: Registration,
        token: str,
        *,
        error: str = "",
        status_code: int = 200,
    ) -> Response[Any]:
        event = _event(session, registration.event_id)
        service = VolunteerService(session)
        mine = service.signups_of_registration(registration)
        return private(
            page(
                request,
                "volunteers/registrant.html",
                status_code=status_code,
                registration=registration,
                event=event,
                token=token,
                roles=service.roles(event),
                mine=mine,
                taken={signup.shift_id for signup in mine},
                can_sign_up=registration.status is RegistrationStatus.CONFIRMED
                and event.status is EventStatus.PUBLISHED,
                now=utcnow(),
                error=error,
            )
        )

    @get("/r/{token:str}/volunteer", opt=access(Access.TOKEN), sync_to_thread=True)
    def registrant_shifts(
        self, request: Request, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[Any]:
        registration = RegistrationService(db_session).by_manage_token(token)
        return self._registrant_page(request, db_session, registration, token)

    @post("/r/{token:str}/volunteer", opt=access(Access.TOKEN), sync_to_thread=True)
    def sign_up(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[ShiftChoiceForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        registration = RegistrationService(db_session).by_manage_token(token)
        service = VolunteerService(db_session)
        try:
            shift = service.shift_in_event(_event(db_session, registration.event_id), data.shift)
            result = service.sign_up_with_ticket(shift, registration)
        except (NotFound, Conflict) as refused:
            gone = isinstance(refused, NotFound)
            return self._registrant_page(
                request,
                db_session,
                registration,
                token,
                error=_("This shift no longer exists.") if gone else error_message(refused.code),
                status_code=400 if gone else 409,
            )
        role = volunteer_role_name(result.signup.shift.role)
        message = _("You are on the shift “%(role)s”. Thank you!", role=role)
        if result.door_token:
            message += " " + _("Your door link for the shift is in the e-mail we just sent you.")
        flash(request, message)
        return private(Redirect(f"/r/{token}/volunteer", status_code=303))

    @post("/r/{token:str}/volunteer/cancel", opt=access(Access.TOKEN), sync_to_thread=True)
    def registrant_cancel(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[SignupChoiceForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        registration = RegistrationService(db_session).by_manage_token(token)
        service = VolunteerService(db_session)
        return cancel_and_return(
            request,
            lambda: service.cancel(service.signup_of_registration(registration, data.signup)),
            f"/r/{token}/volunteer",
        )

    # -- a sign-up's private page ---------------------------------------------------------
    def _signup(self, session: Session, token: str) -> ShiftSignup:
        return VolunteerService(session).by_manage_token(token)

    @get("/v/{token:str}", opt=access(Access.TOKEN), sync_to_thread=True)
    def volunteer_page(
        self, request: Request, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[Any]:
        signup = self._signup(db_session, token)
        service = VolunteerService(db_session)
        mine = service.my_shifts(signup)
        events = {item.event_id: _event(db_session, item.event_id) for item in mine}
        event = _event(db_session, signup.event_id)
        return private(
            page(
                request,
                "volunteers/mine.html",
                signup=signup,
                event=event,
                mine=mine,
                events=events,
                token=token,
                now=utcnow(),
            )
        )

    @post("/v/{token:str}/cancel", opt=access(Access.TOKEN), sync_to_thread=True)
    def volunteer_cancel(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[SignupChoiceForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        signup = self._signup(db_session, token)
        service = VolunteerService(db_session)
        return cancel_and_return(
            request,
            lambda: service.cancel(
                service.one_of_my_shifts(signup, data.signup) if data.signup else signup
            ),
            f"/v/{token}",
        )

    @get("/v/{token:str}/shifts.ics", opt=access(Access.TOKEN), sync_to_thread=True)
    def volunteer_calendar(
        self, request: Request, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[bytes]:
        signup = self._signup(db_session, token)
        settings: Settings = request.app.state.settings
        entries = []
        for item in VolunteerService(db_session).my_shifts(signup):
            event = _event(db_session, item.event_id)
            shift = item.shift
            entries.append(
                ShiftEntry(
                    signup_id=item.id,
                    summary=f"{volunteer_role_name(shift.role)} — {event.title}",
                    event=event,
                    starts_at=shift.starts_at,
                    ends_at=shift.ends_at,
                    stamp=max(shift.updated_at, item.updated_at),
                )
            )
        community = _event(db_session, signup.event_id).community
        body = shifts_calendar(
            entries,
            name=_("My volunteer shifts — %(community)s", community=community.name),
            base_url=settings.base_url,
            url=settings.absolute_url(f"/g/{community.slug}/volunteer"),
        )
        return Response(
            body,
            media_type="text/calendar",
            headers={
                **PRIVATE_HEADERS,
                "content-disposition": 'attachment; filename="my-shifts.ics"',
            },
        )

    @get("/v/{token:str}/data.json", opt=access(Access.TOKEN), sync_to_thread=True)
    def volunteer_data(
        self, request: Request, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[Any]:
        signup = self._signup(db_session, token)
        settings: Settings = request.app.state.settings
        data = export_volunteer_data(
            db_session,
            signup,
            VolunteerService(db_session).my_shifts(signup),
            base_url=settings.base_url,
            now=utcnow(),
        )
        return Response(
            data,
            media_type="application/json",
            headers={
                **PRIVATE_HEADERS,
                "content-disposition": 'attachment; filename="my-volunteer-data.json"',
            },
        )
