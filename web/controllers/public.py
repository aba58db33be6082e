"""Public pages: home, language switch."""

from __future__ import annotations

from litestar import Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from web.auth import Access, access
from web.forms import safe_next
from web.i18n import LOCALE_COOKIE, SUPPORTED_LOCALES
from web.rendering import page

ONE_YEAR = 365 * 24 * 3600


@get("/", opt=access(Access.PUBLIC), include_in_schema=False)
async def home(request: Request) -> Template:
    return page(request, "public/home.html")


@get("/lang/{code:str}", opt=access(Access.PUBLIC), include_in_schema=False)
async def switch_language(code: FromPath[str], next: FromQuery[str] = "/") -> Redirect:
    """Remember the visitor's language choice in a cookie, then go back."""
    response = Redirect(safe_next(next, "/"), status_code=303)
    if code in SUPPORTED_LOCALES:
        response.set_cookie(LOCALE_COOKIE, code, max_age=ONE_YEAR, samesite="lax", httponly=True)
    return response
