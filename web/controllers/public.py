"""The language switch."""

from __future__ import annotations

from litestar import get
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from web.auth import Access, access
from web.forms import safe_next
from web.i18n import LOCALE_COOKIE, SUPPORTED_LOCALES

ONE_YEAR = 365 * 24 * 3600


@get("/lang/{code:str}", opt=access(Access.PUBLIC), include_in_schema=False)
async def switch_language(code: FromPath[str], next: FromQuery[str] = "/") -> Redirect:
    """Remember the visitor's language choice in a cookie, then go back."""
    response = Redirect(safe_next(next, "/"), status_code=303)
    if code in SUPPORTED_LOCALES:
        response.set_cookie(LOCALE_COOKIE, code, max_age=ONE_YEAR, samesite="lax", httponly=True)
    return response
