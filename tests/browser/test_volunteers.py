"""A door volunteer, end to end in headless Chromium against a real server process: a
registrant signs up for a door shift from their private page, receives the door link by
e-mail (read from the server's outbox once its mail worker has written it), opens it and
checks a ticket in during the shift's window; another volunteer's link, whose shift starts
later, is refused by the scanner with the time it opens. Someone without a ticket takes a
door shift from the community's page: the confirmation link and then the door link are
read from the outbox, and the door opens for them too."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from events.database import Database
from events.models import OutboxMessage
from events.services.communities import CommunityService
from events.services.events import EventInput, EventService
from events.services.registrations import RegistrationInput, RegistrationService
from events.services.volunteers import RoleInput, ShiftInput, VolunteerService
from tests.browser.accessibility import violations
from tests.browser.conftest import LiveServer
from tests.domain.test_door import scan
from tests.domain.test_statistics import past
from tests.factories import Factories

PARIS = ZoneInfo("Europe/Paris")


@dataclass
class Evening:
    slug: str
    #: Private links (``/r/{token}``) of two registrants who will volunteer.
    sam: str
    kim: str
    #: The ticket code of a guest the volunteer lets in.
    guest_ticket: str


def local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def seed_evening(live_server: LiveServer) -> Evening:
    """Tonight's event, under way (it began an hour ago and lasts five more hours, so it
    spans today's date at any hour: one starting in two hours fell on tomorrow after 22:00
    and the door rightly warned "not today"), with a door role: an early shift whose door
    link already works (it starts in 20 minutes; links open 30 minutes before) and a late
    one whose link opens in an hour and a half."""
    now = datetime.now(PARIS).replace(second=0, microsecond=0, tzinfo=None)
    db = Database.from_url(live_server.database_url)
    try:
        make = Factories(db)
        owner = make.user()
        make.community(owner=owner, slug="coloc", name="Jeudis de la Coloc")
        with db.transaction() as session:
            events = EventService(session)
            event = events.create(
                CommunityService(session).by_slug("coloc"),
                EventInput(
                    title="Volunteer night",
                    starts_local=local(now - timedelta(hours=1)),
                    ends_local=local(now + timedelta(hours=5)),
                    timezone="Europe/Paris",
                ),
            )
            events.publish(event)
            volunteers = VolunteerService(session)
            door = volunteers.add_role(event, RoleInput(kind="door"))
            for starts in (now + timedelta(minutes=20), now + timedelta(hours=2)):
                volunteers.add_shift(
                    door,
                    ShiftInput(
                        starts_local=local(starts),
                        ends_local=local(starts + timedelta(hours=2)),
                        needed="2",
                    ),
                    created_by=owner.id,
                )
            registrations = RegistrationService(session)
            links = {}
            for name in ("Sam", "Kim", "Guest"):
                result = registrations.register(
                    event,
                    RegistrationInput(name=name, email=f"{name.lower()}@example.org", consent="on"),
                )
                links[name] = (result.manage_token, result.registration.ticket_code)
            slug = event.slug
        return Evening(
            slug=slug,
            sam=f"/r/{links['Sam'][0]}",
            kim=f"/r/{links['Kim'][0]}",
            guest_ticket=str(links["Guest"][1]),
        )
    finally:
        db.dispose()


def door_link_mailed_to(
    live_server: LiveServer,
    address: str,
    kind: str = "volunteer_signed_up",
    pattern: str = r"https?://\S+/door/\S+/link/[\w-]+",
) -> str:
    """The door link in the volunteer's mail (or ``pattern`` in the ``kind`` mail), once
    the server's worker has written it."""
    db = Database.from_url(live_server.database_url)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with db.session() as session:
                body = session.scalar(
                    select(OutboxMessage.text_body).where(
                        OutboxMessage.to_address == address,
                        OutboxMessage.kind == kind,
                        OutboxMessage.text_body != "",
                    )
                )
            if body:
                found = re.search(pattern, body)
                assert found is not None, body
                return found.group(0)
            time.sleep(0.2)
        raise AssertionError(f"no {kind} mail to {address} was written")
    finally:
        db.dispose()


def sign_up_for_shift(page: Page, private_link: str, shift_index: int) -> None:
    page.goto(f"{private_link}/volunteer")
    expect(page.locator("h1")).to_contain_text("Lend a hand")
    page.get_by_role("button", name=re.compile("^Sign up")).nth(shift_index).click()
    expect(page.locator(".flash")).to_contain_text("You are on the shift")
    expect(page.locator(".flash")).to_contain_text("door link")


