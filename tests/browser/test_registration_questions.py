"""An organiser adds a question to the registration form, an attendee answers it on the
event page, the organiser reads the answer in the attendee list: in a real browser against a
real server process."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from events.database import Database
from events.demo import today_in_paris
from events.services.communities import CommunityService
from events.services.events import EventInput, EventService
from tests.factories import DEFAULT_PASSWORD, Factories

ORGANISER = "organiser@example.org"


@pytest.fixture
def event_slug(live_server) -> str:
    """A published event of the community "coloc", whose owner is ORGANISER."""
    db = Database.from_url(live_server.database_url)
    try:
        make = Factories(db)
        owner = make.user(email=ORGANISER, name="Olga Organiser")
        make.community(owner=owner, slug="coloc", name="Jeudis de la Coloc")
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
            return event.slug
    finally:
        db.dispose()


def log_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(ORGANISER)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Welcome back, Olga Organiser.")).to_be_visible()


def test_a_question_is_added_answered_and_read(
    page: Page, browser, live_server, event_slug: str
) -> None:
    log_in(page)
    page.goto(f"/manage/coloc/events/{event_slug}")
    page.get_by_role("link", name=re.compile("^Registration questions")).click()
    expect(page.get_by_role("heading", name="Registration questions")).to_be_visible()
    page.evaluate("window.stillTheSamePage = true")

    # A mistake first: the message appears next to the field, in place.
    add_form = page.locator("#question-add")
    add_form.get_by_label("Kind of answer").select_option("single_choice")
    page.locator("#q-new-label").fill("Dinner")
    add_form.get_by_role("button", name="Add question").click()
    expect(page.locator("#q-new-options-error")).to_have_text("This field is required.")

    add_form = page.locator("#question-add")
    add_form.get_by_label("Options").fill("Vegetarian\nAnything")
    add_form.get_by_label("An answer is required").check()
    add_form.get_by_role("button", name="Add question").click()
    expect(page.get_by_text("Question “Dinner” added.")).to_be_visible()
    expect(page.locator(".question-list .question-label")).to_have_text(["Dinner"])
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"

    # An attendee, in another browser, answers it on the event page.
    attendee_context = browser.new_context(base_url=live_server.url, locale="en-GB")
    attendee = attendee_context.new_page()
    try:
        attendee.goto(f"/e/{event_slug}")
        attendee.get_by_label("Your name").fill("Ada Lovelace")
        attendee.locator("#f-email").fill("ada@example.org")
        attendee.get_by_label(re.compile("^I agree")).check()
        attendee.get_by_role("button", name="Register").click()
        dinner = attendee.get_by_role("group", name=re.compile("^Dinner"))
        expect(dinner.locator(".error")).to_have_text("Choose one answer to register.")
        expect(attendee.get_by_label("Your name")).to_have_value("Ada Lovelace")

        dinner.get_by_label("Vegetarian").check()
        attendee.get_by_role("button", name="Register").click()
        expect(attendee.get_by_role("heading", name="You are registered!")).to_be_visible()
    finally:
        attendee_context.close()

    # The organiser reads the answer in the attendee list.
    page.goto(f"/manage/coloc/events/{event_slug}/attendees")
    expect(page.get_by_role("cell", name="Ada Lovelace")).to_be_visible()
    page.locator(".attendee-answers summary").click()
    answers = page.locator(".attendee-answers .question-answers")
    expect(answers.locator("dt")).to_have_text(["Dinner"])
    expect(answers.locator("dd")).to_have_text(["Vegetarian"])
