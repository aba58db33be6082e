"""Sign-up, login and logout for organisers.

Sign-up answers "check your mailbox" to every well-formed request, whether or not the
address has an account (events/services/signup.py); the account is created from the mailed
link, which logs the new organiser in.
"""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.errors import Conflict, NotFound, ValidationFailed
from events.models import SignupRequest, User
from events.services.accounts import AccountService
from events.services.signup import SignupService
from web.auth import SESSION_USER_KEY, Access, access, session_user_id
from web.forms import LoginForm, SignupForm, safe_next
from web.i18n import current_locale
from web.i18n import gettext as _
from web.mail import mail_settings
from web.messages import error_message, field_errors
from web.rendering import flash, page
from web.sessions import rotate_session_id
from web.settings import Settings


def _log_in(request: Request, user: User) -> None:
    rotate_session_id(request)
    request.set_session({SESSION_USER_KEY: str(user.id), "user_name": user.display_name})


class AccountController(Controller):
    include_in_schema = False

    @get("/login", opt=access(Access.PUBLIC))
    async def login_page(self, request: Request, next: FromQuery[str] = "") -> Template | Redirect:
        if session_user_id(request):
            return Redirect(safe_next(next), status_code=303)
        return page(request, "accounts/login.html", form={"next": next}, errors={})

    @post("/login", opt=access(Access.PUBLIC), sync_to_thread=True)
    def login(
        self,
        request: Request,
        data: URLEncodedBody[LoginForm],
        db_session: NamedDependency[Session],
    ) -> Template | Redirect:
        user = AccountService(db_session).authenticate(data.email, data.password)
        if user is None:
            return page(
                request,
                "accounts/login.html",
                status_code=400,
                form={"email": data.email[:320], "next": data.next},
                errors={"form": error_message("bad_credentials")},
            )
        _log_in(request, user)
        flash(request, _("Welcome back, %(name)s.", name=user.display_name))
        return Redirect(safe_next(data.next), status_code=303)

    @get("/signup", opt=access(Access.PUBLIC))
    async def signup_page(
        self, request: Request, next: FromQuery[str] = "", email: FromQuery[str] = ""
    ) -> Template:
        settings: Settings = request.app.state.settings
        return page(
            request,
            "accounts/signup.html",
            form={"next": next, "email": email[:320]},
            errors={},
            signup_open=settings.signup_open,
        )

    @post("/signup", opt=access(Access.PUBLIC), sync_to_thread=True)
    def signup(
        self,
        request: Request,
        data: URLEncodedBody[SignupForm],
        db_session: NamedDependency[Session],
    ) -> Template | Redirect:
        settings: Settings = request.app.state.settings
        form = {
            "email": data.email[:320],
            "display_name": data.display_name[:200],
            "next": data.next,
        }
        if not settings.signup_open:
            return _signup_closed(request, form)
        try:
            SignupService(db_session, mail_settings(settings)).request(
                email=data.email,
                display_name=data.display_name,
                password=data.password,
                locale=current_locale.get(),
                next_path=safe_next(data.next),
            )
        except ValidationFailed as failed:
            return page(
                request,
                "accounts/signup.html",
                status_code=400,
                form=form,
                errors=field_errors(failed.errors),
                signup_open=True,
            )
        # The same page whether or not the address has an account: the mail says which.
        return page(request, "accounts/signup_sent.html", email=form["email"].strip())

    @get("/signup/confirm/{token:str}", opt=access(Access.TOKEN), sync_to_thread=True)
    def signup_confirm_page(
        self, request: Request, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Template:
        try:
            waiting = SignupService(db_session).waiting(token)
        except NotFound:
            return _confirm_page(request, 404)
        return _confirm_page(request, waiting=waiting, token=token)

    @post("/signup/confirm/{token:str}", opt=access(Access.TOKEN), sync_to_thread=True)
    def signup_confirm(
        self, request: Request, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Template | Redirect:
        settings: Settings = request.app.state.settings
        if not settings.signup_open:
            return _signup_closed(request, {})
        try:
            user, next_path = SignupService(db_session).complete(token)
        except NotFound:
            return _confirm_page(request, 404)
        except Conflict:  # the address got an account meanwhile (the link's holder may know)
            return _confirm_page(request, 409, taken=True)
        _log_in(request, user)
        flash(request, _("Your account is ready. Create your first community below."))
        return Redirect(safe_next(next_path), status_code=303)

    @post("/logout", opt=access(Access.PUBLIC))
    async def logout(self, request: Request) -> Redirect:
        request.clear_session()
        return Redirect("/", status_code=303)


def _signup_closed(request: Request, form: dict[str, str]) -> Template:
    return page(
        request,
        "accounts/signup.html",
        status_code=403,
        form=form,
        errors={"form": error_message("signup_closed")},
        signup_open=False,
    )


def _confirm_page(
    request: Request,
    status_code: int = 200,
    *,
    waiting: SignupRequest | None = None,
    token: str = "",
    taken: bool = False,
) -> Template:
    """The mailed link's page: the button, or why the link does not work (gone, taken)."""
    response = page(
        request,
        "accounts/signup_confirm.html",
        status_code=status_code,
        waiting=waiting,
        token=token,
        taken=taken,
    )
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the address
    return response
