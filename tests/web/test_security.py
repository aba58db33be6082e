from __future__ import annotations

import re
from dataclasses import replace

import pytest
from litestar.datastructures import Cookie
from sqlalchemy import select

from events.database import Database
from events.models import Community
from tests.conftest import BASE_URL
from tests.factories import DEFAULT_PASSWORD, Factories
from tests.mail.scenario import open_event
from tests.web.conftest import Client
from web.app import create_app
from web.csrf import VISITOR_COOKIE, new_visitor_id, visitor_cookie
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


# -- CSRF tokens bound to the session (web/csrf.py; security review, issue 13 item 6) --------
TOKEN_IN_PAGE = re.compile(r'name="_csrf_token" value="([^"]+)"')
REQUEST_KEY = re.compile(r'name="request_key" value="([^"]+)"')
TOKEN_IN_HEADERS = re.compile(r'hx-headers=\'\{"x-csrftoken": "([^"]+)"\}\'')


def page_token(client: Client, path: str = "/login") -> str:
    """The token a page gives this browser, as a form field and as htmx's header."""
    html = client.get(path).text
    field, header = TOKEN_IN_PAGE.search(html), TOKEN_IN_HEADERS.search(html)
    assert field and header and field.group(1) == header.group(1), "no CSRF token in the page"
    return field.group(1)


def communities(db: Database) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(Community.name)))


def test_another_visitors_cookie_and_token_are_refused_on_an_organisers_session(
    client: Client, other_client: Client, db: Database, make: Factories
) -> None:
    """The review's attack: a cookie/token pair the attacker got from the site, planted in
    an organiser's browser, was accepted on the organiser's session."""
    attacker_token = page_token(other_client)
    attacker_cookies = dict(other_client.cookies)
    organiser = make.user()
    client.login_as(db, organiser)
    for name, value in attacker_cookies.items():  # planted: the attacker's visitor cookie
        client.cookies.set(name, value, domain="testserver.local")
    client.cookies.set("csrftoken", attacker_token, domain="testserver.local")  # old scheme

    forged = client.post(
        "/manage/communities", data={"_csrf_token": attacker_token, "name": "Pwned"}
    )
    as_header = client.post(
        "/manage/communities", data={"name": "Pwned"}, headers={"x-csrftoken": attacker_token}
    )

    assert forged.status_code == as_header.status_code == 403
    assert communities(db) == []
    # A logged-in attacker's own session token is refused too.
    other_client.login_as(db, make.user())
    session_token = page_token(other_client, "/manage/")
    assert (
        client.post(
            "/manage/communities", data={"_csrf_token": session_token, "name": "Pwned"}
        ).status_code
        == 403
    )
    # Control: the organiser's own token works.
    own = client.post(
        "/manage/communities",
        data={"_csrf_token": page_token(client, "/manage/"), "name": "Ours"},
        follow_redirects=False,
    )
    assert own.status_code == 303 and communities(db) == ["Ours"]


def test_the_token_changes_at_login_and_dies_at_logout(
    client: Client, make: Factories, db: Database
) -> None:
    user = make.user()
    before = page_token(client)
    client.submit("/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    after = page_token(client, "/manage/")
    assert after != before
    # The pre-login token does not work on the new session.
    stale = client.post("/manage/communities", data={"_csrf_token": before, "name": "Stale"})
    assert stale.status_code == 403
    client.post("/logout", data={"_csrf_token": after})
    assert page_token(client) != after  # bound to the visitor cookie again
    assert client.post("/logout", data={"_csrf_token": after}).status_code == 403
    assert communities(db) == []


def test_a_post_from_another_site_is_refused_even_with_a_valid_token(
    client: Client, make: Factories
) -> None:
    user = make.user()
    form = {"email": user.email, "password": DEFAULT_PASSWORD, "_csrf_token": page_token(client)}
    refused = [
        {"Origin": "https://evil.example"},
        {"Origin": "http://testserver.local.evil.example"},
        {"Origin": "http://testserver.local:8080"},
        {"Sec-Fetch-Site": "cross-site", "Origin": BASE_URL},
        {"Sec-Fetch-Site": "same-site"},  # a sibling sub-domain: where planted cookies come from
    ]
    for headers in refused:
        assert client.post("/login", data=form, headers=headers).status_code == 403, headers
    # A page with Referrer-Policy: no-referrer (the private pages) posts with Origin: null.
    for headers in ({"Origin": BASE_URL}, {"Sec-Fetch-Site": "same-origin"}, {"Origin": "null"}):
        response = client.post("/login", data=form, headers=headers, follow_redirects=False)
        assert response.status_code == 303, headers
        client.post("/logout", data={"_csrf_token": page_token(client, "/manage/")})
        form["_csrf_token"] = page_token(client)


def test_anonymous_visitors_are_bound_by_a_visitor_cookie_not_a_session(client: Client) -> None:
    response = client.get("/login")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("visitor=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "session=" not in cookie
    assert client.get("/login").headers.get("set-cookie") is None  # set once
    for stateless in ("/feeds/all.ics", "/healthz", "/static/css/app.css"):
        with Client(app=client.app, base_url=BASE_URL) as fresh:
            assert "set-cookie" not in fresh.get(stateless).headers, stateless


def test_public_registration_works_with_and_without_javascript(
    settings: Settings, db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    app = create_app(settings, db)
    for htmx in (False, True):
        with Client(app=app, base_url=BASE_URL) as visitor:  # a new browser, no session
            token = page_token(visitor, f"/e/{event.slug}")
            key = re.search(
                r'name="request_key" value="([^"]+)"', visitor.get(f"/e/{event.slug}").text
            )
            assert key
            form = {"name": "Ada", "email": f"ada{int(htmx)}@example.org", "consent": "on"}
            form["request_key"] = key.group(1)
            if htmx:
                response = visitor.post(
                    f"/e/{event.slug}/register",
                    data=form,
                    headers={"x-csrftoken": token, "HX-Request": "true"},
                )
                assert response.status_code == 200 and "/r/" in response.text
            else:
                response = visitor.post(
                    f"/e/{event.slug}/register",
                    data={**form, "_csrf_token": token},
                    follow_redirects=False,
                )
                assert response.status_code == 303
                assert response.headers["location"].startswith("/r/")
            assert "session" not in visitor.cookies
            refused = visitor.post(f"/e/{event.slug}/register", data=form)  # no token
            assert refused.status_code == 403


@pytest.mark.parametrize("secure", [True, False])
def test_the_visitor_cookie_is_the_one_litestar_writes(secure: bool) -> None:
    # Written once around its value (web/csrf.py): the same header as written whole.
    visitor = new_visitor_id()
    whole = Cookie(
        key=VISITOR_COOKIE,
        value=visitor,
        path="/",
        httponly=True,
        secure=secure,
        samesite="lax",
    ).to_header(header="")
    assert visitor_cookie(visitor, secure=secure) == whole
