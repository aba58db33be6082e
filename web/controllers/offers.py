"""An attendee's offers & needs board, reached from their private page (``/r/{token}/offers``).

The token is the key, as on the private page (web/controllers/registrations.py): it names
the registration, which gives a seat at its event's board or not
(events/services/exchange_access.py); each handler then calls one operation of
events/services/exchange_*.py. Listing, request and person ids travel in form fields.

Every change is a plain POST answered by a 303 back to the board (with a flash message);
a form with errors is shown again with its values and a message next to each field. A
refusal (a cap, a request already live...) is the error page of its ``Conflict`` and
writes nothing. The filter form is a GET: with htmx it swaps the results only.
The pages are private: never cached, never indexed, no ``Referer``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Response
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import Conflict, NotFound, ValidationFailed
from events.models import Event
from events.services.exchange_access import Seat, seat_of_link
from events.services.exchange_categories import FieldKind, field_name, form_values
from events.services.exchange_contacts import answer, block, matches, request_contact, withdraw
from events.services.exchange_listings import ListingInput, ListingService
from events.services.exchange_notifications import stop_notifications
from events.services.exchange_reports import report_listing, report_message
from events.services.exchange_sharing import SharingInput, choose_what_to_share
from events.services.exchange_suspension import is_suspended
from events.services.exchange_view import attendee_board, visitor_board
from events.services.moderation import REASONS
from web.auth import ONE_CLICK_OPT, Access, access
from web.forms import Form
from web.i18n import gettext as _
from web.messages import error_message, field_errors, report_reason_label
from web.path_objects import PUBLIC_EVENT
from web.rendering import PRIVATE_HEADERS, flash, page, private

#: The form fields of a category's structured fields (``f_budget_min``...).
FIELD_PREFIX = "f_"


async def provide_fields(request: Request) -> dict[str, Any]:
    """The raw values of the listing form's category fields (a list when sent more than
    once, as ticked tags are)."""
    form = await request.form()
    return {
        key: (values[0] if len(values) == 1 else values)
        for key in form
        if key.startswith(FIELD_PREFIX) and (values := form.getall(key))
    }


class ListingForm(Form):
    #: The listing being edited ("" when posting).
    listing: str = ""
    category: str = ""
    side: str = ""
    text: str = ""

    def __post_init__(self) -> None:
        return None  # clean_text reports a NUL next to the field

    def values(self) -> dict[str, Any]:
        return {"category": self.category, "side": self.side, "text": self.text}


class ListingActionForm(Form):
    listing: str = ""
    #: "yes" to pause, "no" to resume (pausing only).
    paused: str = ""


class SharingForm(Form):
    display_name: str = ""
    share_email: str = ""
    phone: str = ""
    meet_note: str = ""
    notify: str = ""

    def __post_init__(self) -> None:
        return None  # clean_text reports a NUL next to the field

    def to_input(self) -> SharingInput:
        return SharingInput(
            self.display_name, self.share_email, self.phone, self.meet_note, self.notify
        )


class ContactForm(Form):
    listing: str = ""
    message: str = ""

    def __post_init__(self) -> None:
        return None  # clean_text reports a NUL next to the field


class AnswerForm(Form):
    contact: str = ""
    #: "yes" or "no".
    accept: str = ""


class BlockForm(Form):
    participant: str = ""


class MessageReportForm(Form):
    contact: str = ""
    #: One of events/services/moderation.py's ``REASONS`` (the form requires one).
    reason: str = ""


def _seat(session: Session, token: str) -> Seat:
    """The seat the token's registration gives (404, or the 409 page saying why not)."""
    return seat_of_link(session, token, utcnow())


def _query(request: Request) -> dict[str, Any]:
    """The query string, one value per name (a list when repeated, as ticked tags are)."""
    return {
        key: found[0] if len(found) == 1 else found
        for key, found in request.query_params.dict().items()
    }


