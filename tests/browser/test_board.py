"""The open-space board in headless Chromium against a real server process, each person in
their own browser context: two participants on 360-px phones (one joins from the QR
poster with their ticket), a facilitator and the projector. A topic posted on one phone
reaches the projector and the other phone over the live stream (no reload); the
facilitator places it by drag and drop, then moves it with the keyboard; the projector
keeps its last board through a lost connection, says so, and catches up; the facilitator's
plain forms work without JavaScript.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from events.database import Database
from events.models import BoardTopic, Event, Role
from events.services.board_topics import BoardTopics, TopicInput, participant
from events.services.door_links import DoorLinkService
from tests.browser.conftest import LiveServer, _is_real_error
from tests.factories import Factories, OpenSpace

PHONE = {"width": 360, "height": 740}
XSS = "<img src=x onerror=alert(1)>"


@dataclass
class Board:
    space: OpenSpace
    facilitator_url: str


@pytest.fixture
def board(live_server: LiveServer) -> Iterator[Board]:
    """An open-space evening with its board on, three rooms, three slots, two tickets and a
    facilitator link, in the server's database."""
    db = Database.from_url(live_server.database_url)
    try:
        make = Factories(db)
        owner = make.user()
        space = make.open_space(participants=2, community=make.community(owner=owner))
        with db.transaction() as session:
            event = session.get(Event, space.event_id)
            assert event is not None
            _link, token = DoorLinkService(session).create(
                event, label="facilitator phone", created_by=owner.id, role=Role.FACILITATOR
            )
        yield Board(space=space, facilitator_url=f"/door/{space.slug}/link/{token}")
    finally:
        db.dispose()


class People:
    """Browser contexts that fail the test on any console error."""

    def __init__(self, browser: Browser, live_server: LiveServer) -> None:
        self.browser = browser
        self.base_url = live_server.url
        self.contexts: list[BrowserContext] = []
        self.errors: list[str] = []

    def open(self, **options: Any) -> Page:
        context = self.browser.new_context(base_url=self.base_url, locale="en-GB", **options)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on(
            "console", lambda msg: self.errors.append(msg.text) if _is_real_error(msg) else None
        )
        return page

    def _console(self, message: Any) -> None:
        if _is_real_error(message):
            self.errors.append(message.text)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def people(browser: Browser, live_server: LiveServer) -> Iterator[People]:
    found = People(browser, live_server)
    yield found
    found.close()
    assert found.errors == [], f"browser console errors: {found.errors}"


def topic_cell(live_server: LiveServer, title: str) -> tuple[UUID | None, UUID | None]:
    """(slot, room) of the topic, read from the server's database."""
    db = Database.from_url(live_server.database_url)
    try:
        with db.session() as session:
            topic = session.scalars(select(BoardTopic).where(BoardTopic.title == title)).one()
            return topic.slot_id, topic.room_id
    finally:
        db.dispose()


def post_topic(live_server: LiveServer, space: OpenSpace, n: int, title: str) -> None:
    """The ``n``-th ticket posts a topic, straight into the server's database."""
    db = Database.from_url(live_server.database_url)
    try:
        with db.transaction() as session:
            who = participant(session, space.tickets[n])
            BoardTopics(session).post(who, TopicInput(title=title))
    finally:
        db.dispose()


def cell(page: Page, space: OpenSpace, slot: int, room: int) -> Any:
    return page.locator(f'td[data-slot="{space.slots[slot]}"][data-room="{space.rooms[room]}"]')


