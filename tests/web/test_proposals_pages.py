"""Calls for proposals through HTTP: the call page (order, filters, htmx), proposing with
the double opt-in, the private page, supporting (ticket, recognised browser, confirmed
address), following, reporting, joining, and every error answered in the page."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from events.database import Database
from events.models import Follow, Proposal, ProposalSupport
from events.services import moderation
from events.services.proposal_records import proposal_subject
from events.services.proposals import ProposalService
from tests.domain.test_registrations import open_event, person, register
from tests.factories import Factories
from tests.proposal_scenario import confirmation_token, load, mailed_links, open_call, published
from tests.web.conftest import Client

HTMX = {"HX-Request": "true"}


def call_url(call) -> str:  # type: ignore[no-untyped-def]
    return f"/g/{call.community.slug}/proposals/{call.slug}"


def confirm(client: Client, db: Database, address: str) -> str:
    """Open the last confirmation link mailed to ``address`` and click its button;
    returns where it leads."""
    token = confirmation_token(db, address)
    page = client.get(f"/c/{token}")
    assert page.status_code == 200 and "noindex" in page.headers["x-robots-tag"]
    done = client.submit(f"/c/{token}")
    assert done.status_code == 303, done.text
    return done.headers["location"]


def ticket_of(db: Database, make: Factories, community_id: object, email: str) -> str:
    event = open_event(db, make)
    with db.transaction() as session:
        from events.models import Event

        session.get(Event, event.id).community_id = community_id
    code = register(db, event, person("t", email=email)).registration.ticket_code
    assert code
    return code


def test_the_call_page_lists_published_proposals_only(
    client: Client, db: Database, make: Factories
) -> None:
    call = open_call(db, make)
    published(db, call, 1, title="Repair café")
    client.submit(
        call_url(call),
        {
            "title": "Unconfirmed <b>idea</b>",
            "kind": "topic",
            "body": "x",
            "name": "N",
            "email": "n@example.org",
            "consent": "on",
        },
    )
    page = client.get(call_url(call))
    assert page.status_code == 200
    assert "Repair café" in page.text and "Unconfirmed" not in page.text
    assert "order_seed" in page.headers.get("set-cookie", "")
    assert client.get(f"/g/{call.community.slug}/proposals").status_code == 200


def test_filters_work_with_and_without_htmx(client: Client, db: Database, make: Factories) -> None:
    call = open_call(db, make)
    published(db, call, 1, title="A talk about soil", kind="talk")
    published(db, call, 2, title="A workshop on bread", kind="workshop")
    plain = client.get(call_url(call), params={"kind": "talk"})
    assert "A talk about soil" in plain.text and "workshop on bread" not in plain.text
    assert "<html" in plain.text
    fragment = client.get(call_url(call), params={"kind": "workshop"}, headers=HTMX)
    assert "workshop on bread" in fragment.text and "about soil" not in fragment.text
    assert "<html" not in fragment.text
    nonsense = client.get(
        call_url(call), params={"kind": "<x>", "status": "nope", "page_number": "x"}
    )
    assert nonsense.status_code == 200 and "soil" in nonsense.text


def test_proposing_without_an_account_end_to_end(
    client: Client, db: Database, make: Factories
) -> None:
    call = open_call(db, make)
    form = client.get(f"{call_url(call)}/new")
    assert form.status_code == 200 and 'name="website"' in form.text
    key = re.search(r'name="request_key" value="([^"]+)"', form.text)
    assert key
    sent = client.submit(
        call_url(call),
        {
            "title": "Bike repair <script>x</script>",
            "kind": "workshop",
            "body": "Bring your **bike**.",
            "needs": ["room", "material"],
            "needs_note": "tools",
            "name": "Ada",
            "named": "on",
            "email": "Ada@Example.org",
            "consent": "on",
            "request_key": key.group(1),
        },
    )
    assert sent.status_code == 303 and sent.headers["location"].endswith("/sent?what=proposal")
    assert "Check your e-mail" in client.get(sent.headers["location"]).text
    private = confirm(client, db, "ada@example.org")
    assert private.startswith("/p/")
    page = client.get(private)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "Bike repair &lt;script&gt;" in page.text
    public = client.get(f"{call_url(call)}/1")
    assert "Proposed by Ada" in public.text and "ada@example.org" not in public.text
    assert "<script>x" not in public.text


def test_form_errors_are_shown_next_to_the_fields(
    client: Client, db: Database, make: Factories
) -> None:
    call = open_call(db, make)
    answer = client.submit(call_url(call), {"title": "", "kind": "nope", "email": "x"})
    assert answer.status_code == 400
    assert "This field is required." in answer.text
    assert "Enter a valid e-mail address" in answer.text
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Proposal)) == 0


def test_a_ticket_holder_supports_from_the_call_page(
    client: Client, db: Database, make: Factories
) -> None:
    call = open_call(db, make, supporters="ticket_holders")
    proposal = published(db, call, 1)
    code = ticket_of(db, make, call.community_id, "holder@example.org")
    wrong = client.submit(f"{call_url(call)}/1/support", {"ticket": "not-a-ticket"})
    assert wrong.status_code == 400 and "We do not know this ticket" in wrong.text
    done = client.submit(f"{call_url(call)}/1/support", {"ticket": code})
    assert done.status_code == 303
    assert load(db, proposal).supports == 1
    # The browser is recognised now: the next support needs nothing more, and is once.
    again = client.submit(f"{call_url(call)}/1/support", headers=HTMX)
    assert again.status_code == 200 and "take my support back" in again.text
    assert load(db, proposal).supports == 1
    back = client.submit(f"{call_url(call)}/1/unsupport", headers=HTMX)
    assert "1 support" not in back.text and load(db, proposal).supports == 0


def test_supporting_with_an_address_needs_its_confirmation(
    client: Client, db: Database, make: Factories, other_client: Client
) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    asked = client.submit(f"{call_url(call)}/1/support", headers=HTMX)
    assert 'name="email"' in asked.text and 'name="ticket"' in asked.text
    sent = client.submit(f"{call_url(call)}/1/support", {"email": "fan@example.org"})
    assert sent.headers["location"].endswith("/sent?what=support")
    assert load(db, proposal).supports == 0
    # The link is clicked in another browser (a phone's mail app): it counts once.
    assert confirm(other_client, db, "fan@example.org") == f"{call_url(call)}/1"
    assert load(db, proposal).supports == 1


def test_the_honeypot_silently_does_nothing(client: Client, db: Database, make: Factories) -> None:
    call = open_call(db, make)
    published(db, call, 1)
    answer = client.submit(
        f"{call_url(call)}/1/support", {"email": "bot@example.org", "website": "spam"}
    )
    assert answer.status_code == 303
    assert mailed_links(db, "bot@example.org", "confirm") == []


def test_following_needs_a_confirmed_address(client: Client, db: Database, make: Factories) -> None:
    call = open_call(db, make)
    published(db, call, 1)
    client.submit(f"{call_url(call)}/1/follow", {"email": "watcher@example.org"})
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Follow)) == 0
    confirm(client, db, "watcher@example.org")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Follow)) == 1
    page = client.get(f"{call_url(call)}/1")
    assert "You follow this proposal" in page.text


def test_three_people_reporting_hide_a_proposal(
    client: Client, db: Database, make: Factories
) -> None:
    call = open_call(db, make)
    published(db, call, 1, title="Buy cheap watches")
    for n in range(3):
        client.cookies.clear()
        client.submit(
            f"{call_url(call)}/1/report", {"reason": "spam", "email": f"r{n}@example.org"}
        )
        confirm(client, db, f"r{n}@example.org")
    assert client.get(f"{call_url(call)}/1").status_code == 404
    assert "cheap watches" not in client.get(call_url(call)).text


def test_asking_to_co_propose_reaches_the_proposer(
    client: Client, db: Database, make: Factories
) -> None:
    call = open_call(db, make)
    published(db, call, 1, email="owner@example.org")
    client.submit(
        f"{call_url(call)}/1/join",
        {"name": "Bea", "message": "I can help", "named": "on", "email": "bea@example.org"},
    )
    confirm(client, db, "bea@example.org")
    private = mailed_links(db, "owner@example.org", "private")[-1]
    page = client.get(private)
    assert "asks to join" in page.text and "I can help" in page.text
    person_id = re.search(r"/requests/([0-9a-f-]{36})", page.text)
    assert person_id
    client.submit(f"{private}/requests/{person_id.group(1)}", {"answer": "yes"})
    assert "Bea" in client.get(f"{call_url(call)}/1").text


def test_unknown_things_are_not_found(client: Client, db: Database, make: Factories) -> None:
    call = open_call(db, make)
    for url in (
        "/g/nope/proposals",
        f"/g/{call.community.slug}/proposals/nope",
        f"{call_url(call)}/99",
        "/p/" + "0" * 40,
        "/c/unknown-token",
    ):
        assert client.get(url).status_code == 404, url


def test_similar_titles_fragment(client: Client, db: Database, make: Factories) -> None:
    call = open_call(db, make)
    published(db, call, 1, title="Repair café for bicycles")
    hint = client.get(f"{call_url(call)}/similar", params={"title": "bicycle repair"}, headers=HTMX)
    assert "Repair café for bicycles" in hint.text
    assert client.get(f"{call_url(call)}/similar", params={"title": "zz"}).text.strip() == ""


def test_support_rows_hold_no_address(client: Client, db: Database, make: Factories) -> None:
    call = open_call(db, make)
    published(db, call, 1)
    client.submit(f"{call_url(call)}/1/support", {"email": "private.person@example.org"})
    confirm(client, db, "private.person@example.org")
    with db.session() as session:
        keys = list(session.scalars(select(ProposalSupport.supporter_key)))
    assert len(keys) == 1 and "private" not in keys[0]


def test_the_kept_call_page_shows_answers_and_moderation_at_once(
    client: Client, db: Database, make: Factories
) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1, title="Soup evening")
    client.cookies.set("order_seed", "7", domain="testserver.local")
    assert "Published" in client.get(call_url(call)).text  # now kept rendered
    with db.transaction() as session:
        ProposalService(session).answer(load(db, proposal), "declined", "no_room", publish=True)
    assert "Declined" in client.get(call_url(call)).text
    with db.transaction() as session:
        moderation.hide(session, proposal_subject(load(db, proposal)), reason="spam", actor_id=None)
    assert "Soup evening" not in client.get(call_url(call)).text


def test_visitors_see_one_of_the_orders_and_keep_it(
    client: Client, db: Database, make: Factories
) -> None:
    call = open_call(db, make)
    for n in range(1, 8):
        published(db, call, n, title=f"Idea {n}")
    first = client.get(call_url(call))
    seed = first.cookies.get("order_seed")
    assert seed is not None and 0 <= int(seed) < 256
    order = re.findall(r"Idea (\d)", first.text)
    assert re.findall(r"Idea (\d)", client.get(call_url(call)).text) == order
    assert client.get(call_url(call)).cookies.get("order_seed") is None  # kept, not renewed


def test_a_registrant_takes_part_from_their_private_page(
    client: Client, db: Database, make: Factories
) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    event = open_event(db, make)
    with db.transaction() as session:
        from events.models import Event

        session.get(Event, event.id).community_id = call.community_id
    result = register(db, event, person("r", email="reg@example.org"))
    private = f"/r/{result.manage_token}"
    assert "Take part with my ticket" in client.get(private).text
    taken = client.submit(f"{private}/proposals")
    assert taken.headers["location"] == f"/g/{call.community.slug}/proposals"
    assert client.submit(f"{call_url(call)}/1/support").status_code == 303
    assert load(db, proposal).supports == 1
    assert "You take part as reg@example.org" in client.get(call_url(call)).text
