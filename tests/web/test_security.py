from __future__ import annotations

from dataclasses import replace

from events.database import Database
from tests.factories import Factories
from tests.web.conftest import Client
from web.app import create_app
from web.settings import Settings


def test_every_page_carries_the_security_headers(client: Client) -> None:
    for path in ("/", "/login", "/nothing", "/healthz", "/static/css/app.css"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_pages_have_no_inline_script(client: Client) -> None:
    html = client.get("/login").text
    assert "<script>" not in html
    for line in html.splitlines():
        if "<script" in line:
            assert 'src="/static/' in line


def test_anonymous_visitors_get_no_session_cookie(client: Client) -> None:
    response = client.get("/")
    assert "session=" not in response.headers.get("set-cookie", "")


def test_cookies_are_secure_when_the_site_is_https(
    settings: Settings, db: Database, make: Factories
) -> None:
    user = make.user()
    https = replace(settings, base_url="https://testserver.local")
    with Client(app=create_app(https, db), base_url="https://testserver.local") as client:
        response = client.login(user)
        cookie = response.headers["set-cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "max-age=31536000" in client.get("/").headers["strict-transport-security"]
