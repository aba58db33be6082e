"""A subscribed calendar whose host is slow: the organiser's page answers at once and
its card updates itself (htmx polling) once the background fetch is done."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.test_organiser_flow import sign_up
from tests.web.test_import_fetching import SlowCalendarServer


@pytest.fixture(autouse=True)
def local_calendars_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the server process starts: the calendar host lives on 127.0.0.1."""
    monkeypatch.setenv("IMPORT_ALLOW_PRIVATE", "1")


@pytest.fixture
def slow_host() -> Iterator[SlowCalendarServer]:
    server = SlowCalendarServer()
    server.start()
    yield server
    server.release()
    server.stop()


def test_the_card_follows_a_slow_fetch_without_reloading(
    page: Page, live_server: LiveServer, slow_host: SlowCalendarServer
) -> None:
    sign_up(page, live_server, "organiser@example.org")
    page.get_by_label("Name").fill("Pitch Club")
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/manage/pitch-club$"))

    page.goto("/manage/pitch-club/imports")
    page.get_by_label("Calendar address").fill(slow_host.url("/pitch-club/cafe.ics"))
    page.get_by_label("Name (optional)").fill("Café Commun")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_text("is being fetched")).to_be_visible()  # answered at once
    card = page.locator(".import-source", has_text="Café Commun")
    expect(card.get_by_role("status").first).to_have_text(
        re.compile("Fetching…|Waiting for its turn to be fetched…")
    )
    expect(card.get_by_role("link", name="Check again")).to_be_visible()

    page.evaluate("window.__sameDocument = true")
    slow_host.release()
    expect(card.get_by_text("Imported.")).to_be_visible(timeout=30_000)
    expect(card.get_by_role("link", name="Check again")).to_have_count(0)
    assert page.evaluate("window.__sameDocument === true")  # updated in place
