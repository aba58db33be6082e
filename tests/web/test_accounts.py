from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from events.clock import utcnow
from events.database import Database
from events.models import OutboxMessage, SignupRequest, User
from events.services.accounts import AccountService
from tests.conftest import BASE_URL
from tests.factories import DEFAULT_PASSWORD, Factories
from tests.web.conftest import Client
from web.app import create_app
from web.settings import Settings


def test_sign_up_mails_a_link_that_creates_the_account_and_logs_in(
    client: Client, db: Database
) -> None:
    response = client.submit("/signup", {**NEW_ORGANISER, "email": "Zoe@Example.org"})

    assert response.status_code == 200
    assert "Check your mailbox" in response.text and "Zoe@Example.org" in response.text
    assert client.get("/manage/", follow_redirects=False).status_code == 303  # not yet in
    assert account(db, "zoe@example.org") is None
    link = signup_link(db, "zoe@example.org")
    # Opening the link creates nothing (mail scanners open links): the button does.
    page = client.get(link)
    assert page.status_code == 200 and "Zoé" in page.text and "zoe@example.org" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert account(db, "zoe@example.org") is None

    done = client.submit(link)

    assert done.status_code == 303 and done.headers["location"] == "/manage"
    assert "Zoé" in client.get("/manage/").text
    assert account(db, "zoe@example.org") is not None
    assert client.submit(link).status_code == 404  # the link works once
    assert "no longer works" in client.get(link).text


def test_sign_up_answers_the_same_whether_or_not_the_address_has_an_account(
    client: Client, db: Database, make: Factories
) -> None:
    """The review's finding: sign-up told whether an account existed. Now both answers are
    the same page; the mail tells the address's owner which case it was."""
    owner = make.user(email="taken@example.org", name="Owner")
    with db.session() as session:
        hash_before = AccountService(session).by_email("taken@example.org").password_hash  # type: ignore[union-attr]

    taken = client.submit("/signup", {**NEW_ORGANISER, "email": "taken@example.org"})
    free = client.submit("/signup", {**NEW_ORGANISER, "email": "free@example.org"})

    assert taken.status_code == free.status_code == 200
    assert taken.text.replace("taken@", "@") == free.text.replace("free@", "@")
    assert "session" not in taken.cookies and "session" not in free.cookies
    [warning] = mails(db, "taken@example.org")
    assert warning.kind == "signup_exists" and f"{BASE_URL}/login" in warning.text_body
    assert "/signup/confirm/" not in warning.text_body + warning.html_body
    assert "Hello Owner," in warning.text_body
    [invitation] = mails(db, "free@example.org")
    assert invitation.kind == "signup_confirm"
    assert invitation.community_id is None  # on no organiser's outbox page
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(SignupRequest)) == 1
        unchanged = AccountService(session).by_email("taken@example.org")
        assert unchanged is not None and unchanged.password_hash == hash_before
        assert unchanged.id == owner.id


def test_someone_who_typed_my_address_cannot_block_or_take_my_sign_up(
    client: Client, other_client: Client, db: Database
) -> None:
    other_client.submit("/signup", {**NEW_ORGANISER, "password": "the squatter's password"})
    squatter_link = signup_link(db, NEW_ORGANISER["email"])
    client.submit("/signup", {**NEW_ORGANISER, "password": "my very own password"})
    my_link = signup_link(db, NEW_ORGANISER["email"])

    assert other_client.submit(squatter_link).status_code == 404  # replaced by mine
    assert client.submit(my_link).status_code == 303
    client.submit("/logout")
    assert (
        client.submit(
            "/login", {"email": NEW_ORGANISER["email"], "password": "my very own password"}
        ).status_code
        == 303
    )