def test_a_door_volunteer_checks_in_during_their_shift_only(
    browser: Browser, live_server: LiveServer
) -> None:
    evening = seed_evening(live_server)
    # The CSP forbids the injected accessibility checker; nothing else here needs it.
    context = browser.new_context(base_url=live_server.url, locale="en-GB", bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("pageerror", lambda exc: (_ for _ in ()).throw(AssertionError(str(exc))))

    # Sam takes the early door shift from the private page, then opens the mailed link.
    sign_up_for_shift(page, evening.sam, 0)
    assert violations(page) == []  # the registrant's volunteer page, accessible
    link = door_link_mailed_to(live_server, "sam@example.org")
    page.goto(link)
    expect(page.locator("#door-code")).to_be_visible()
    field = page.locator("#door-code")
    field.fill(evening.guest_ticket)
    field.press("Enter")
    expect(page.locator("#door-verdict")).to_have_class("door-verdict door-verdict-ok")
    expect(page.locator("#door-verdict-title")).to_have_text("Welcome, Guest")
    context.close()

    # Kim takes the late shift: the link is mailed at once, but the door stays shut.
    other = browser.new_context(base_url=live_server.url, locale="en-GB")
    other.set_default_timeout(10_000)
    late = other.new_page()
    sign_up_for_shift(late, evening.kim, 1)  # the second button: the late shift
    late_link = door_link_mailed_to(live_server, "kim@example.org")
    answer = late.goto(late_link)
    assert answer is not None and answer.status == 403
    expect(late.locator(".door-signin")).to_contain_text("This door link works from")
    assert late.locator("#door-code").count() == 0
    other.close()


def test_someone_without_a_ticket_confirms_their_address_and_opens_the_door(
    browser: Browser, live_server: LiveServer
) -> None:
    evening = seed_evening(live_server)
    context = browser.new_context(base_url=live_server.url, locale="en-GB", bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("pageerror", lambda exc: (_ for _ in ()).throw(AssertionError(str(exc))))
    page.goto("/g/coloc/volunteer")
    page.get_by_role("link", name=re.compile("^Take this shift")).first.click()
    expect(page.locator("h1")).to_contain_text("Take a shift")
    assert violations(page) == []  # the form, accessible
    page.get_by_label("Your name").fill("Lou")
    page.get_by_label("Your e-mail address").fill("lou@example.org")
    page.get_by_role("button", name="Send me the link").click()
    expect(page.locator(".flash")).to_contain_text("we sent you an e-mail")
    confirm = door_link_mailed_to(
        live_server, "lou@example.org", "confirm_address", r"https?://\S+/c/[\w-]+"
    )
    page.goto(confirm)
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".flash")).to_contain_text("you are on the shift")
    assert "/v/" in page.url  # their volunteer page, with the shift on it
    expect(page.locator("main")).to_contain_text("At the door")
    page.goto(door_link_mailed_to(live_server, "lou@example.org"))
    field = page.locator("#door-code")
    field.fill(evening.guest_ticket)
    field.press("Enter")
    expect(page.locator("#door-verdict-title")).to_have_text("Welcome, Guest")
    context.close()


def test_the_volunteer_and_statistics_pages_are_accessible(
    browser: Browser, live_server: LiveServer
) -> None:
    evening = seed_evening(live_server)
    db = Database.from_url(live_server.database_url)
    try:  # a past month with figures, so that the statistics page draws its charts
        with db.transaction() as session:
            event = EventService(session).by_slug(evening.slug, public=False)
            for n in range(8):
                registered = RegistrationService(session).register(
                    event, RegistrationInput(name=f"P{n}", email=f"p{n}@example.org", consent="on")
                )
        scan(db, event, registered.registration.ticket_code)  # the last one came
        past(db, event, 1)
    finally:
        db.dispose()
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    feedback_form = f"/r/{registered.manage_token}/feedback"
    for path in ("/g/coloc/volunteer", f"/e/{evening.slug}", "/g/coloc/stats", feedback_form):
        page.goto(path)
        assert violations(page) == [], path
    expect(page.locator("form")).to_contain_text("La soirée dans son ensemble")  # the form
    page.goto("/g/coloc/stats")
    assert page.locator("svg[role=img] title").count() == 2  # the charts were drawn
    context.close()