def _more_url(request: Request, next_page: int | None) -> str | None:
    """This page's address asking for ``next_page`` (None: no more to show)."""
    if next_page is None:
        return None
    query = [(key, value) for key, value in request.query_params.multi_items() if key != "page"]
    return f"{request.url.path}?{urlencode([*query, ('page', str(next_page))])}"


def _back(
    request: Request, token: str, message: str, anchor: str = "", level: str = "success"
) -> Response[Any]:
    flash(request, message, level)
    return private(Redirect(f"/r/{token}/offers{anchor}", status_code=303))


def _act(
    request: Request,
    session: Session,
    token: str,
    action: Callable[[Seat], object],
    done: str,
    anchor: str = "",
) -> Response[Any]:
    """``action`` on the token's seat, then back to the board saying ``done``; a listing,
    request or person the form names that is not there for this seat: :func:`_gone`."""
    seat = _seat(session, token)
    try:
        action(seat)
    except NotFound:
        return _gone(request, token)
    return _back(request, token, done, anchor)


def _gone(request: Request, token: str) -> Response[Any]:
    """A listing, request or person named by the form that is not (or no longer) there for
    this seat: deleted, answered, blocked, or never theirs. The board says so."""
    message = _("This is no longer on the board: the page is up to date now.")
    return _back(request, token, message, level="error")


