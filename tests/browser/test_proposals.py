"""Calls for proposals in a real browser against a real server process: proposing and
confirming the address, supporting with a ticket, and the organisers' answer, with
JavaScript (htmx hints while typing, the support box and the list swapped in place) and
without it (plain forms and redirects)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote_plus

import pytest
from playwright.sync_api import Page, expect

from events.database import Database
from events.models import Event, Proposal, ProposalCall
from events.services.communities import CommunityService
from tests.domain.test_registrations import open_event, person, register
from tests.factories import DEFAULT_PASSWORD, Factories
from tests.proposal_scenario import link_in_outbox, open_call, published


@dataclass
class World:
    db: Database
    call_url: str
    organiser_email: str
    ticket: str
    proposal_id: object


@pytest.fixture
def world(live_server) -> Iterator[World]:
    """A community with an open call, one proposal, and a ticket holder."""
    db = Database.from_url(live_server.database_url)
    make = Factories(db)
    owner = make.user(email="organiser@example.org")
    make.community(owner=owner, slug="cafe", name="Café des Possibles")
    with db.session() as session:
        community = CommunityService(session).by_slug("cafe")
    call = open_call(db, make, community, title="Next Thursdays")
    proposal = published(db, call, 1, title="Repair café for bicycles", kind="workshop")
    event = open_event(db, make)
    with db.transaction() as session:
        session.get(Event, event.id).community_id = community.id
    ticket = register(db, event, person("t", email="holder@example.org")).registration.ticket_code
    with db.session() as session:
        slug = session.get(ProposalCall, call.id).slug
    try:
        yield World(db, f"/g/cafe/proposals/{slug}", owner.email, str(ticket), proposal.id)
    finally:
        db.dispose()


def supports_of(db: Database, proposal_id: object) -> int:
    with db.session() as session:
        found = session.get(Proposal, proposal_id)
        assert found is not None
        return found.supports


def propose(page: Page, world: World, email: str) -> None:
    page.goto(f"{world.call_url}/new")
    page.get_by_label("Title").fill("Bicycle repair evening")
    page.get_by_label("Kind").select_option("workshop")
    page.get_by_label("Your proposal").fill("Bring your **bike** and tools.")
    page.get_by_label("Your name").fill("Ada")
    page.locator("#f-email").fill(email)
    page.get_by_label(re.compile("^I agree")).check()
    page.get_by_role("button", name="Send my proposal").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()


def confirm_and_open_private_page(page: Page, world: World, email: str) -> None:
    page.goto(link_in_outbox(world.db, email, "/c/"))
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/p/[\w-]{40,}$"))
    expect(page.get_by_text("Your private page: keep its link to yourself.")).to_be_visible()


def answer_as_organiser(page: Page, world: World) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(world.organiser_email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/manage"))
    page.goto(world.call_url.replace("/g/cafe/proposals", "/manage/cafe/proposals") + "/1")
    page.get_by_label("Status").select_option("declined")
    page.get_by_label("Reason (for a decline)").select_option("no_room")
    page.get_by_label("Your words to the proposer (shown publicly)").fill("Next season!")
    page.get_by_role("button", name="Save the answer").click()
    expect(page.get_by_text("The answer is published.")).to_be_visible()


def test_propose_confirm_support_and_answer_with_javascript(page: Page, world: World) -> None:
    # While typing a title, similar proposals show (htmx), before anything is sent.
    page.goto(f"{world.call_url}/new")
    # Wait for the answer to the whole title: the form below loads the page again, and a
    # request still under way then is aborted, which htmx reports as a console error.
    with page.expect_response(lambda r: "title=bicycle repair" in unquote_plus(r.url)):
        page.get_by_label("Title").press_sequentially("bicycle repair", delay=20)
    expect(page.locator("#similar")).to_contain_text("Repair café for bicycles")
    propose(page, world, "ada@example.org")
    page.goto(world.call_url)
    expect(page.get_by_text("Bicycle repair evening")).to_have_count(0)  # not confirmed yet
    confirm_and_open_private_page(page, world, "ada@example.org")
    page.goto(world.call_url)
    expect(page.get_by_role("link", name="Bicycle repair evening")).to_be_visible()

    # A ticket holder (another browser) supports from the call page, in place.
    holder = page.context.browser.new_context(base_url=page.url.split("/g/")[0])
    other = holder.new_page()
    other.goto(world.call_url)
    other.get_by_text("I have a ticket for one of this community's events").click()
    other.get_by_label(re.compile("^Your ticket code")).fill(world.ticket)
    other.get_by_role("button", name="Take part with my ticket").click()
    expect(other.get_by_text("You take part as holder@example.org.")).to_be_visible()
    other.evaluate("window.stillTheSamePage = true")
    box = other.locator("#support-1")
    box.get_by_role("button", name=re.compile("^Support")).click()
    expect(box.get_by_text("Your support is counted.")).to_be_visible()
    expect(box.get_by_role("button", name=re.compile("take my support back"))).to_be_visible()
    assert other.evaluate("window.stillTheSamePage === true"), "the page was reloaded"
    # The kind filter swaps the list in place too.
    other.get_by_label("Kind").select_option("topic")
    expect(other.get_by_text("No proposal matches these filters.")).to_be_visible()
    assert other.evaluate("window.stillTheSamePage === true")
    holder.close()
    assert supports_of(world.db, world.proposal_id) == 1

    answer_as_organiser(page, world)
    page.goto(f"{world.call_url}/1")
    expect(page.get_by_text("No room in the programme", exact=True)).to_be_visible()
    expect(page.get_by_text("Next season!")).to_be_visible()


def test_propose_confirm_support_and_answer_without_javascript(
    browser, live_server, world: World
) -> None:
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", java_script_enabled=False
    )
    page = context.new_page()
    try:
        propose(page, world, "bea@example.org")
        confirm_and_open_private_page(page, world, "bea@example.org")

        # Support with a ticket: the form asks who you are, then counts you once.
        other_context = browser.new_context(
            base_url=live_server.url, locale="en-GB", java_script_enabled=False
        )
        other = other_context.new_page()
        other.goto(f"{world.call_url}/1")
        other.get_by_role("button", name=re.compile("^Support")).click()
        other.get_by_label("Ticket code").fill(world.ticket)
        other.get_by_role("button", name=re.compile("^Support")).click()
        expect(other.get_by_text("Your support is counted.")).to_be_visible()
        expect(other.get_by_role("button", name=re.compile("take my support back"))).to_be_visible()
        # Filters are a plain GET form.
        other.goto(world.call_url)
        other.get_by_label("Kind").select_option("workshop")
        other.get_by_role("button", name="Filter").click()
        expect(other).to_have_url(re.compile(r"kind=workshop"))
        expect(other.get_by_role("link", name="Repair café for bicycles")).to_be_visible()
        other_context.close()

        answer_as_organiser(page, world)
        page.goto(f"{world.call_url}/1")
        expect(page.get_by_text("No room in the programme", exact=True)).to_be_visible()
    finally:
        context.close()
