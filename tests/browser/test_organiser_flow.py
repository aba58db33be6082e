"""An organiser's first visit, in a real browser against a real server process."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from events.database import Database
from events.models import OutboxMessage
from tests.browser.conftest import LiveServer


def mailed_signup_link(live_server: LiveServer, email: str) -> str:
    """The link of the newest sign-up mail to ``email``, read from the server's outbox."""
    database = Database.from_url(live_server.database_url)
    try:
        with database.session() as session:
            body = session.scalars(
                select(OutboxMessage.text_body)
                .where(OutboxMessage.to_address == email, OutboxMessage.kind == "signup_confirm")
                .order_by(OutboxMessage.created_at.desc())
            ).first()
    finally:
        database.dispose()
    assert body, f"no sign-up mail to {email}"
    found = re.search(r"https?://\S+/signup/confirm/[\w-]+", body)
    assert found
    return found.group(0)


def finish_sign_up(page: Page, live_server: LiveServer, email: str) -> None:
    """After the form: the "check your mailbox" page, then the mailed link and its button."""
    expect(page.get_by_role("heading", name="Check your mailbox")).to_be_visible()
    page.goto(mailed_signup_link(live_server, email))
    page.get_by_role("button", name="Create my account").click()


def sign_up(page: Page, live_server: LiveServer, email: str, name: str = "Alice Martin") -> None:
    page.goto("/signup")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Create my account").click()
    finish_sign_up(page, live_server, email)
    expect(page).to_have_url(re.compile(r"/manage/?$"))


def test_sign_up_create_a_community_invite_a_door_volunteer_log_out(
    page: Page, live_server: LiveServer
) -> None:
    sign_up(page, live_server, "alice@example.org")
    expect(page.get_by_text("Your account is ready")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()

    page.get_by_role("link", name="Log in").click()
    page.get_by_label("E-mail address").fill("alice@example.org")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Welcome back, Alice Martin.")).to_be_visible()

    page.get_by_label("Name").fill("Jeudis de la Coloc")
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/manage/jeudis-de-la-coloc$"))
    expect(page.get_by_role("heading", name="Jeudis de la Coloc")).to_be_visible()

    # Inviting goes through htmx: the link appears in place, no page reload.
    page.get_by_label("E-mail address").fill("door@example.org")
    page.get_by_label("Role", exact=True).select_option("door")
    page.get_by_role("button", name="Create invitation").click()
    link = page.get_by_label("Invitation link")
    expect(link).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/invite/[\w-]{32,}$"))
    invite_url = link.input_value()

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()

    # The volunteer opens the link, creates an account with that address, accepts.
    page.goto(invite_url)
    expect(page.get_by_role("heading", name="Join “Jeudis de la Coloc”")).to_be_visible()
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_label("E-mail address")).to_have_value("door@example.org")
    page.get_by_label("Your name").fill("Dominique")
    page.get_by_label("Password").fill("another long password")
    page.get_by_role("button", name="Create my account").click()
    finish_sign_up(page, live_server, "door@example.org")  # back to the invitation
    page.get_by_role("button", name="Accept the invitation").click()
    expect(page.get_by_text("You joined “Jeudis de la Coloc”.")).to_be_visible()
    expect(page.get_by_text("Door volunteer")).to_be_visible()


def test_invalid_sign_up_shows_errors_next_to_the_fields(page: Page) -> None:
    page.goto("/signup")
    page.get_by_label("E-mail address").fill("not an address")
    page.get_by_role("button", name="Create my account").click()
    expect(page.locator("#f-email-error")).to_have_text(re.compile("valid e-mail address"))
    expect(page.locator("#f-display_name-error")).to_have_text("This field is required.")
    expect(page.get_by_label("E-mail address")).to_have_attribute("aria-invalid", "true")


def test_the_pages_speak_french_to_a_french_browser(browser, live_server) -> None:
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    page = context.new_page()
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
    context.close()
