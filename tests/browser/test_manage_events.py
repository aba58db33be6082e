"""An organiser creates an event, builds its programme through htmx and publishes it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.test_organiser_flow import sign_up


def test_create_an_event_build_its_programme_and_publish(
    page: Page, live_server: LiveServer
) -> None:
    sign_up(page, live_server, "organiser@example.org")
    page.get_by_label("Name").fill("Pitch Club")
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/manage/pitch-club$"))

    page.goto("/manage/pitch-club/events/new")
    expect(page.get_by_role("heading", name="New event")).to_be_visible()
    form = page.locator("#event-form")
    expect(form.get_by_label("Time zone")).to_have_value("Europe/Paris")
    form.get_by_label("Title").fill("Pitch night")

    # The Markdown preview follows the typing (htmx, sanitised on the server).
    form.get_by_label("Description").press_sequentially("Come and **pitch** <script>x</script>")
    preview = page.locator("#description-preview")
    expect(preview.locator("strong")).to_have_text("pitch")
    expect(preview.locator("script")).to_have_count(0)

    # A mistake comes back next to its field, in place, with what was typed kept.
    form.get_by_label("Starts").fill("2030-03-07T19:00")
    form.get_by_label("Ends").fill("2030-03-07T18:00")
    form.get_by_label("Capacity").fill("80")
    form.get_by_role("button", name="Create event").click()
    expect(page.locator("#f-ends_local-error")).not_to_be_empty()
    expect(page).to_have_url(re.compile(r"/events/new$"))
    expect(page.locator("#event-form").get_by_label("Title")).to_have_value("Pitch night")

    page.locator("#event-form").get_by_label("Ends").fill("2030-03-07T22:00")
    page.locator("#event-form").get_by_role("button", name="Create event").click()
    expect(page).to_have_url(re.compile(r"/manage/pitch-club/events/pitch-night-2030-03-07$"))
    expect(page.get_by_text("created as a draft")).to_be_visible()
    expect(page.locator(".event-meta .badge")).to_have_text("Draft")
    expect(page.locator("#f-starts_local")).to_have_value("2030-03-07T19:00")

    # The programme editor works in place: no page load between the steps.
    page.evaluate("window.__sameDocument = true")
    adding = page.locator("#programme-add")
    adding.get_by_label("Session title").fill("Welcome")
    adding.get_by_label("Start time").fill("19:00")
    adding.get_by_role("button", name="Add session").click()
    titles = page.locator("#programme .programme-title")
    expect(titles).to_have_text(["Welcome"])
    adding.get_by_label("Session title").fill("Pitches")
    adding.get_by_label("Start time").fill("19:30")
    adding.get_by_label("Speakers").fill("Ada, Grace")
    adding.get_by_role("button", name="Add session").click()
    expect(titles).to_have_text(["Welcome", "Pitches"])
    page.get_by_role("button", name="Up · Pitches").click()
    expect(titles).to_have_text(["Pitches", "Welcome"])
    assert page.evaluate("window.__sameDocument === true")

    # Publishing says what it does before it does it.
    page.get_by_text("Publish…").click()
    expect(page.get_by_text("No e-mail is sent.")).to_be_visible()
    page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_text("the event is now public")).to_be_visible()
    expect(page.locator(".event-meta .badge")).to_have_text("Published")
    expect(page.get_by_role("link", name="/e/pitch-night-2030-03-07")).to_be_visible()
    expect(page.locator("#programme .programme-title")).to_have_text(["Pitches", "Welcome"])

    page.goto("/manage/pitch-club/events")
    expect(page.get_by_role("link", name="Pitch night", exact=True)).to_be_visible()
    expect(page.locator(".status-published")).to_be_visible()

    public = page.request.get("/e/pitch-night-2030-03-07")
    assert public.status < 500
