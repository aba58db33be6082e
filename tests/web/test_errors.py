"""Every failure answers a clear page (HTML) or problem details (API), never a traceback."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from events.database import Database
from tests.conftest import BASE_URL
from tests.factories import Factories
from tests.web.conftest import Client
from web.app import create_app
from web.settings import Settings


def test_a_post_without_csrf_token_gets_a_friendly_403(client: Client, make: Factories) -> None:
    user = make.user()
    response = client.post("/login", data={"email": user.email, "password": "x"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "Not allowed" in response.text
    assert "reload the page" in response.text


def test_htmx_requests_send_the_token_as_a_header(client: Client, make: Factories) -> None:
    user = make.user()
    token = client.csrf_token()
    response = client.post(
        "/login",
        data={"email": user.email, "password": "correct horse battery"},
        headers={"x-csrftoken": token},
        follow_redirects=False,
    )
    assert response.status_code == 303


@pytest.mark.parametrize("path", ["/nothing-here", "/manage/../../etc/passwd", "/static/nope.css"])
def test_unknown_urls_answer_an_html_404(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page not found" in response.text
    assert "Traceback" not in response.text


def test_an_unknown_id_answers_404_too(client: Client, make: Factories) -> None:
    owner = make.user()
    make.community(owner=owner, slug="ours")
    client.login(owner)
    response = client.submit("/manage/ours/members/00000000-0000-7000-8000-000000000000/remove")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert client.get("/invite/forged-token").status_code == 404


def test_a_malformed_id_answers_404_not_500(client: Client, make: Factories) -> None:
    owner = make.user()
    make.community(owner=owner, slug="ours")
    client.login(owner)
    response = client.submit("/manage/ours/members/not-a-uuid/remove")
    assert response.status_code == 404


def test_the_api_answers_problem_details(client: Client) -> None:
    response = client.get("/api/v1/communities/unknown")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404
    assert body["title"] == "Page not found"


def test_wrong_method_answers_405_page(client: Client) -> None:
    response = client.put("/login", headers={"x-csrftoken": client.csrf_token()})
    assert response.status_code == 405
    assert "Method not allowed" in response.text


def test_a_huge_body_answers_413(client: Client) -> None:
    response = client.submit("/login", {"email": "x" * (2 * 1024 * 1024), "password": "y"})
    assert response.status_code == 413
    assert "Too large" in response.text


def test_an_unknown_host_is_refused(client: Client) -> None:
    response = client.get("/", headers={"host": "evil.example"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "data",
    [
        {"email": "\x00", "password": "\x00"},
        {"email": "a@b.org\r\nBcc: x@y.org", "password": "p"},
        {"email": ["a@b.org", "c@d.org"], "password": "p"},
        {"email": "💥" * 1000, "password": "🔑" * 2000},
        {},
    ],
)
def test_garbage_in_forms_never_produces_a_500(client: Client, data: dict) -> None:
    for url in ("/login", "/signup"):
        response = client.submit(url, data)
        assert response.status_code < 500, (url, data, response.text[:300])


def test_database_down_answers_503_with_retry_after(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    (tmp_path / "a-directory").mkdir()
    broken = Database.from_url(f"sqlite:///{tmp_path / 'a-directory'}")  # cannot be opened
    app = create_app(replace(settings, database_url=f"sqlite:///{tmp_path}/x"), broken)
    with Client(app=app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        page = client.get("/api/v1/communities")
        assert page.status_code == 503
        assert page.headers["retry-after"] == "30"
        assert "Traceback" not in page.text
        html = client.get("/login")  # no database needed: still served
        assert html.status_code == 200
        signup = client.submit(
            "/signup", {"email": "a@b.org", "display_name": "A", "password": "0123456789ab"}
        )
        assert signup.status_code == 503
        assert "temporarily unavailable" in signup.text


@pytest.mark.parametrize("url", ["/manage/%00", "/invite/abc%00def", "/login?next=%00"])
def test_nul_bytes_in_urls_answer_400(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    assert "not allowed" in response.text


def test_a_nul_byte_in_a_form_is_refused_and_nothing_is_stored(
    client: Client, db: Database
) -> None:
    response = client.submit(
        "/signup", {"email": "nul@example.org", "display_name": "A\x00B", "password": "x" * 12}
    )
    assert response.status_code == 400
    with db.session() as session:
        from events.services.accounts import AccountService

        assert AccountService(session).by_email("nul@example.org") is None
