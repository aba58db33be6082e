"""Every failure answers a clear page (HTML) or problem details (API), never a traceback."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from events.database import Database
from events.models import Membership
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


# -- no dead ends after errors (issue 14, item 4) -------------------------------------------


def test_a_get_on_a_form_only_address_leads_to_the_page_above(
    client: Client, make: Factories, db: Database
) -> None:
    owner = make.user()
    make.community(owner=owner, slug="ours")
    client.login_as(db, owner)
    # What a reload of "create a community"'s failed answer asks for.
    response = client.get("/manage/communities", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/manage"
    assert client.get("/manage/communities").status_code == 200  # the dashboard
    cover = client.get("/manage/ours/events/some-event/cover", follow_redirects=False)
    assert cover.headers["location"] == "/manage/ours/events/some-event"
    # Other methods and the API keep their 405.
    assert client.put("/login", headers={"x-csrftoken": client.csrf_token()}).status_code == 405


def test_a_failed_form_keeps_the_address_of_its_page(
    client: Client, make: Factories, db: Database
) -> None:
    client.login_as(db, make.user())
    boosted = {"HX-Request": "true", "HX-Boosted": "true"}
    response = client.submit("/manage/communities", {"name": ""}, headers=boosted)
    assert response.status_code == 400
    assert response.headers["hx-push-url"] == "false"
    assert client.get("/manage/").headers.get("hx-push-url") is None


def test_a_refused_action_shows_its_message_on_the_page_it_came_from(
    client: Client, make: Factories, db: Database
) -> None:
    owner = make.user()
    community = make.community(owner=owner, slug="ours")
    client.login_as(db, owner)
    with db.session() as session:
        mine = session.scalar(select(Membership).where(Membership.user_id == owner.id))
    url = f"/manage/ours/members/{mine.id}/remove"
    page_url = f"{BASE_URL}/manage/ours"
    refused = client.submit(url, headers={"referer": page_url})
    assert refused.status_code == 303 and refused.headers["location"] == "/manage/ours"
    shown = client.get("/manage/ours")
    assert "A community needs at least one owner" in shown.text
    assert 'class="flash flash-error"' in shown.text

    htmx = client.submit(url, headers={"referer": page_url, "HX-Request": "true"})
    assert htmx.status_code == 200 and htmx.headers["hx-retarget"] == "#flashes"
    assert "A community needs at least one owner" in htmx.text

    # Without a page to go back to (or from another site): the error page, with a way back.
    for headers in ({}, {"referer": "https://evil.example/manage/ours"}):
        page = client.submit(url, headers=headers)
        assert page.status_code == 409
        assert "A community needs at least one owner" in page.text
        assert 'href="/manage/ours"' in page.text and "Back to where you were" in page.text
    with db.session() as session:
        assert session.get(Membership, mine.id) is not None
    assert community.slug == "ours"


def test_error_pages_in_the_organiser_area_link_back(
    client: Client, make: Factories, db: Database
) -> None:
    owner = make.user()
    make.community(owner=owner, slug="ours")
    client.login_as(db, owner)
    missing = client.get(
        "/manage/ours/events/nope", headers={"referer": f"{BASE_URL}/manage/ours/events"}
    )
    assert missing.status_code == 404
    assert 'href="/manage/ours/events"' in missing.text
    public = client.get("/e/nope")
    assert "Back to the events" in public.text and "Back to where you were" not in public.text
