"""The door scanner in headless Chromium against a real server process: (a) a fake camera
shows a real ticket's QR code, (b) a keyboard-wedge scanner types a code and presses Enter,
(c) the network drops, three tickets are scanned offline and sent when it comes back.
Plus: a registrant named like an HTML tag stays text on the verdict, the search and the log;
the log of the device matches the server's; the event's clock; "not today"; a phone.
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select

from events.database import Database
from events.models import CheckIn, Event, Registration
from events.services.communities import CommunityService
from events.services.door_links import DoorLinkService
from events.services.events import EventInput, EventService
from events.services.registrations import RegistrationInput, RegistrationService
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, LiveServer
from tests.factories import Factories

XSS = "<img src=x onerror=alert(1)>"
FAKE_CAMERA_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


@dataclass
class Door:
    slug: str
    link_url: str
    codes: dict[str, str]


PARIS = ZoneInfo("Europe/Paris")


def seed_door(live_server: LiveServer, starts: datetime) -> Door:
    """A published event in Paris from ``starts`` (Paris time) for three hours, with five
    registrations and a door link, in the server's database."""
    db = Database.from_url(live_server.database_url)
    try:
        make = Factories(db)
        owner = make.user()
        make.community(owner=owner, slug="coloc", name="Jeudis de la Coloc")
        with db.transaction() as session:
            service = EventService(session)
            event = service.create(
                CommunityService(session).by_slug("coloc"),
                EventInput(
                    title="Door night",
                    starts_local=starts.strftime("%Y-%m-%dT%H:%M"),
                    ends_local=(starts + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
                    timezone="Europe/Paris",
                    capacity="40",
                ),
            )
            service.publish(event)
            event.guest_allowance = 3
            registrations = RegistrationService(session)
            codes = {}
            for name, guests in (
                ("Alice Martin", 2),
                ("Bruno Petit", 0),
                ("Chloé Durand", 1),
                ("Dmitri Ivanov", 0),
                (XSS, 0),
            ):
                data = RegistrationInput(
                    name=name,
                    email=f"person{len(codes)}@example.org",
                    guests=guests,
                    consent="on",
                )
                codes[name] = registrations.register(event, data).registration.ticket_code
            _link, token = DoorLinkService(session).create(
                event, label="door phone", created_by=owner.id
            )
            slug = event.slug
        return Door(slug=slug, link_url=f"/door/{slug}/link/{token}", codes=codes)
    finally:
        db.dispose()


@pytest.fixture
def door(live_server: LiveServer) -> Door:
    """Tonight's event: it started an hour ago (Paris time), the door is open."""
    now = datetime.now(PARIS).replace(second=0, microsecond=0, tzinfo=None)
    return seed_door(live_server, now - timedelta(hours=1))


@pytest.fixture
def door_in_two_days(live_server: LiveServer) -> Door:
    day = (datetime.now(PARIS) + timedelta(days=2)).replace(hour=19, minute=0, tzinfo=None)
    return seed_door(live_server, day.replace(second=0, microsecond=0))


def scans_in_log(live_server: LiveServer, slug: str) -> list[tuple[str, str | None]]:
    """The server's check-in log of the event: (verdict, name), oldest first."""
    db = Database.from_url(live_server.database_url)
    try:
        with db.session() as session:
            rows = session.execute(
                select(CheckIn.verdict, Registration.name)
                .join(Event, Event.id == CheckIn.event_id)
                .outerjoin(Registration, Registration.id == CheckIn.registration_id)
                .where(Event.slug == slug)
                .order_by(CheckIn.created_at)
            ).all()
            return [(verdict, name) for verdict, name in rows]
    finally:
        db.dispose()


def checked_in(live_server: LiveServer, slug: str) -> tuple[int, int]:
    """(people checked in, offline log rows) of the event, read from the database."""
    db = Database.from_url(live_server.database_url)
    try:
        with db.session() as session:
            event_id = session.scalar(select(Event.id).where(Event.slug == slug))
            people = session.scalar(
                select(func.coalesce(func.sum(Registration.arrived), 0)).where(
                    Registration.event_id == event_id
                )
            )
            offline = session.scalar(
                select(func.count()).where(CheckIn.event_id == event_id, CheckIn.offline)
            )
            return int(people or 0), int(offline or 0)
    finally:
        db.dispose()


def fake_camera_file(path: Path, *pngs: bytes) -> Path:
    """A few frames of a 640×480 YUV4MPEG2 video showing the QR codes on white, one after
    the other frame by frame (one code: a ticket held still)."""
    width, height = 640, 480
    frames = []
    for png in pngs:
        qr = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
        side = min(400, qr.shape[0])
        qr = cv2.resize(qr, (side, side), interpolation=cv2.INTER_NEAREST)
        frame = np.full((height, width, 3), 255, np.uint8)
        top, left = (height - side) // 2, (width - side) // 2
        frame[top : top + side, left : left + side] = qr
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for n in range(10):
            out.write(b"FRAME\n")
            out.write(frames[n % len(frames)])
    return path


def ticket_png(live_server: LiveServer, code: str) -> bytes:
    return urllib.request.urlopen(f"{live_server.url}/t/{code}/qr.png", timeout=10).read()


def camera_browser(browser: Browser, video: Path) -> Browser:
    return browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, *FAKE_CAMERA_ARGS, f"--use-file-for-fake-video-capture={video}"],
    )


