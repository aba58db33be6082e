"""Registering without an account, tickets, and each registrant's private page.

Three kinds of address, three kinds of secret (docs/registration.md):

- ``/e/{event}/register`` and ``/e/{event}/resend``: the public forms of an event page;
- ``/t/{code}``: the ticket, what a phone opens when it scans the QR code. Whoever holds
  the code can show it at the door, so the page shows the name and party size, never the
  e-mail address;
- ``/r/{token}``: the private page, reached through the link mailed to the registrant or
  the redirect right after registering. Only the token's hash is stored. Private pages
  are never cached, never indexed and send no ``Referer``.

The service hands a manage token back once. It is put in the redirect only for a
registration created by this very request; a token rotated for an address that was
already registered is mailed (by the service), never shown: showing it would give anyone
who types someone else's address that person's private page.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import TooManyRequestsException
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Response, Template
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import Conflict, DomainError, NotFound, RateLimited, ValidationFailed
from events.lifecycle import registration_changeable, require_registration_changeable
from events.models import Event, EventStatus, Registration, RegistrationStatus
from events.qr import qr_png, qr_svg
from events.services.boards import BoardService
from events.services.events import EventService
from events.services.exchange_access import has_seat
from events.services.personal_data import export_personal_data
from events.services.personal_feeds import count_feed_tokens, revoke_feed_tokens
from events.services.questions import FIELD_PREFIX as QUESTION_FIELD_PREFIX
from events.services.registering import Registered, register_for_event
from events.services.registrations import (
    LINKS_AGAIN_WINDOW,
    Outcome,
    RegistrationInput,
    RegistrationResult,
    RegistrationService,
)
from events.tickets import ticket_url
from events.validation import clean_email
from web import throttle
from web.auth import Access, access
from web.calendar_links import event_links
from web.conditional import Rendered, conditional_response
from web.event_views import VIEW_HELPERS
from web.forms import Form
from web.i18n import current_locale
from web.i18n import gettext as _
from web.messages import error_message, field_errors
from web.path_objects import PUBLIC_EVENT
from web.registration_panel import registration_errors, registration_panel
from web.rendering import PRIVATE_HEADERS, flash, page, wants_fragment
from web.settings import Settings
from web.unsafe_switches import registrations_lock
from web.write_batch import WriteBatcher

S = RegistrationStatus

#: A ticket, its QR code, and the answer to a registration (a ticket or a private link).
PERSONAL = access(Access.PUBLIC, personal_data=True)
#: Answers shown on ``/e/{event}/registered`` (nothing personal in them).
RESULTS = frozenset({"check_mail", "resent", "replayed", "stale_form", "links", "erased"})


class RegistrationForm(Form):
    name: str = ""
    email: str = ""
    guests: str = ""
    consent: str = ""
    opt_in: str = ""
    request_key: str = ""

    def __post_init__(self) -> None:
        # No blanket NUL refusal here: the service reports a NUL in any field next to that
        # field (``invalid_characters``, ``invalid_email``, ``invalid_number``) and never
        # stores it; the nonce ignores it.
        return None

    def to_input(
        self, locale: str, answers: dict[str, Any] | None = None, *, client: str = ""
    ) -> RegistrationInput:
        return RegistrationInput(
            client=client,
            name=self.name,
            email=self.email,
            guests=self.guests,
            consent=self.consent,
            opt_in=self.opt_in,
            locale=locale,
            request_key=self.request_key,
            answers=answers,
        )

    def values(self) -> dict[str, str]:
        return {
            "name": self.name,
            "email": self.email,
            "guests": self.guests,
            "consent": self.consent,
            "opt_in": self.opt_in,
        }


async def provide_answers(request: Request) -> dict[str, Any]:
    """The raw values of the organiser's questions (fields ``q_<id>``; a list when a field
    is sent more than once, as multiple-choice checkboxes are). The form is parsed once:
    Litestar keeps it for the ``data`` parameter."""
    form = await request.form()
    answers: dict[str, Any] = {}
    for key in form:
        if key.startswith(QUESTION_FIELD_PREFIX):
            values = form.getall(key)
            answers[key] = values[0] if len(values) == 1 else values
    return answers


class ResendForm(Form):
    email: str = ""

    def __post_init__(self) -> None:
        return None  # clean_email reports a NUL as ``invalid_email``, next to the field


class GuestsForm(Form):
    guests: str = ""

    def __post_init__(self) -> None:
        return None  # the service reports a NUL as ``invalid_number``, next to the field


class ConfirmForm(Form):
    #: "yes" once the visitor confirmed (hx-confirm, or the no-JavaScript question page).
    confirm: str = ""


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _with(response: Response[Any], headers: dict[str, str]) -> Response[Any]:
    response.headers.update(headers)
    return response


def _event_of(session: Session, registration: Registration) -> Event:
    event = session.get(Event, registration.event_id)
    if event is None:
        raise NotFound()
    return event


def _hold_expired(registration: Registration) -> bool:
    """The confirmation link came too late (shown on the GET page; the POST decides)."""
    expires = registration.hold_expires_at
    if registration.status is S.PENDING_EMAIL:
        return expires is not None and expires <= utcnow()
    return (
        registration.status is S.CANCELLED
        and registration.confirmed_at is None
        and expires is not None
    )


class RegistrationController(Controller):
    include_in_schema = False
    dependencies = PUBLIC_EVENT

    # -- registering ----------------------------------------------------------------------
    def _form(
        self,
        request: Request,
        event: Event,
        *,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            "registrations/register.html",
            fragment="registrations/_registration.html",
            status_code=status_code,
            event=event,
            registration=registration_panel(event, values=values, errors=errors),
            places_oob=wants_fragment(request),
            **VIEW_HELPERS,
        )

    @get("/e/{event:str}/register", opt=access(Access.PUBLIC), sync_to_thread=True)
    def register_form(self, request: Request, public_event: NamedDependency[Event]) -> Template:
        return self._form(request, public_event)

    @post(
        "/e/{event:str}/register",
        opt=PERSONAL,
        dependencies={"answers": Provide(provide_answers)},
    )
    async def register(
        self,
        request: Request,
        event: FromPath[str],
        data: URLEncodedBody[RegistrationForm],
        answers: NamedDependency[dict[str, Any]],
    ) -> Response[Any]:
        """The hottest write: it goes through the group-commit batcher (web/write_batch.py)
        rather than a write session of its own."""
        form = data.to_input(current_locale.get(), answers, client=throttle.client_key(request))
        lock = registrations_lock(request)

        def unit(session: Session) -> Registered:
            return register_for_event(session, event, form, lock=lock)

        batcher: WriteBatcher = request.app.state.write_batcher
        try:
            done = await batcher.run(unit, lock_order=f"event:{event}")
        except (ValidationFailed, Conflict) as exc:
            values = {**data.values(), **answers}
            return await anyio.to_thread.run_sync(self._refused, request, event, values, exc)
        return self._registered(request, done.event, done.result, done.rank)

    def _refused(
        self, request: Request, slug: str, values: dict[str, Any], exc: DomainError
    ) -> Response[Any]:
        """The form again with what was wrong (nothing was written: the unit's savepoint
        was rolled back)."""
        with request.app.state.db.session() as session:
            found = EventService(session).by_slug(slug)
            if isinstance(exc, ValidationFailed):
                errors, status_code = registration_errors(found, exc.errors), 400
            else:
                errors, status_code = {"form": error_message(exc.code)}, 409
            return self._form(request, found, values=values, errors=errors, status_code=status_code)

    def _registered(
        self, request: Request, event: Event, result: RegistrationResult, rank: int | None
    ) -> Response[Any]:
        registration, outcome, token = result.registration, result.outcome, result.manage_token
        shows_private_page = outcome in {
            Outcome.CONFIRMED,
            Outcome.WAITLISTED,
            Outcome.PENDING_APPROVAL,
        }
        if shows_private_page and token:
            if not wants_fragment(request):
                return _with(Redirect(f"/r/{token}", status_code=303), PRIVATE_HEADERS)
            return _with(
                page(
                    request,
                    "registrations/_registration_result.html",
                    event=event,
                    registration=registration,
                    outcome=outcome.value,
                    private_url=f"/r/{token}",
                    rank=rank,
                ),
                PRIVATE_HEADERS,
            )
        replayed_ticket = (
            outcome is Outcome.REPLAYED
            and registration.status is S.CONFIRMED
            and registration.ticket_code
        )
        if replayed_ticket and not wants_fragment(request):
            # The same form sent twice: the first answer (the private link) is lost with the
            # first request, so show the ticket; the private link is in the mail.
            return Redirect(f"/t/{registration.ticket_code}", status_code=303)
        if outcome is Outcome.PENDING_EMAIL:
            key = "check_mail"
        elif outcome is Outcome.DUPLICATE_RESENT:
            key = "resent"
        elif registration.status.is_active:
            key = "replayed"
        else:
            key = "stale_form"
        if not wants_fragment(request):
            return Redirect(f"/e/{event.slug}/registered?result={key}", status_code=303)
        return page(
            request,
            "registrations/_registration_result.html",
            event=event,
            registration=registration if replayed_ticket else None,
            outcome=key,
            private_url=None,
            rank=None,
        )

    @get("/e/{event:str}/registered", opt=access(Access.PUBLIC), sync_to_thread=True)
    def registered(
        self,
        request: Request,
        public_event: NamedDependency[Event],
        result: FromQuery[str] = "",
    ) -> Response[Any]:
        if result not in RESULTS:
            return Redirect(f"/e/{public_event.slug}", status_code=303)
        return page(request, "registrations/registered.html", event=public_event, result=result)

    # -- resending the links ----------------------------------------------------------------
    def _resend_form(
        self,
        request: Request,
        event: Event,
        *,
        email: str = "",
        errors: dict[str, str] | None = None,
        sent: bool = False,
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            "registrations/resend.html",
            fragment="registrations/_resend.html",
            status_code=status_code,
            event=event,
            resend_email=email,
            resend_errors=errors or {},
            resend_sent=sent,
            resend_open=True,
        )

    @get("/e/{event:str}/resend", opt=access(Access.PUBLIC), sync_to_thread=True)
    def resend_form(self, request: Request, public_event: NamedDependency[Event]) -> Template:
        return self._resend_form(request, public_event)

    @post("/e/{event:str}/resend", opt=access(Access.PUBLIC), sync_to_thread=True)
    def resend(
        self,
        request: Request,
        public_event: NamedDependency[Event],
        data: URLEncodedBody[ResendForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        try:
            clean_email("email", data.email)
        except ValidationFailed as exc:
            return self._resend_form(
                request,
                public_event,
                email=data.email,
                errors=field_errors(exc.errors),
                status_code=400,
            )
        try:
            # Known or not, the answer is the same; the service mails the links when known.
            RegistrationService(db_session).resend_links(
                public_event, data.email, client=throttle.client_key(request)
            )
        except RateLimited:
            if wants_fragment(request):
                errors = {"form": _("Too many attempts. Please wait a few minutes.")}
                return self._resend_form(
                    request, public_event, email=data.email, errors=errors, status_code=429
                )
            retry = str(int(LINKS_AGAIN_WINDOW.total_seconds()))
            raise TooManyRequestsException(headers={"Retry-After": retry}) from None
        if wants_fragment(request):
            return self._resend_form(request, public_event, sent=True)
        return Redirect(f"/e/{public_event.slug}/registered?result=links", status_code=303)

    @get("/privacy", opt=access(Access.PUBLIC), sync_to_thread=False)
    def privacy(self, request: Request) -> Template:
        return page(
            request,
            "registrations/privacy.html",
            retention_days=_settings(request).anonymise_after_days,
        )

    # -- tickets ----------------------------------------------------------------------------
    @get("/t/{code:str}", opt=PERSONAL, sync_to_thread=True)
    def ticket(
        self, request: Request, code: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[Any]:
        registration = RegistrationService(db_session).by_ticket_code(code)
        event = _event_of(db_session, registration)
        return _with(
            page(
                request,
                "registrations/ticket.html",
                registration=registration,
                event=event,
                board_on=BoardService(db_session).is_on(event),
                **VIEW_HELPERS,
            ),
            PRIVATE_HEADERS,
        )

    def _qr(self, request: Request, session: Session, code: str, kind: str) -> Response[bytes]:
        registration = RegistrationService(session).by_ticket_code(code)
        if registration.status is not S.CONFIRMED or not registration.ticket_code:
            raise NotFound()
        url = ticket_url(_settings(request).base_url, registration.ticket_code)
        body = qr_svg(url) if kind == "svg" else qr_png(url)
        return conditional_response(
            request,
            Rendered(body),
            media_type="image/svg+xml" if kind == "svg" else "image/png",
            headers={},
        )

    @get("/t/{code:str}/qr.svg", opt=PERSONAL, sync_to_thread=True)
    def ticket_qr_svg(
        self, request: Request, code: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[bytes]:
        return self._qr(request, db_session, code, "svg")

    @get("/t/{code:str}/qr.png", opt=PERSONAL, sync_to_thread=True)
    def ticket_qr_png(
        self, request: Request, code: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[bytes]:
        return self._qr(request, db_session, code, "png")

    # -- the private page -------------------------------------------------------------------
    def _manage(
        self,
        request: Request,
        session: Session,
        registration: Registration,
        token: str,
        *,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        notice: str = "",
        status_code: int = 200,
    ) -> Response[Any]:
        event = _event_of(session, registration)
        settings = _settings(request)
        confirmed = registration.status is S.CONFIRMED and registration.ticket_code
        attending = registration.status.is_active and event.status is EventStatus.PUBLISHED
        return _with(
            page(
                request,
                "registrations/manage.html",
                fragment="registrations/_manage.html",
                status_code=status_code,
                registration=registration,
                event=event,
                token=token,
                rank=RegistrationService(session).waitlist_rank(registration),
                can_change=registration_changeable(registration, event, utcnow()),
                calendar=event_links(settings, event) if attending else None,
                ticket_url=ticket_url(settings.base_url, registration.ticket_code or "")
                if confirmed
                else None,
                values=values or {},
                errors=errors or {},
                notice=notice,
                retention_days=settings.anonymise_after_days,
                feed_links=count_feed_tokens(session, registration.email),
                offers=has_seat(session, registration, utcnow()),
                board_on=BoardService(session).is_on(event),
                **VIEW_HELPERS,
            ),
            PRIVATE_HEADERS,
        )

    def _after_change(
        self, request: Request, session: Session, registration: Registration, token: str, done: str
    ) -> Response[Any]:
        """PRG back to the private page, or (htmx) the refreshed page part at once."""
        if wants_fragment(request):
            return self._manage(request, session, registration, token, notice=done)
        flash(request, done)
        return _with(Redirect(f"/r/{token}", status_code=303), PRIVATE_HEADERS)

    def _question(
        self, request: Request, registration: Registration, token: str, action: str
    ) -> Response[Any]:
        """The no-JavaScript confirmation step of a destructive action."""
        return _with(
            page(
                request,
                "registrations/confirm_action.html",
                registration=registration,
                token=token,
                action=action,
            ),
            PRIVATE_HEADERS,
        )

    @get("/r/{token:str}", opt=access(Access.TOKEN), sync_to_thread=True)
    def manage(
        self, request: Request, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[Any]:
        registration = RegistrationService(db_session).by_manage_token(token)
        return self._manage(request, db_session, registration, token)

    @post("/r/{token:str}/guests", opt=access(Access.TOKEN), sync_to_thread=True)
    def change_guests(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[GuestsForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        service = RegistrationService(db_session)
        registration = service.by_manage_token(token)
        try:
            service.change_guests(registration, data.guests)
        except ValidationFailed as exc:
            return self._manage(
                request,
                db_session,
                registration,
                token,
                values={"guests": data.guests},
                errors=field_errors(exc.errors),
                status_code=400,
            )
        return self._after_change(
            request, db_session, registration, token, _("Your party size is saved.")
        )

    @post("/r/{token:str}/cancel", opt=access(Access.TOKEN), sync_to_thread=True)
    def cancel(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[ConfirmForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        service = RegistrationService(db_session)
        registration = service.by_manage_token(token)
        if not registration.status.is_active:
            return self._after_change(
                request, db_session, registration, token, _("This registration is cancelled.")
            )
        # Refused before the question is asked, not after (the service checks it again).
        event = _event_of(db_session, registration)
        require_registration_changeable(registration, event, utcnow())
        if data.confirm != "yes":
            return self._question(request, registration, token, "cancel")
        service.cancel(registration)
        return self._after_change(
            request, db_session, registration, token, _("Your registration is cancelled.")
        )

    @post("/r/{token:str}/feeds/revoke", opt=access(Access.TOKEN), sync_to_thread=True)
    def revoke_feeds(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[ConfirmForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        registration = RegistrationService(db_session).by_manage_token(token)
        if data.confirm != "yes":
            return self._question(request, registration, token, "revoke_feeds")
        revoke_feed_tokens(db_session, registration.email)
        return self._after_change(
            request, db_session, registration, token, _("Your calendar links are stopped.")
        )

    @get("/r/{token:str}/data.json", opt=access(Access.TOKEN), sync_to_thread=True)
    def data_export(
        self, request: Request, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[Any]:
        registration = RegistrationService(db_session).by_manage_token(token)
        event = _event_of(db_session, registration)
        settings = _settings(request)
        data = export_personal_data(
            db_session,
            registration,
            base_url=settings.base_url,
            retention_days=settings.anonymise_after_days,
            now=utcnow(),
        )
        filename = f"registration-{event.slug}.json"
        return Response(
            data,
            media_type="application/json",
            headers={
                **PRIVATE_HEADERS,
                "content-disposition": f'attachment; filename="{filename}"',
            },
        )

    @post("/r/{token:str}/delete", opt=access(Access.TOKEN), sync_to_thread=True)
    def delete(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[ConfirmForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        service = RegistrationService(db_session)
        registration = service.by_manage_token(token)
        if data.confirm != "yes":
            return self._question(request, registration, token, "delete")
        event = _event_of(db_session, registration)
        service.erase(registration)
        target = f"/e/{event.slug}/registered?result=erased"
        if wants_fragment(request):
            redirect = ClientRedirect(target)
            redirect.status_code = 200  # htmx acts on HX-Redirect; the route's default is 201
            return _with(redirect, PRIVATE_HEADERS)
        return _with(Redirect(target, status_code=303), PRIVATE_HEADERS)

    # -- confirming the address -------------------------------------------------------------
    def _confirm_page(
        self,
        request: Request,
        session: Session,
        registration: Registration,
        token: str,
        *,
        error: str = "",
        status_code: int = 200,
    ) -> Response[Any]:
        return _with(
            page(
                request,
                "registrations/confirm_email.html",
                status_code=status_code,
                registration=registration,
                event=_event_of(session, registration),
                token=token,
                error=error,
                **VIEW_HELPERS,
            ),
            PRIVATE_HEADERS,
        )

    @get("/r/{token:str}/confirm", opt=access(Access.TOKEN), sync_to_thread=True)
    def confirm_form(
        self, request: Request, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[Any]:
        registration = RegistrationService(db_session).by_manage_token(token)
        error = error_message("hold_expired") if _hold_expired(registration) else ""
        return self._confirm_page(request, db_session, registration, token, error=error)

    @post("/r/{token:str}/confirm", opt=access(Access.TOKEN), sync_to_thread=True)
    def confirm(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[ConfirmForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        service = RegistrationService(db_session)
        registration = service.by_manage_token(token)
        try:
            result = service.confirm_email(token)
        except Conflict as exc:
            return self._confirm_page(
                request,
                db_session,
                registration,
                token,
                error=error_message(exc.code),
                status_code=409,
            )
        messages = {
            Outcome.CONFIRMED: _("Your address is confirmed: you have a place."),
            Outcome.WAITLISTED: _("Your address is confirmed: you are on the waiting list."),
            Outcome.PENDING_APPROVAL: _(
                "Your address is confirmed: the organisers will now look at your registration."
            ),
        }
        flash(request, messages.get(result.outcome, _("Your address is confirmed.")))
        return _with(Redirect(f"/r/{token}", status_code=303), PRIVATE_HEADERS)
