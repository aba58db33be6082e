"""(Being written: the public event pages.)"""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Template

from web.auth import Access, access
from web.rendering import page


class PublicEventsController(Controller):
    include_in_schema = False

    @get("/", opt=access(Access.PUBLIC))
    async def home(self, request: Request) -> Template:
        return page(request, "public/home.html")
