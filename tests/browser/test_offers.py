"""Offers & needs in a real browser on phones (360 px wide): Ada offers a room, Bob seeks
one; Bob finds her offer with its reason, filters (htmx swaps the results only), writes;
Ada accepts; each sees what the other shares. Cy, at the same evening, sees neither the
message nor what they share; the board works without JavaScript too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from events.database import Database
from events.demo import today_in_paris
from events.services.communities import CommunityService
from events.services.events import EventInput, EventService
from events.services.exchange_boards import ExchangeBoardService
from events.services.registrations import RegistrationInput, RegistrationService
from tests.factories import Factories

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def tokens(live_server) -> dict[str, str]:
    """A flat-share evening with offers & needs on, and Ada, Bob and Cy registered."""
    db = Database.from_url(live_server.database_url)
    try:
        make = Factories(db)
        make.community(owner=make.user(), slug="coloc", name="Jeudis de la Coloc")
        day = (today_in_paris() + timedelta(days=5)).isoformat()
        with db.transaction() as session:
            community = CommunityService(session).by_slug("coloc")
            service = EventService(session)
            event = service.create(
                community,
                EventInput(
                    title="Soirée colocation",
                    starts_local=f"{day}T19:00",
                    ends_local=f"{day}T22:00",
                    timezone="Europe/Paris",
                ),
            )
            service.publish(event)
            ExchangeBoardService(session).switch_on(
                community, event=event, preset_id="flat_share", locale="en"
            )
            registrations = RegistrationService(session)
            found = {}
            for name in ("ada", "bob", "cy"):
                result = registrations.register(
                    event,
                    RegistrationInput(
                        name=name.title(), email=f"{name}@example.org", consent="on", locale="en"
                    ),
                )
                assert result.manage_token
                found[name] = result.manage_token
            return found
    finally:
        db.dispose()


@pytest.fixture
def phones(browser: Browser, live_server) -> Iterator[dict[str, Page]]:
    contexts, pages, errors = [], {}, []
    for name in ("ada", "bob", "cy"):
        context = browser.new_context(
            base_url=live_server.url, locale="en-GB", viewport=PHONE, is_mobile=True
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        contexts.append(context)
        pages[name] = page
    yield pages
    for context in contexts:
        context.close()
    assert errors == [], f"browser errors: {errors}"


def post(page: Page, token: str, side: str, text: str, **fields: str) -> None:
    page.goto(f"/r/{token}/offers")
    room = page.locator("#post details").filter(has_text="Room").first
    room.locator("summary").click()
    room.get_by_label(side).check()
    room.get_by_label("In a few words").fill(text)
    for field, value in fields.items():
        room.locator(f'[name="{field}"]').fill(value)
    room.get_by_role("button", name="Post").click()
    expect(page.get_by_text("Your listing is on the board.")).to_be_visible()


def test_two_phones_find_each_other_and_a_third_sees_nothing_of_it(
    phones: dict[str, Page], tokens: dict[str, str]
) -> None:
    ada, bob, cy = phones["ada"], phones["bob"], phones["cy"]
    ada.goto(f"/r/{tokens['ada']}")
    ada.get_by_role("link", name="Open offers & needs").click()
    ada.get_by_label("First name or pseudonym, shown next to your listings").fill("Ada")
    ada.get_by_label("Phone (optional)").fill("+33 6 11 22 33 44")
    ada.get_by_label("Meet me at the event (optional)").fill("Green scarf")
    ada.locator("#sharing").get_by_role("button", name="Save").click()
    expect(ada.get_by_text("Saved: your matches will see this.")).to_be_visible()
    post(ada, tokens["ada"], "Room offered", "Sunny room in Belleville",
         f_area_postcode="75020", f_budget_min="600", f_budget_max="650")  # fmt: skip
    post(bob, tokens["bob"], "Room sought", "Quiet student seeks a room", f_budget_max="700")

    bob.goto(f"/r/{tokens['bob']}/offers")
    offer = bob.locator(".exchange-listing").filter(has_text="Sunny room in Belleville")
    expect(offer).to_contain_text("Matches one of yours on 1 point")
    # Filtering swaps the results in place (htmx): the page is not reloaded.
    bob.evaluate("window.stillTheSamePage = true")
    bob.get_by_label("Show", exact=True).select_option("need")
    bob.get_by_role("button", name="Filter").click()
    expect(bob.get_by_text("0 listings found")).to_be_visible()
    assert bob.evaluate("window.stillTheSamePage === true")
    bob.get_by_label("Show", exact=True).select_option("offer")
    bob.get_by_role("button", name="Filter").click()
    offer = bob.locator(".exchange-listing").filter(has_text="Sunny room in Belleville")
    offer.get_by_text("I'm interested").click()
    offer.get_by_label("A short message").fill("Hello, can I visit on Saturday?")
    offer.get_by_role("button", name="Send").click()
    expect(bob.get_by_text("No answer yet.")).to_be_visible()
    assert "+33 6 11 22 33 44" not in bob.content()

    ada.goto(f"/r/{tokens['ada']}/offers")
    expect(ada.get_by_text("Hello, can I visit on Saturday?")).to_be_visible()
    ada.locator("#contacts").get_by_role("button", name="Accept").click()
    expect(ada.get_by_text("It is a match: you now see what each of you shares.")).to_be_visible()

    bob.goto(f"/r/{tokens['bob']}/offers/matches")
    expect(bob.get_by_text("+33 6 11 22 33 44")).to_be_visible()
    expect(bob.get_by_text("Green scarf")).to_be_visible()
    # Nothing is wider than the phone.
    assert bob.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    cy.goto(f"/r/{tokens['cy']}/offers")
    expect(cy.get_by_text("Sunny room in Belleville")).to_be_visible()  # a ticket holder
    for private in ("Hello, can I visit", "+33 6 11 22 33 44", "Green scarf"):
        assert private not in cy.content()
    cy.goto(f"/r/{tokens['cy']}/offers/matches")
    expect(cy.get_by_text("No match yet.")).to_be_visible()


@pytest.fixture
def phone_without_javascript(browser: Browser, live_server) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", viewport=PHONE, java_script_enabled=False
    )
    yield context.new_page()
    context.close()


def test_the_board_works_without_javascript(
    phone_without_javascript: Page, tokens: dict[str, str]
) -> None:
    page = phone_without_javascript
    post(page, tokens["ada"], "Room offered", "Room near the canal", f_budget_max="650")
    page.goto(f"/r/{tokens['bob']}/offers")
    page.get_by_label("Show", exact=True).select_option("offer")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"side=offer"))
    expect(page.get_by_text("Room near the canal")).to_be_visible()


def test_a_message_is_reported_without_javascript_after_choosing_a_reason(
    phone_without_javascript: Page, tokens: dict[str, str]
) -> None:
    page = phone_without_javascript
    post(page, tokens["ada"], "Room offered", "Room by the park")
    page.goto(f"/r/{tokens['bob']}/offers")
    offer = page.locator(".exchange-listing").filter(has_text="Room by the park")
    offer.get_by_text("I'm interested").click()
    offer.get_by_label("A short message").fill("Pay me first, in cash")
    offer.get_by_role("button", name="Send").click()

    page.goto(f"/r/{tokens['ada']}/offers")
    line = page.locator(".exchange-contact-line").filter(has_text="Pay me first")
    line.get_by_text("Report this message", exact=True).click()
    line.get_by_role("button", name="Report and block").click()
    # No reason chosen: the browser asks for one and sends nothing (the server would
    # have answered "Choose one of the options offered.").
    reason = line.get_by_label("Spam or advertising")
    assert reason.evaluate("input => input.validity.valueMissing")
    expect(page.get_by_text("Choose one of the options offered.")).to_have_count(0)
    line.get_by_label("Spam or advertising").check()
    line.get_by_role("button", name="Report and block").click()
    expect(page.get_by_text("the message is reported and its sender blocked")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