def open_door(context: BrowserContext, door: Door) -> Page:
    page = context.new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    page.goto(door.link_url)
    expect(page.locator("#door-code")).to_be_visible()
    return page


def wait_for_the_snapshot(page: Page, door: Door) -> None:
    """The page has stored its offline list of tickets."""
    key = f"rencontres.door.snapshot.{door.slug}"
    page.wait_for_function("key => localStorage.getItem(key) !== null", arg=key)


def scan_by_keyboard(page: Page, text: str) -> None:
    field = page.locator("#door-code")
    field.fill(text)
    field.press("Enter")


def test_a_fake_camera_shows_a_ticket_green_then_amber(
    browser: Browser, live_server: LiveServer, door: Door, tmp_path: Path
) -> None:
    png = ticket_png(live_server, door.codes["Alice Martin"])
    camera = camera_browser(browser, fake_camera_file(tmp_path / "ticket.y4m", png))
    try:
        context = camera.new_context(base_url=live_server.url, locale="en-GB")
        context.set_default_timeout(15_000)
        errors: list[str] = []
        page = open_door(context, door)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        verdict = page.locator("#door-verdict")
        expect(verdict).to_have_class("door-verdict door-verdict-ok", timeout=20_000)
        expect(verdict).to_contain_text("Welcome, Alice Martin — party of 3")
        assert checked_in(live_server, door.slug)[0] == 3
        page.close()

        # The same ticket shown again (another page: the first one ignores a ticket held
        # in front of it): already in.
        again = open_door(context, door)
        verdict = again.locator("#door-verdict")
        expect(verdict).to_have_class("door-verdict door-verdict-warn", timeout=20_000)
        expect(verdict).to_contain_text("Already checked in at")
        expect(verdict).to_contain_text("(door 1)")
        assert checked_in(live_server, door.slug)[0] == 3
        assert errors == []
        context.close()
    finally:
        camera.close()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(10_000)
    yield context
    context.close()


def test_a_keyboard_wedge_scan_and_an_html_name_stay_text(
    context: BrowserContext, live_server: LiveServer, door: Door
) -> None:
    page = open_door(context, door)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    scan_by_keyboard(page, f"{live_server.url}/t/{door.codes['Bruno Petit']}")
    verdict = page.locator("#door-verdict")
    expect(verdict).to_have_class("door-verdict door-verdict-ok")
    expect(page.locator("#door-verdict-title")).to_have_text("Welcome, Bruno Petit")
    expect(verdict).to_be_hidden(timeout=5_000)  # back to scanning
    expect(page.locator("#door-code")).to_be_focused()

    # A registrant named like an HTML tag: text on the verdict, the log and the search.
    scan_by_keyboard(page, door.codes[XSS].upper())
    expect(page.locator("#door-verdict-title")).to_have_text(f"Welcome, {XSS}")
    expect(page.locator("#door-log-list li").first).to_contain_text(XSS)
    page.locator("#door-q").fill("img")
    expect(page.locator("#door-results .door-name")).to_have_text(XSS)
    assert page.locator("#door-verdict img, #door-log-list img, #door-results img").count() == 0

    # The same code again: amber.
    expect(verdict).to_be_hidden(timeout=5_000)
    scan_by_keyboard(page, door.codes["Bruno Petit"])
    expect(verdict).to_have_class("door-verdict door-verdict-warn")
    assert checked_in(live_server, door.slug)[0] == 2
    assert errors == []


