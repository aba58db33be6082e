from __future__ import annotations

from dataclasses import replace

from events.database import Database
from events.services.accounts import AccountService
from tests.conftest import BASE_URL
from tests.factories import DEFAULT_PASSWORD, Factories
from tests.web.conftest import Client
from web.app import create_app
from web.settings import Settings


def test_sign_up_logs_the_new_organiser_in(client: Client, db: Database) -> None:
    response = client.submit(
        "/signup", {"email": "Zoe@Example.org", "display_name": "Zoé", "password": "0123456789ab"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/manage"
    page = client.get("/manage/")
    assert page.status_code == 200
    assert "Zoé" in page.text
    with db.session() as session:
        assert AccountService(session).by_email("zoe@example.org") is not None


def test_sign_up_errors_are_shown_next_to_each_field(client: Client, db: Database) -> None:
    response = client.submit("/signup", {"email": "nope", "display_name": "", "password": "x"})
    assert response.status_code == 400
    assert 'id="f-email-error">Enter a valid e-mail address' in response.text
    assert 'id="f-display_name-error">This field is required.' in response.text
    assert 'id="f-password-error">Use at least 10 characters.' in response.text
    assert 'value="nope"' in response.text  # what was typed is kept
    with db.session() as session:
        assert AccountService(session).by_email("nope") is None


def client_for(settings: Settings, db: Database, **overrides: object) -> Client:
    return Client(app=create_app(replace(settings, **overrides), db), base_url=BASE_URL)


def test_sign_up_can_be_closed(settings: Settings, db: Database) -> None:
    with client_for(settings, db, signup_open=False) as client:
        response = client.submit(
            "/signup", {"email": "a@b.org", "display_name": "A", "password": "0123456789ab"}
        )
        assert response.status_code == 403
        assert "Sign-up is closed" in response.text
    with db.session() as session:
        assert AccountService(session).by_email("a@b.org") is None


def test_login_changes_the_session_id(
    client: Client, other_client: Client, make: Factories
) -> None:
    first, second = make.user(), make.user()
    client.login(first)
    before = client.cookies["session"]
    client.login(second)
    after = client.cookies["session"]
    assert before != after
    # The pre-login id is deleted server-side: whoever knew it holds nothing.
    other_client.cookies.set("session", before)
    assert other_client.get("/manage/", follow_redirects=False).status_code == 303


def test_wrong_password_shows_one_message_and_no_hint(client: Client, make: Factories) -> None:
    user = make.user()
    wrong = client.submit("/login", {"email": user.email, "password": "nope nope nope"})
    unknown = client.submit("/login", {"email": "ghost@example.org", "password": "whatever"})
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "The e-mail address or the password is wrong." in response.text
    assert "session" not in client.cookies or client.cookies["session"] == "null"


def test_logout_really_ends_the_session(
    client: Client, other_client: Client, make: Factories
) -> None:
    user = make.user()
    client.login(user)
    stolen = client.cookies["session"]
    assert client.get("/manage/").status_code == 200
    client.submit("/logout")
    assert client.get("/manage/", follow_redirects=False).status_code == 303
    # Replaying the old cookie does not bring the session back: it was deleted server-side.
    other_client.cookies.set("session", stolen)
    response = other_client.get("/manage/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_login_goes_back_to_the_page_asked_for_but_never_off_site(
    client: Client, make: Factories
) -> None:
    user = make.user()
    response = client.submit(
        "/login", {"email": user.email, "password": DEFAULT_PASSWORD, "next": "//evil.example/"}
    )
    assert response.headers["location"] == "/manage"
    client.submit("/logout")
    response = client.submit(
        "/login", {"email": user.email, "password": DEFAULT_PASSWORD, "next": "/manage/x"}
    )
    assert response.headers["location"] == "/manage/x"


def test_login_is_rate_limited(settings: Settings, db: Database, make: Factories) -> None:
    user = make.user()
    with client_for(settings, db, login_rate_limit=3) as client:
        statuses = [
            client.submit("/login", {"email": user.email, "password": "bad password"}).status_code
            for _ in range(5)
        ]
        assert statuses[:3] == [400, 400, 400]
        assert statuses[3:] == [429, 429]
        page = client.submit("/login", {"email": user.email, "password": "x"})
        assert "Please wait a minute" in page.text
        assert client.get("/login").status_code == 200  # reading the page is not limited
