"""The API reference at ``/schema``: Swagger UI served entirely from this server.

Litestar's render plugins load their scripts from a CDN and start them with an inline
``<script>``; this app's Content-Security-Policy (``script-src 'self'``, ``style-src
'self'``) blocks both, and an offline server could not reach a CDN anyway. This plugin
renders a page with no inline script or style: the vendored Swagger UI
(``static/vendor/swagger-ui-<version>/``, from npm's ``swagger-ui-dist``) and a static
start-up script (``static/js/api-reference.js``) that reads the document's address from a
``data-`` attribute. The validator badge is off, so the page asks no other host.
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

SWAGGER_UI = "/static/vendor/swagger-ui-5.36.0"


class LocalSwaggerUI(OpenAPIRenderPlugin):
    def __init__(self, path: str | list[str] = "/") -> None:
        super().__init__(path=path)

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema.get("info", {}).get("title", "API")))
        spec_url = escape(self.get_openapi_json_route(request))
        return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-spec-url="{spec_url}"></div>
<script src="{SWAGGER_UI}/swagger-ui-bundle.js"></script>
<script src="/static/js/api-reference.js"></script>
</body>
</html>""".encode()