def test_offline_scans_are_queued_then_sent(
    context: BrowserContext, live_server: LiveServer, door: Door
) -> None:
    page = open_door(context, door)
    wait_for_the_snapshot(page, door)
    # The service worker controls the page (it keeps a copy for when the network is gone).
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=20_000)

    context.set_offline(True)
    badge = page.locator("#door-offline")
    for name in ("Alice Martin", "Chloé Durand", "Dmitri Ivanov"):
        scan_by_keyboard(page, door.codes[name])
        first_name = name.split()[0]
        expect(page.locator("#door-verdict-title")).to_contain_text(f"Welcome, {first_name}")
        expect(page.locator("#door-verdict")).to_have_class("door-verdict door-verdict-ok")
        expect(page.locator("#door-verdict")).to_be_hidden(timeout=5_000)
    expect(badge).to_have_text("Offline — 3 scans waiting")
    # Scanned twice offline: the local list knows Alice is in.
    scan_by_keyboard(page, door.codes["Alice Martin"])
    expect(page.locator("#door-verdict")).to_have_class("door-verdict door-verdict-warn")
    expect(badge).to_have_text("Offline — 4 scans waiting")
    assert checked_in(live_server, door.slug) == (0, 0)
    # Reloaded without network: the page comes from the worker's cache, the queue stays.
    page.reload()
    expect(page.locator("#door-code")).to_be_visible()
    expect(badge).to_have_text("Offline — 4 scans waiting")

    context.set_offline(False)
    expect(badge).to_be_hidden(timeout=15_000)
    people, offline_rows = checked_in(live_server, door.slug)
    assert people == 3 + 2 + 1
    assert offline_rows == 4  # three admissions and the refused second scan, in the log
    db = Database.from_url(live_server.database_url)
    try:
        with db.session() as session:
            parties = session.scalar(select(func.count()).where(Registration.arrived > 0))
            assert parties == 3
    finally:
        db.dispose()


# -- the device's log is the server's log ----------------------------------------------------
def test_a_ticket_held_in_view_is_one_scan_even_with_another_code_in_view(
    browser: Browser, live_server: LiveServer, door: Door, tmp_path: Path
) -> None:
    """Two tickets in view, read in turns frame by frame: each is one scan. (Repeats were
    ignored only when the previous code read was the same one: another code in between
    made the first one count again within the 3 seconds.)"""
    alice, bruno = (ticket_png(live_server, door.codes[n]) for n in ("Alice Martin", "Bruno Petit"))
    camera = camera_browser(browser, fake_camera_file(tmp_path / "two.y4m", alice, bruno))
    try:
        context = camera.new_context(base_url=live_server.url, locale="en-GB")
        context.set_default_timeout(20_000)
        page = open_door(context, door)
        log = page.locator("#door-log-list li")
        expect(log).to_have_count(2, timeout=30_000)
        # Both are still in view: as long again, and nothing more is scanned.
        page.wait_for_timeout(5_000)
        expect(log).to_have_count(2)
        assert sorted(scans_in_log(live_server, door.slug)) == [
            ("admitted", "Alice Martin"),
            ("admitted", "Bruno Petit"),
        ]
        context.close()
    finally:
        camera.close()


def test_a_check_in_by_name_is_one_line_however_the_page_changes_next(
    context: BrowserContext, live_server: LiveServer, door: Door
) -> None:
    page = open_door(context, door)
    page.locator("#door-q").fill("Chlo")
    page.get_by_role("button", name="Check in Chloé Durand").click()
    verdict = page.locator("#door-verdict")
    expect(verdict).to_contain_text("Welcome, Chloé Durand")
    expect(verdict).to_be_hidden(timeout=5_000)
    # A later search replaces the results that still hold that verdict.
    page.locator("#door-q").fill("Dmitri")
    expect(page.locator("#door-results .door-name")).to_have_text("Dmitri Ivanov")
    expect(page.locator("#door-log-list li")).to_have_count(1)
    expect(verdict).to_be_hidden()
    assert scans_in_log(live_server, door.slug) == [("admitted", "Chloé Durand")]


