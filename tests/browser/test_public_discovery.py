"""A visitor finds an event by theme, with JavaScript (htmx swaps the list in place) and
without it (a plain GET form), in a real browser against a real server process."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from events.database import Database
from events.demo import today_in_paris
from events.services.communities import CommunityService
from events.services.events import EventInput, EventService
from tests.browser.conftest import PHONE
from tests.factories import Factories


@pytest.fixture
def seeded(live_server) -> dict[str, str]:
    """Two upcoming events with different tags, written to the server's database."""
    db = Database.from_url(live_server.database_url)
    try:
        make = Factories(db)
        make.community(owner=make.user(), slug="coloc", name="Jeudis de la Coloc")
        slugs = {}
        day = today_in_paris() + timedelta(days=5)
        with db.transaction() as session:
            community = CommunityService(session).by_slug("coloc")
            service = EventService(session)
            for offset, (title, tags) in enumerate(
                [("Jam session", "Music"), ("Code club", "Tech")]
            ):
                local_day = (day + timedelta(days=offset)).isoformat()
                event = service.create(
                    community,
                    EventInput(
                        title=title,
                        starts_local=f"{local_day}T19:00",
                        ends_local=f"{local_day}T22:00",
                        timezone="Europe/Paris",
                        tags=tags,
                        description=f"All about {title.lower()}.",
                    ),
                )
                service.publish(event)
                slugs[title] = event.slug
        slugs["day two"] = (day + timedelta(days=1)).isoformat()
        return slugs
    finally:
        db.dispose()


def cards(page: Page):
    return page.locator("#event-list .event-card-title")


def test_filter_by_tag_with_javascript_updates_the_list_in_place(
    page: Page, seeded: dict[str, str]
) -> None:
    page.goto("/")
    expect(cards(page)).to_have_text(["Jam session", "Code club"])
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_text("Filters", exact=True).click()
    page.locator("label[for=tag-music]").click()

    expect(cards(page)).to_have_text(["Jam session"])
    expect(page).to_have_url(re.compile(r"[?&]tag=music(&|$)"))
    expect(page.locator("#results-status")).to_have_text("1 event")
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"

    # Back restores the unfiltered list; a date filter works in place as well.
    page.go_back()
    expect(cards(page)).to_have_text(["Jam session", "Code club"])
    page.get_by_label("From").fill(seeded["day two"])
    expect(cards(page)).to_have_text(["Code club"])
    expect(page).to_have_url(re.compile(rf"[?&]date_from={seeded['day two']}(&|$)"))
    page.get_by_label("From").fill("")
    expect(cards(page)).to_have_text(["Jam session", "Code club"])

    # Typing in the search box filters too (after a short pause), still in place.
    page.get_by_label("Search").press_sequentially("club")
    expect(cards(page)).to_have_text(["Code club"])
    expect(page).to_have_url(re.compile(r"[?&]q=club(&|$)"))
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"

    page.get_by_role("link", name="Code club").click()
    expect(page).to_have_url(re.compile(rf"/e/{seeded['Code club']}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Code club")
    expect(page.get_by_text("All about code club.")).to_be_visible()


def test_filter_by_tag_without_javascript(browser, live_server, seeded: dict[str, str]) -> None:
    context = browser.new_context(
        java_script_enabled=False, base_url=live_server.url, locale="en-GB"
    )
    try:
        page = context.new_page()
        page.goto("/")
        expect(cards(page)).to_have_text(["Jam session", "Code club"])

        page.get_by_text("Filters", exact=True).click()
        page.locator("label[for=tag-tech]").click()
        page.get_by_role("button", name="Show events").click()

        expect(page).to_have_url(re.compile(r"[?&]tag=tech(&|$)"))
        expect(cards(page)).to_have_text(["Code club"])
        expect(page.get_by_label("Tech")).to_be_checked()

        page.get_by_role("link", name="Clear filters").click()
        expect(cards(page)).to_have_text(["Jam session", "Code club"])

        page.get_by_role("link", name="Jam session").click()
        expect(page).to_have_url(re.compile(rf"/e/{seeded['Jam session']}$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Jam session")
    finally:
        context.close()


def test_on_a_phone_the_events_come_first_and_the_search_is_live(
    phone: Page, seeded: dict[str, str]
) -> None:
    """390 px: search, then results on the first screen; the other filters fold away behind
    "Filters", which counts those in use; typing updates the list in place; switching
    the language keeps the search."""
    page = phone
    page.goto("/")
    expect(cards(page)).to_have_text(["Jam session", "Code club"])
    first = cards(page).first.bounding_box()
    assert first and first["y"] + first["height"] <= 844, first
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.get_by_label("From")).to_be_hidden()
    summary = page.locator(".filter-more > summary")
    expect(summary).to_have_text("Filters")

    page.evaluate("window.stillTheSamePage = true")
    page.get_by_label("Search", exact=True).press_sequentially("club")
    expect(cards(page)).to_have_text(["Code club"])
    expect(page).to_have_url(re.compile(r"[?&]q=club(&|$)"))
    summary.tap()
    page.locator("label[for=tag-tech]").tap()
    expect(page).to_have_url(re.compile(r"[?&]tag=tech(&|$)"))
    expect(summary).to_have_text(re.compile(r"Filters\s+1 in use"))
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"

    page.get_by_role("link", name="FR").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Événements à venir")
    expect(page).to_have_url(re.compile(r"/\?(?=.*q=club)(?=.*tag=tech)"))
    expect(cards(page)).to_have_text(["Code club"])
    expect(page.get_by_label("Rechercher", exact=True)).to_have_value("club")


def test_on_a_phone_the_search_works_without_javascript(
    browser, live_server, seeded: dict[str, str]
) -> None:
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", java_script_enabled=False, **PHONE
    )
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_label("Search", exact=True).fill("jam")
        page.get_by_role("button", name="Search", exact=True).tap()
        expect(page).to_have_url(re.compile(r"[?&]q=jam(&|$)"))
        expect(cards(page)).to_have_text(["Jam session"])
        page.get_by_role("link", name="FR").tap()
        expect(page.get_by_role("heading", level=1)).to_have_text("Événements à venir")
        expect(page).to_have_url(re.compile(r"/\?q=jam(&|$)"))
        expect(cards(page)).to_have_text(["Jam session"])
    finally:
        context.close()
