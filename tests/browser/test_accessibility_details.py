"""Accessibility details of issue 14, item 23, in Chromium: every focus ring stands out at
least 3:1 from what surrounds it; the attendee table reads at 200 % zoom; the ↑/↓ order
buttons' accessible names begin with the words they show."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from events.database import Database
from events.models import Event
from events.services.events import EventService
from events.services.questions import QuestionInput, QuestionService
from tests.browser.test_registration_questions import event_slug, log_in
from tests.domain.test_registrations import person, register

__all__ = ["event_slug"]  # the fixture, shared with the registration-questions tests

#: What the focused element reports, and the first opaque background around it.
FOCUS_PROBE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  let node = el.parentElement, background = "rgb(255, 255, 255)";
  while (node) {
    const colour = getComputedStyle(node).backgroundColor;
    if (colour && colour !== "rgba(0, 0, 0, 0)" && colour !== "transparent") {
      background = colour; break;
    }
    node = node.parentElement;
  }
  return {
    what: el.tagName + " " + (el.id || (el.textContent || "").trim().slice(0, 30)),
    outline: style.outlineColor, style: style.outlineStyle,
    width: parseFloat(style.outlineWidth), background,
  };
}"""


def _luminance(colour: str) -> float:
    red, green, blue = (int(part) / 255 for part in re.findall(r"[\d.]+", colour)[:3])

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(first: str, second: str) -> float:
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_arithmetic() -> None:
    assert round(contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)"), 1) == 21.0
    assert contrast("rgb(245, 166, 35)", "rgb(255, 255, 255)") < 3  # the former orange ring


def focus_rings(page: Page, presses: int = 40) -> list[dict]:
    seen: dict[str, dict] = {}
    for _ in range(presses):
        page.keyboard.press("Tab")
        probe = page.evaluate(FOCUS_PROBE)
        if probe is not None:
            seen.setdefault(probe["what"], probe)
    return list(seen.values())


@pytest.fixture
def seeded(live_server, event_slug: str) -> str:
    """The event with two questions and two registrations (one with a long address)."""
    db = Database.from_url(live_server.database_url)
    try:
        with db.transaction() as session:
            event = EventService(session).by_slug(event_slug)
            questions = QuestionService(session)
            questions.add(event, QuestionInput(kind="short_text", label="First question"))
            questions.add(event, QuestionInput(kind="short_text", label="Second question"))
        with db.session() as session:
            event = session.get(Event, event.id)
        register(db, event, person(1, name="Ada Lovelace"))
        register(db, event, person(2, email="a.very.long.address.for.zoom@example.org"))
        return event_slug
    finally:
        db.dispose()


def test_every_focus_ring_stands_out_three_to_one(page: Page, seeded: str) -> None:
    rings = []
    for path in ("/", f"/e/{seeded}"):
        page.goto(path)
        rings += focus_rings(page)
    log_in(page)
    for path in (f"/manage/coloc/events/{seeded}/attendees", f"/manage/coloc/events/{seeded}"):
        page.goto(path)
        rings += focus_rings(page)
    assert len(rings) > 20
    weak = [
        (ring["what"], ring["outline"], ring["background"])
        for ring in rings
        if ring["style"] == "none"
        or ring["width"] < 2
        or contrast(ring["outline"], ring["background"]) < 3
    ]
    assert weak == [], "\n".join(map(str, weak))


def test_the_attendee_table_reads_at_200_percent_zoom(browser, live_server, seeded: str) -> None:
    """A 1280-px-wide window at 200 % is 640 CSS pixels: every line fits, with its label."""
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": 640, "height": 400}
    )
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        log_in(page)
        page.goto(f"/manage/coloc/events/{seeded}/attendees")
        row = page.locator("tr.registration-row").filter(has_text="Ada Lovelace")
        expect(row.locator("td").first).to_have_text("Ada Lovelace")
        assert page.evaluate("document.documentElement.scrollWidth") <= 640
        table = page.locator("table.attendee-list").bounding_box()
        assert table and table["x"] + table["width"] <= 640, table
        email = page.locator("td.email", has_text="a.very.long.address")
        box = email.bounding_box()
        assert box and box["x"] + box["width"] <= 640, box
        label = email.evaluate("td => getComputedStyle(td, '::before').content")
        assert label == '"E-mail: "'
        status = page.locator("td[data-label=Status]").first
        assert status.evaluate("td => getComputedStyle(td, '::before').content") == '"Status: "'
    finally:
        context.close()


def test_the_order_buttons_are_named_by_what_they_show(page: Page, seeded: str) -> None:
    log_in(page)
    page.goto(f"/manage/coloc/events/{seeded}/questions")
    up = page.get_by_role("button", name="Up · Second question", exact=True)
    expect(up).to_be_visible()
    expect(up).to_have_text(re.compile(r"^↑ Up"))
    down = page.get_by_role("button", name="Down · First question", exact=True)
    expect(down).to_have_text(re.compile(r"^↓ Down"))
    up.click()
    expect(page.get_by_role("button", name="Down · Second question", exact=True)).to_be_visible()