def test_an_offline_verdict_gives_way_to_the_servers_answer(
    context: BrowserContext, live_server: LiveServer, door: Door
) -> None:
    page = open_door(context, door)
    wait_for_the_snapshot(page, door)
    # Another phone lets Bruno in: this phone's offline list does not know it yet.
    other = context.new_page()
    other.goto(door.link_url)
    scan_by_keyboard(other, door.codes["Bruno Petit"])
    expect(other.locator("#door-verdict")).to_have_class("door-verdict door-verdict-ok")
    other.close()

    context.set_offline(True)
    scan_by_keyboard(page, door.codes["Bruno Petit"])
    expect(page.locator("#door-verdict-title")).to_have_text("Welcome, Bruno")
    line = page.locator("#door-log-list li")
    expect(line).to_have_count(1)
    expect(line).to_have_class("door-log-ok")
    context.set_offline(False)
    # Sent: the line now says what the server recorded, and it is still one line.
    expect(line).to_have_class("door-log-warn", timeout=15_000)
    expect(line).to_contain_text("Already checked in at")
    expect(line).to_have_count(1)
    assert scans_in_log(live_server, door.slug) == [
        ("admitted", "Bruno Petit"),
        ("already_checked_in", "Bruno Petit"),
    ]


def test_the_log_and_the_verdicts_keep_the_events_clock(
    browser: Browser, live_server: LiveServer, door: Door
) -> None:
    """The phone is set to New York; the event is in Paris: both show Paris time."""
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", timezone_id="America/New_York"
    )
    context.set_default_timeout(10_000)
    try:
        page = open_door(context, door)
        before = datetime.now(PARIS)
        scan_by_keyboard(page, door.codes["Dmitri Ivanov"])
        verdict = page.locator("#door-verdict")
        expect(verdict).to_have_class("door-verdict door-verdict-ok")
        expect(verdict).to_be_hidden(timeout=5_000)
        scan_by_keyboard(page, door.codes["Dmitri Ivanov"])
        expect(verdict).to_have_class("door-verdict door-verdict-warn")
        after = datetime.now(PARIS)
        found = re.search(r"at (\d\d:\d\d)", page.locator("#door-verdict-title").inner_text())
        assert found, page.locator("#door-verdict-title").inner_text()
        admitted_at = found.group(1)
        assert admitted_at in {before.strftime("%H:%M"), after.strftime("%H:%M")}
        first_line = page.locator("#door-log-list li time").last  # newest first
        assert first_line.inner_text().startswith(admitted_at)
    finally:
        context.close()


# -- another day, a phone ----------------------------------------------------------------------
def test_scanning_on_another_day_is_asked_first(
    context: BrowserContext, live_server: LiveServer, door_in_two_days: Door
) -> None:
    door = door_in_two_days
    page = open_door(context, door)
    expect(page.locator("#door-not-today")).to_contain_text("This event is not today")
    scan_by_keyboard(page, door.codes["Bruno Petit"])
    expect(page.locator("#door-verdict-title")).to_have_text("This event is not today")
    page.locator("#door-day-cancel").click()
    expect(page.locator("#door-verdict")).to_be_hidden()
    assert scans_in_log(live_server, door.slug) == []

    scan_by_keyboard(page, door.codes["Bruno Petit"])
    page.get_by_role("button", name="Scan anyway").click()
    expect(page.locator("#door-verdict-title")).to_have_text("Welcome, Bruno Petit")
    expect(page.locator("#door-verdict")).to_be_hidden(timeout=5_000)
    # Asked once: the next ticket goes straight in.
    scan_by_keyboard(page, door.codes["Dmitri Ivanov"])
    expect(page.locator("#door-verdict-title")).to_have_text("Welcome, Dmitri Ivanov")
    assert scans_in_log(live_server, door.slug) == [
        ("admitted", "Bruno Petit"),
        ("admitted", "Dmitri Ivanov"),
    ]


def test_on_a_phone(browser: Browser, live_server: LiveServer, door: Door) -> None:
    """390 px, touch: the code field leaves the keyboard down, the search's buttons say
    whom they let in, and a door-link holder is not offered to log in."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-GB",
        **PHONE,
    )
    context.set_default_timeout(10_000)
    try:
        page = open_door(context, door)
        expect(page.locator("#door-code")).not_to_be_focused()
        expect(page.locator(".site-header")).not_to_contain_text("Log in")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.locator("#door-q").fill("Bru")
        page.get_by_role("button", name="Check in Bruno Petit").tap()
        verdict = page.locator("#door-verdict")
        expect(verdict).to_contain_text("Welcome, Bruno Petit")
        expect(verdict).to_be_hidden(timeout=5_000)
        expect(page.locator("#door-code")).not_to_be_focused()
    finally:
        context.close()
