"""An organiser sets up a monthly series in a real browser: the live preview follows the
form (htmx), and saving creates the occurrences."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.test_organiser_flow import sign_up


def test_create_a_monthly_series_with_the_live_preview(page: Page, live_server: LiveServer) -> None:
    sign_up(page, live_server, "olga@example.org", name="Olga")
    page.get_by_label("Name").fill("Jeudis de la Coloc")
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/manage/jeudis-de-la-coloc$"))

    page.goto("/manage/jeudis-de-la-coloc/series/")
    expect(page.get_by_text("No recurring series yet")).to_be_visible()
    page.get_by_role("link", name="New series").click()
    expect(page.get_by_role("heading", name="New recurring series")).to_be_visible()

    preview = page.locator("#series-preview")
    # The page opens with a first Thursday, spelled out in both languages.
    expect(page.get_by_label("Monthly")).to_be_checked()
    expect(preview).to_contain_text("Every first Thursday of the month at 19:00")
    expect(preview).to_contain_text("Tous les premiers jeudis du mois à 19h00")
    expect(preview.locator(".preview-dates li")).to_have_count(6)
    expect(preview.locator(".preview-dates li").first).to_contain_text("Thursday")

    # Changing the weekday updates the preview in place (no page load).
    page.evaluate("window.__samePage = true")
    page.get_by_label("Title").fill("Soirées jeux")
    page.get_by_label("Day of the week").select_option(label="Tuesday")
    expect(preview).to_contain_text("Every first Tuesday of the month at 19:00")
    expect(preview).to_contain_text("Tous les premiers mardis du mois à 19h00")
    expect(preview.locator(".preview-dates li").first).to_contain_text("Tuesday")
    expect(preview.locator(".preview-dates li")).to_have_count(6)
    assert page.evaluate("window.__samePage === true")

    # An impossible duration is explained in the preview as it is typed, then fixed.
    duration = page.get_by_label("Duration in minutes")
    duration.fill("")
    duration.press_sequentially("2")
    expect(preview).to_contain_text("This number is out of the allowed range.")
    duration.press_sequentially("00")
    expect(preview).to_contain_text("Every first Tuesday of the month at 19:00")

    page.get_by_label("Publish occurrences as they are created").check()
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Create the series").click()

    expect(page).to_have_url(re.compile(r"/manage/jeudis-de-la-coloc/series/soirees-jeux$"))
    expect(page.get_by_text("Series “Soirées jeux” created.")).to_be_visible()
    expect(page.get_by_role("heading", name="Soirées jeux")).to_be_visible()
    rows = page.locator("table.occurrences tbody tr")
    expect(rows.first).to_contain_text("Tuesday")
    expect(rows.first).to_contain_text("Published")
    assert rows.count() >= 6
    expect(page.get_by_role("button", name=re.compile("^Skip this date")).first).to_be_visible()

    page.get_by_role("link", name="Recurring series").click()
    expect(page.get_by_role("link", name="Soirées jeux")).to_be_visible()
    expect(page.get_by_text("Every first Tuesday of the month at 19:00")).to_be_visible()