class OffersController(Controller):
    path = "/r/{token:str}/offers"
    include_in_schema = False
    dependencies = {"fields": Provide(provide_fields)}

    def _board(
        self,
        request: Request,
        session: Session,
        token: str,
        *,
        form: str = "",
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        """The board; ``form`` names the form that shows ``values`` and ``errors``
        (``listing:<category>``, ``sharing`` or ``contact:<listing id>``). A GET's
        session only reads: the visit is then recorded apart (``database``)."""
        now = utcnow()
        query = _query(request)
        reading = request.method == "GET"
        database = request.app.state.db if reading else None
        seat = _seat(session, token)
        seen = attendee_board(session, seat, query, now, database=database)
        return private(
            page(
                request,
                "offers/board.html",
                fragment="offers/_results.html",
                status_code=status_code,
                board=seen,
                event=seen.seat.event,
                categories={c.id: c for c in seen.view.categories},
                token=token,
                form=form,
                values=values or {},
                errors=errors or {},
                filter_values=query,
                filter_errors=field_errors(seen.filter_errors),
                more_url=_more_url(request, seen.next_page),
                field_name=field_name,
                form_values=form_values,
                kinds=FieldKind,
                now=now,
                suspended=is_suspended(seen.participant),
                reasons=[(reason, report_reason_label(reason)) for reason in REASONS],
            )
        )

    def _refused(
        self,
        request: Request,
        session: Session,
        token: str,
        form: str,
        values: dict[str, Any],
        failed: ValidationFailed,
    ) -> Response[Any]:
        """The board again with ``form`` showing ``values`` and what is wrong (400)."""
        errors = field_errors(failed.errors)
        return self._board(
            request, session, token, form=form, values=values, errors=errors, status_code=400
        )

    @get("/", opt=access(Access.TOKEN), sync_to_thread=True)
    def board(
        self, request: Request, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[Any]:
        return self._board(request, db_session, token)

    @get("/matches", opt=access(Access.TOKEN), sync_to_thread=True)
    def show_matches(
        self, request: Request, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[Any]:
        seat = _seat(db_session, token)
        found = matches(db_session, seat, utcnow())
        return private(
            page(request, "offers/matches.html", event=seat.event, token=token, matches=found)
        )

    @post("/listings", opt=access(Access.TOKEN), sync_to_thread=True)
    def post_listing(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[ListingForm],
        fields: NamedDependency[dict[str, Any]],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        listing = ListingInput(data.category, data.side, data.text, fields)
        try:
            ListingService(db_session).post(_seat(db_session, token), listing, utcnow())
        except ValidationFailed as failed:
            return self._refused(
                request,
                db_session,
                token,
                f"listing:{data.category}",
                {**data.values(), **fields},
                failed,
            )
        return _back(request, token, _("Your listing is on the board."), "#mine")

    @post("/listings/edit", opt=access(Access.TOKEN), sync_to_thread=True)
    def edit_listing(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[ListingForm],
        fields: NamedDependency[dict[str, Any]],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        listing = ListingInput(data.category, data.side, data.text, fields)
        seat = _seat(db_session, token)
        try:
            ListingService(db_session).edit(seat, data.listing, listing, utcnow())
        except NotFound:
            return _gone(request, token)
        except ValidationFailed as failed:
            return self._refused(
                request,
                db_session,
                token,
                f"edit:{data.listing}",
                {**data.values(), **fields},
                failed,
            )
        return _back(request, token, _("Your listing is saved."), "#mine")

    @post("/listings/pause", opt=access(Access.TOKEN), sync_to_thread=True)
    def pause_listing(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[ListingActionForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        paused = data.paused == "yes"
        done = _("Your listing is paused.") if paused else _("Your listing is back on the board.")
        service = ListingService(db_session)
        return _act(
            request,
            db_session,
            token,
            lambda seat: service.pause(seat, data.listing, paused=paused),
            done,
            "#mine",
        )

    @post("/listings/delete", opt=access(Access.TOKEN), sync_to_thread=True)
    def delete_listing(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[ListingActionForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        service = ListingService(db_session)
        return _act(
            request,
            db_session,
            token,
            lambda seat: service.delete(seat, data.listing),
            _("Your listing is deleted."),
            "#mine",
        )

    @post("/sharing", opt=access(Access.TOKEN), sync_to_thread=True)
    def choose_sharing(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[SharingForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        try:
            choose_what_to_share(db_session, _seat(db_session, token), data.to_input(), utcnow())
        except ValidationFailed as failed:
            return self._refused(
                request,
                db_session,
                token,
                "sharing",
                {
                    "display_name": data.display_name,
                    "share_email": data.share_email,
                    "phone": data.phone,
                    "meet_note": data.meet_note,
                    "notify": data.notify,
                },
                failed,
            )
        return _back(request, token, _("Saved: your matches will see this."), "#sharing")

    @post("/contact", opt=access(Access.TOKEN), sync_to_thread=True)
    def write_to_author(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[ContactForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        now = utcnow()
        seat = _seat(db_session, token)
        try:
            request_contact(db_session, seat, data.listing, data.message, now)
        except NotFound:
            return _gone(request, token)
        except Conflict as refused:
            if refused.code != "suspended":
                raise
            # Said next to the form, with the message kept (nothing was written).
            return self._board(
                request,
                db_session,
                token,
                form=f"contact:{data.listing}",
                values={"message": data.message},
                errors={"message": error_message(refused.code)},
                status_code=409,
            )
        except ValidationFailed as failed:
            return self._refused(
                request,
                db_session,
                token,
                f"contact:{data.listing}",
                {"message": data.message},
                failed,
            )
        done = _("Your message is sent. You will see here when they answer.")
        return _back(request, token, done, "#contacts")

    @post("/answer", opt=access(Access.TOKEN), sync_to_thread=True)
    def answer_request(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[AnswerForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        accept = data.accept == "yes"
        done = (
            _("It is a match: you now see what each of you shares.")
            if accept
            else _("Declined. They are not told so.")
        )
        return _act(
            request,
            db_session,
            token,
            lambda seat: answer(db_session, seat, data.contact, accept=accept, now=utcnow()),
            done,
            "#contacts",
        )

    @post("/withdraw", opt=access(Access.TOKEN), sync_to_thread=True)
    def withdraw_request(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[AnswerForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        return _act(
            request,
            db_session,
            token,
            lambda seat: withdraw(db_session, seat, data.contact, utcnow()),
            _("Your request is withdrawn."),
            "#contacts",
        )

    @post("/report", opt=access(Access.TOKEN), sync_to_thread=True)
    def report_listing(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[ListingActionForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        return _act(
            request,
            db_session,
            token,
            lambda seat: report_listing(db_session, seat, data.listing, utcnow()),
            _("Thank you: the listing is reported, and you no longer see it."),
        )

    @post("/report-message", opt=access(Access.TOKEN), sync_to_thread=True)
    def report_message(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[MessageReportForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        """The recipient reports a message (and so blocks its sender); a missing reason
        shows the form again, open, saying so."""
        seat = _seat(db_session, token)
        try:
            report_message(db_session, seat, data.contact, data.reason, utcnow())
        except NotFound:
            return _gone(request, token)
        except ValidationFailed as failed:
            return self._refused(request, db_session, token, f"report:{data.contact}", {}, failed)
        done = _(
            "Thank you: the message is reported and its sender blocked. The organisers see "
            "how many people reported them and why, never your messages nor who reported."
        )
        return _back(request, token, done, "#contacts")

    @post("/block", opt=access(Access.TOKEN), sync_to_thread=True)
    def block_person(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[BlockForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        return _act(
            request,
            db_session,
            token,
            lambda seat: block(db_session, seat, data.participant, utcnow()),
            _("Blocked: you will not see each other's listings or messages any more."),
        )


class PublicOffersController(Controller):
    """A board its organisers made public, read-only for anyone (``/e/{event}/offers``)."""

    include_in_schema = False
    dependencies = PUBLIC_EVENT

    # Participants' display names and listings: personal, never stored by a cache.
    @get(
        "/e/{event:str}/offers",
        opt=access(Access.PUBLIC, personal_data=True),
        sync_to_thread=True,
    )
    def public_board(
        self,
        request: Request,
        public_event: NamedDependency[Event],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        query = _query(request)
        seen = visitor_board(db_session, public_event, query, utcnow())
        return private(
            page(
                request,
                "offers/public.html",
                fragment="offers/_results.html",
                board=seen,
                event=public_event,
                categories={c.id: c for c in seen.view.categories},
                token=None,
                form="",
                values={},
                errors={},
                filter_values=query,
                filter_errors=field_errors(seen.filter_errors),
                more_url=_more_url(request, seen.next_page),
                field_name=field_name,
                kinds=FieldKind,
            )
        )


class OfferMailsController(Controller):
    """The "no more mails about requests" link of those mails (``/offers/stop/{token}``):
    the GET asks (a mail scanner opening links stops nothing), the POST stops them; and
    their one-click unsubscribe (``/offers/stop/{token}/one-click``, RFC 8058)."""

    path = "/offers/stop/{token:str}"
    include_in_schema = False

    @get("/", opt=access(Access.TOKEN), sync_to_thread=False)
    def ask(self, request: Request, token: FromPath[str]) -> Response[Any]:
        return private(page(request, "offers/stop.html", token=token, stopped=None))

    @post("/", opt=access(Access.TOKEN), sync_to_thread=True)
    def stop(
        self, request: Request, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[Any]:
        stopped = stop_notifications(db_session, token)
        return private(page(request, "offers/stop.html", token=token, stopped=stopped))

    @get("/one-click", opt=access(Access.TOKEN), sync_to_thread=False)
    def one_click_page(self, token: FromPath[str]) -> Redirect:
        """Opened in a browser: the page that asks (a GET never acts)."""
        return Redirect(f"/offers/stop/{token}", status_code=303, headers=PRIVATE_HEADERS)

    @post("/one-click", opt=ONE_CLICK_OPT, sync_to_thread=True, status_code=200)
    def one_click(
        self, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[str]:
        """RFC 8058: the ``List-Unsubscribe-Post`` of the request mails, sent by a mail
        client without a cookie. Stopped already: the same answer (clients retry); a
        token no link holds (forged, or erased with its registration): 404."""
        if not stop_notifications(db_session, token):
            raise NotFound()
        return Response(
            _("You will not receive these e-mails any more."),
            media_type="text/plain",
            headers=PRIVATE_HEADERS,
        )