def test_a_link_older_than_a_day_no_longer_works(client: Client, db: Database) -> None:
    client.submit("/signup", NEW_ORGANISER)
    link = signup_link(db, NEW_ORGANISER["email"])
    with db.transaction() as session:
        session.execute(update(SignupRequest).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get(link).status_code == 404
    assert client.submit(link).status_code == 404
    assert account(db, NEW_ORGANISER["email"]) is None
    for forged in ("/signup/confirm/forged", "/signup/confirm/" + "x" * 5000):
        assert client.get(forged).status_code == 404


def test_the_link_leads_where_the_sign_up_was_going(client: Client, db: Database) -> None:
    client.submit("/signup", {**NEW_ORGANISER, "next": "/invite/some-token"})
    response = client.submit(signup_link(db, NEW_ORGANISER["email"]))
    assert response.headers["location"] == "/invite/some-token"
    client.submit("/logout")
    client.submit("/signup", {**NEW_ORGANISER, "email": "b@example.org", "next": "//evil.example"})
    assert client.submit(signup_link(db, "b@example.org")).headers["location"] == "/manage"


def test_an_address_that_got_an_account_meanwhile_is_not_signed_up_twice(
    client: Client, db: Database, make: Factories
) -> None:
    client.submit("/signup", NEW_ORGANISER)
    link = signup_link(db, NEW_ORGANISER["email"])
    make.user(email=NEW_ORGANISER["email"])  # e.g. `rencontres user create`
    response = client.submit(link)
    assert response.status_code == 409 and "already uses this address" in response.text
    assert client.get("/manage/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    "password", ["password1234", "azertyuiop", "motdepasse123", "aaaaaaaaaaaa", "0123456789ab"]
)
def test_easily_guessed_passwords_are_refused_next_to_the_field(
    client: Client, db: Database, password: str
) -> None:
    response = client.submit("/signup", {**NEW_ORGANISER, "password": password})
    assert response.status_code == 400
    assert 'id="f-password-error">This password is too easy to guess' in response.text
    french = client.submit(
        "/signup", {**NEW_ORGANISER, "password": password}, headers={"Accept-Language": "fr"}
    )
    assert 'id="f-password-error">Ce mot de passe est trop facile à deviner' in french.text
    assert mails(db, NEW_ORGANISER["email"]) == []


def test_sign_up_errors_are_shown_next_to_each_field(client: Client, db: Database) -> None:
    response = client.submit("/signup", {"email": "nope", "display_name": "", "password": "x"})
    assert response.status_code == 400
    assert 'id="f-email-error">Enter a valid e-mail address' in response.text
    assert 'id="f-display_name-error">This field is required.' in response.text
    assert 'id="f-password-error">Use at least 10 characters.' in response.text
    assert 'value="nope"' in response.text  # what was typed is kept
    with db.session() as session:
        assert AccountService(session).by_email("nope") is None


NEW_ORGANISER = {
    "email": "zoe@example.org",
    "display_name": "Zoé",
    "password": "quatre chats sur le toit",
}
SIGNUP_LINK = re.compile(r"http://testserver\.local(/signup/confirm/[\w-]+)")


def account(db: Database, email: str) -> User | None:
    with db.session() as session:
        return AccountService(session).by_email(email)


def mails(db: Database, to: str) -> list[OutboxMessage]:
    with db.session() as session:
        query = select(OutboxMessage).where(OutboxMessage.to_address == to)
        return list(session.scalars(query.order_by(OutboxMessage.created_at)))


def signup_link(db: Database, to: str) -> str:
    """The path of the newest sign-up link mailed to ``to``."""
    found = SIGNUP_LINK.search(mails(db, to)[-1].text_body)
    assert found, "no sign-up link in the mail"
    return found.group(1)


def client_for(settings: Settings, db: Database, **overrides: object) -> Client:
    return Client(app=create_app(replace(settings, **overrides), db), base_url=BASE_URL)


def test_sign_up_can_be_closed(client: Client, settings: Settings, db: Database) -> None:
    client.submit("/signup", NEW_ORGANISER)  # while it was open
    link = signup_link(db, NEW_ORGANISER["email"])
    with client_for(settings, db, signup_open=False) as closed:
        response = closed.submit("/signup", {**NEW_ORGANISER, "email": "a@b.org"})
        assert response.status_code == 403
        assert "Sign-up is closed" in response.text
        assert closed.submit(link).status_code == 403
    assert account(db, "a@b.org") is None and account(db, NEW_ORGANISER["email"]) is None
    assert mails(db, "a@b.org") == []


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


def test_the_command_line_applies_the_password_rule(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    from web.cli import main  # the command line is the web package's entry point

    env = {"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path), "SECRET_KEY": "s" * 40}
    weak = ["user", "create", "--email", "a@example.org", "--name", "A"]
    result = CliRunner().invoke(main, [*weak, "--password", "password1234"], env=env)
    assert result.exit_code == 2 and "password: password_too_common" in result.output
    demo = CliRunner().invoke(main, ["demo", "--password", "azertyuiop"], env=env)
    assert demo.exit_code == 2 and "password: password_too_common" in demo.output
    good = CliRunner().invoke(main, [*weak, "--password", "quatre chats sur le toit"], env=env)
    assert good.exit_code == 0 and "created a@example.org" in good.output
