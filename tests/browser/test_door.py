"""The door scanner in headless Chromium against a real server process: (a) a fake camera
shows a real ticket's QR code, (b) a keyboard-wedge scanner types a code and presses Enter,
(c) the network drops, three tickets are scanned offline and sent when it comes back.
Plus: a registrant named like an HTML tag stays text on the verdict, the search and the log.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select

from events.clock import utcnow
from events.database import Database
from events.models import CheckIn, Event, Registration
from events.services.communities import CommunityService
from events.services.door_links import DoorLinkService
from events.services.events import EventInput, EventService
from events.services.registrations import RegistrationInput, RegistrationService
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer
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


@pytest.fixture
def door(live_server: LiveServer) -> Iterator[Door]:
    """A published event with five registrations and a door link, in the server's database."""
    db = Database.from_url(live_server.database_url)
    try:
        make = Factories(db)
        owner = make.user()
        make.community(owner=owner, slug="coloc", name="Jeudis de la Coloc")
        day = (utcnow() + timedelta(days=2)).date().isoformat()
        with db.transaction() as session:
            service = EventService(session)
            event = service.create(
                CommunityService(session).by_slug("coloc"),
                EventInput(
                    title="Door night",
                    starts_local=f"{day}T19:00",
                    ends_local=f"{day}T23:00",
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
        yield Door(slug=slug, link_url=f"/door/{slug}/link/{token}", codes=codes)
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


def fake_camera_file(png: bytes, path: Path) -> Path:
    """A few frames of a 640×480 YUV4MPEG2 video showing the QR code on white."""
    qr = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    width, height = 640, 480
    side = min(400, qr.shape[0])
    qr = cv2.resize(qr, (side, side), interpolation=cv2.INTER_NEAREST)
    frame = np.full((height, width, 3), 255, np.uint8)
    top, left = (height - side) // 2, (width - side) // 2
    frame[top : top + side, left : left + side] = qr
    i420 = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            out.write(b"FRAME\n")
            out.write(i420)
    return path


def open_door(context: BrowserContext, door: Door) -> Page:
    page = context.new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    page.goto(door.link_url)
    expect(page.locator("#door-code")).to_be_visible()
    return page


def scan_by_keyboard(page: Page, text: str) -> None:
    field = page.locator("#door-code")
    field.fill(text)
    field.press("Enter")


def test_a_fake_camera_shows_a_ticket_green_then_amber(
    browser: Browser, live_server: LiveServer, door: Door, tmp_path: Path
) -> None:
    code = door.codes["Alice Martin"]
    png = urllib.request.urlopen(f"{live_server.url}/t/{code}/qr.png", timeout=10).read()
    video = fake_camera_file(png, tmp_path / "ticket.y4m")
    camera = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, *FAKE_CAMERA_ARGS, f"--use-file-for-fake-video-capture={video}"],
    )
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
    key = f"rencontres.door.snapshot.{door.slug}"
    page.wait_for_function("key => localStorage.getItem(key) !== null", arg=key)
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
