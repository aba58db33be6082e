"""An attendee registers on an event page, sees the ticket, cancels: with JavaScript (htmx
swaps the form for the ticket, hx-confirm asks before cancelling) and without it (plain
forms, a confirmation page), in a real browser against a real server process."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from events.database import Database
from events.demo import today_in_paris
from events.services.communities import CommunityService
from events.services.events import EventInput, EventService
from tests.factories import Factories
from tests.qr_decoding import decode_png


@pytest.fixture
def event_slug(live_server) -> str:
    """A published event with places and guests allowed, in the server's database."""
    db = Database.from_url(live_server.database_url)
    try:
        make = Factories(db)
        make.community(owner=make.user(), slug="coloc", name="Jeudis de la Coloc")
        day = (today_in_paris() + timedelta(days=5)).isoformat()
        with db.transaction() as session:
            service = EventService(session)
            event = service.create(
                CommunityService(session).by_slug("coloc"),
                EventInput(
                    title="Flat-share evening",
                    starts_local=f"{day}T19:00",
                    ends_local=f"{day}T22:00",
                    timezone="Europe/Paris",
                    capacity="30",
                ),
            )
            service.publish(event)
            event.guest_allowance = 2
            return event.slug
    finally:
        db.dispose()


def test_register_see_the_ticket_and_cancel_with_javascript(
    page: Page, live_server, event_slug: str
) -> None:
    page.goto(f"/e/{event_slug}")
    expect(page.get_by_text("30 places left.")).to_be_visible()
    page.evaluate("window.stillTheSamePage = true")

    # Nothing filled in: the errors appear next to the fields, in place.
    page.get_by_role("button", name="Register").click()
    expect(page.locator("#f-name-error")).to_have_text("This field is required.")
    expect(page.locator("#f-consent-error")).to_have_text(
        "Tick the box to accept the privacy notice."
    )

    page.get_by_label("Your name").fill("Ada Lovelace")
    page.locator("#f-email").fill("ada@example.org")
    page.get_by_label("Guests coming with you").fill("1")
    page.get_by_label(re.compile("^I agree")).check()
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("heading", name="You are registered!")).to_be_visible()
    expect(page.get_by_text("Your places are confirmed for 2 people.")).to_be_visible()
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"
    qr = page.locator("#registration .ticket-qr img")
    expect(qr).to_be_visible()
    # Wait for the image itself (visible only means laid out; it may still be loading).
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=qr.element_handle(), timeout=15_000
    )

    page.get_by_role("link", name="Open my ticket and my registration").click()
    expect(page).to_have_url(re.compile(r"/r/[\w-]{32}$"))
    expect(page.get_by_text("You have a place.")).to_be_visible()

    # The SVG as the browser draws it is read by an independent decoder, once loaded.
    code = re.sub(r"\s", "", page.locator(".ticket-qr .ticket-code").inner_text())
    image = page.locator(".ticket-qr img")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=15_000
    )
    assert decode_png(image.screenshot()) == f"{live_server.url}/t/{code}"

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel my registration").click()
    expect(page.locator("#manage .flash")).to_have_text("Your registration is cancelled.")
    status = page.get_by_role("heading", name=re.compile("Your registration: Cancelled"))
    expect(status).to_be_visible()
    expect(page.get_by_role("button", name="Cancel my registration")).to_have_count(0)

    page.goto(f"/t/{code}")
    expect(page.get_by_text("This ticket is not valid")).to_be_visible()


def test_register_and_cancel_without_javascript(browser, live_server, event_slug: str) -> None:
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", java_script_enabled=False
    )
    page = context.new_page()
    try:
        page.goto(f"/e/{event_slug}")
        page.get_by_label("Your name").fill("Grace Hopper")
        page.locator("#f-email").fill("grace@example.org")
        page.get_by_label(re.compile("^I agree")).check()
        page.get_by_role("button", name="Register").click()

        expect(page).to_have_url(re.compile(r"/r/[\w-]{32}$"))
        expect(page.get_by_text("You have a place.")).to_be_visible()
        private = page.url

        page.get_by_role("button", name="Cancel my registration").click()
        expect(page.get_by_role("heading", name="Cancel your registration?")).to_be_visible()
        page.get_by_role("button", name="Yes, cancel my registration").click()

        expect(page).to_have_url(private)
        expect(page.locator("#flashes")).to_contain_text("Your registration is cancelled.")
        expect(page.get_by_role("link", name="Register again")).to_be_visible()
    finally:
        context.close()


def test_on_a_phone_the_way_to_register_comes_early(phone: Page, event_slug: str) -> None:
    """Issue 14, item 10, at 390 px: the button to the form is on the first screen and
    leads to it; after registering in place, the key facts' "places left" follows (with
    no console error: the out-of-band target exists)."""
    page = phone
    page.goto(f"/e/{event_slug}")
    cta = page.get_by_role("link", name="Register", exact=True)
    box = cta.bounding_box()
    assert box and box["y"] + box["height"] <= 844, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.locator("#places-left")).to_have_text("(30 left)")

    cta.tap()
    expect(page).to_have_url(re.compile(r"#registration$"))
    expect(page.get_by_label("Your name")).to_be_in_viewport()
    page.get_by_label("Your name").fill("Ada Lovelace")
    page.locator("#f-email").fill("ada@example.org")
    page.get_by_label("Guests coming with you").fill("1")
    page.get_by_label(re.compile("^I agree")).check()
    page.get_by_role("button", name="Register").tap()

    expect(page.get_by_role("heading", name="You are registered!")).to_be_visible()
    expect(page.locator("#places-left")).to_have_text("(28 left)")