def test_two_phones_a_facilitator_and_the_projector(
    people: People, live_server: LiveServer, board: Board
) -> None:
    space = board.space
    screen = people.open(viewport={"width": 1280, "height": 720})
    screen.goto(f"/e/{space.slug}/board/screen")
    expect(screen.locator(".board-screen-pool")).to_have_count(0)

    # The second participant joins from the QR poster: the board asks for the ticket.
    other = people.open(viewport=PHONE, is_mobile=True, has_touch=True)
    other.goto(f"/e/{space.slug}/board/join")
    other.get_by_label("Ticket code or link").fill(space.tickets[1])
    other.get_by_role("button", name="Open my board").click()
    expect(other).to_have_url(re.compile(rf"/t/{space.tickets[1]}/board"))
    expect(other.get_by_role("heading", name="My topics")).to_be_visible()

    # The first posts a topic from their phone.
    phone = people.open(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.goto(f"/t/{space.tickets[0]}/board/")
    phone.get_by_label("Title").fill(f"Rust ownership {XSS}")
    phone.get_by_label("In one or two lines").fill("Borrowing without tears")
    phone.get_by_label("Kind").select_option("workshop")
    phone.get_by_label("Show my first name with the topic").check()
    screen.evaluate("window.notReloaded = true")  # a reload of the page would drop it
    phone.get_by_role("button", name="Post my topic").click()
    title = f"Rust ownership {XSS}"

    # It reaches the projector over the live stream, without a reload, and the other
    # phone. How soon (the 2 s) is measured by bench/board_live.py for every
    # stream of 200, not timed here: a timed check on a shared machine measures the load.
    expect(screen.locator(".board-screen-pool")).to_contain_text(title, timeout=10_000)
    assert screen.evaluate("window.notReloaded === true")
    expect(phone.locator("#board-mine")).to_contain_text(title)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    topic = other.locator(".board-topic", has_text="Rust ownership")
    expect(topic).to_be_visible()
    expect(topic).to_contain_text("Participant1")  # the first name the host chose to show
    expect(screen.locator("body")).not_to_contain_text("Surname")  # never the full name

    # The other marks it interesting; the projector's count follows.
    topic.get_by_role("button", name=re.compile("Interested ·")).click()
    expect(topic.get_by_role("button", name=re.compile("Interested ·"))).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(screen.locator(".board-screen-pool")).to_contain_text(title)
    expect(other.locator("[data-agenda]")).to_contain_text("Nothing in your agenda yet")

    # The facilitator places it by drag and drop.
    facilitator = people.open(viewport={"width": 1280, "height": 900})
    facilitator.goto(board.facilitator_url)
    expect(facilitator).to_have_url(re.compile(rf"/e/{space.slug}/board/facilitate"))
    card = facilitator.locator('#board-pool [draggable="true"]', has_text="Rust ownership")
    card.drag_to(cell(facilitator, space, 0, 1))
    expect(cell(facilitator, space, 0, 1)).to_contain_text("Rust ownership")
    assert topic_cell(live_server, title) == (space.slots[0], space.rooms[1])
    expect(cell(screen, space, 0, 1)).to_contain_text(title)
    expect(screen.locator(".board-card", has_text="Rust ownership")).to_contain_text("1 interested")
    expect(phone.locator("[data-mine] [data-where]")).to_have_text("19:30 · Lab")
    expect(other.locator("[data-agenda]")).to_contain_text("19:30 · Lab")

    # Then moves it with the keyboard: pick it up, one cell right, Enter.
    move = facilitator.get_by_role("button", name=re.compile("^Move with the keyboard"))
    move.focus()
    facilitator.keyboard.press("Enter")
    expect(facilitator.locator("[data-announce]")).to_contain_text("Moving")
    facilitator.keyboard.press("ArrowRight")
    facilitator.keyboard.press("Enter")
    expect(cell(facilitator, space, 0, 2)).to_contain_text("Rust ownership")
    assert topic_cell(live_server, title) == (space.slots[0], space.rooms[2])
    expect(cell(screen, space, 0, 2)).to_contain_text(title)
    expect(phone.locator("[data-mine] [data-where]")).to_have_text("19:30 · Nook")
    # The host's screen reader hears that their topic moved, and so does the one who is
    # interested in it (a polite live region; nobody else hears it).
    expect(phone.locator("[data-announce]")).to_contain_text("is now: 19:30 · Nook")
    expect(phone.locator("[data-announce]")).to_contain_text("Your topic")
    expect(other.locator("[data-announce]")).to_contain_text(
        "A topic you are interested in, “Rust ownership"
    )
    expect(other.locator("[data-announce]")).to_contain_text("is now: 19:30 · Nook")
    assert other.locator("[data-announce]").get_attribute("aria-live") == "polite"
    expect(screen.locator("[data-announce]")).to_have_count(0)
    assert screen.evaluate("document.querySelectorAll('img[src=x]').length") == 0

    # The other reports it (after confirming); one report does not hide it.
    other.once("dialog", lambda dialog: dialog.accept())
    other.locator(".board-topic", has_text="Rust ownership").get_by_role(
        "button", name=re.compile("^Report")
    ).click()
    expect(other.locator("body")).to_contain_text("your report is counted")
    expect(cell(screen, space, 0, 2)).to_contain_text(title)

    # The other follows it for its notes (a plain form), and the page still fits 360 px.
    follow = other.locator("#board-follow")
    follow.get_by_role("button", name=re.compile("^Follow · Rust ownership")).click()
    expect(other.locator("body")).to_contain_text("we will e-mail you its notes")
    expect(
        follow.get_by_role("button", name=re.compile("^Following · Rust ownership"))
    ).to_have_attribute("aria-pressed", "true")
    assert other.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_projector_survives_a_lost_connection(
    people: People, live_server: LiveServer, board: Board
) -> None:
    space = board.space
    post_topic(live_server, space, 0, "Before the cut")
    screen = people.open(viewport={"width": 1280, "height": 720})
    screen.goto(f"/e/{space.slug}/board/screen")
    expect(screen.locator(".board-screen-pool")).to_contain_text("Before the cut")
    banner = screen.locator("[data-reconnecting]")
    expect(banner).to_be_hidden()

    screen.context.set_offline(True)
    expect(banner).to_be_visible()
    post_topic(live_server, space, 1, "Posted while offline")
    screen.wait_for_timeout(1500)  # the live stream would have brought it by now
    expect(screen.locator(".board-screen-pool")).to_contain_text("Before the cut")
    expect(screen.locator(".board-screen-pool")).not_to_contain_text("Posted while offline")

    screen.context.set_offline(False)
    expect(screen.locator(".board-screen-pool")).to_contain_text("Posted while offline")
    expect(banner).to_be_hidden()
    post_topic(live_server, space, 0, "After the cut")
    expect(screen.locator(".board-screen-pool")).to_contain_text("After the cut")


def test_the_facilitator_form_works_without_javascript(
    people: People, live_server: LiveServer, board: Board
) -> None:
    space = board.space
    post_topic(live_server, space, 0, "Plain forms")
    facilitator = people.open(java_script_enabled=False)
    facilitator.goto(board.facilitator_url)
    expect(facilitator).to_have_url(re.compile(rf"/e/{space.slug}/board/facilitate"))
    card = facilitator.locator("#board-pool .board-fcard", has_text="Plain forms")
    card.locator("summary").click()
    card.get_by_label("Cell").select_option(label="20:15 · Hall")
    card.get_by_role("button", name="Place").click()
    expect(cell(facilitator, space, 1, 0)).to_contain_text("Plain forms")
    assert topic_cell(live_server, "Plain forms") == (space.slots[1], space.rooms[0])

    placed = cell(facilitator, space, 1, 0).locator(".board-fcard")
    placed.locator("summary").click()
    placed.get_by_role("button", name="Pin").click()
    expect(cell(facilitator, space, 1, 0).locator(".is-pinned")).to_contain_text("Plain forms")
    # A pinned topic does not move: the form says why and changes nothing.
    pinned = cell(facilitator, space, 1, 0).locator(".board-fcard")
    pinned.locator("summary").click()
    pinned.get_by_label("Cell").select_option(label="21:00 · Lab")
    pinned.get_by_role("button", name="Place").click()
    expect(facilitator.locator("body")).to_contain_text("unpin it before moving it")
    assert topic_cell(live_server, "Plain forms") == (space.slots[1], space.rooms[0])
