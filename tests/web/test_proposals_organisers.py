"""Organisers and calls for proposals through HTTP: opening and editing a call, answering
(now or together), merging, hiding, the moderation queue, turning an accepted proposal into
a session or an event, the CSV export (formula-safe) and the Atom feed (escaped); the demo
seeds an open call with proposals in every state."""

from __future__ import annotations

import csv
import io
from xml.etree import ElementTree

from sqlalchemy import func, select

from events.clock import utcnow
from events.database import Database
from events.demo import seed_demo, today_in_paris
from events.models import (
    Community,
    Event,
    ModerationCase,
    ProgrammeItem,
    Proposal,
    ProposalCall,
    ProposalMerge,
)
from events.proposal_lifecycle import proposing_open, supporting_open
from events.services import moderation
from events.services.proposal_records import proposal_subject
from events.services.proposals import ProposalService
from tests.domain.test_registrations import open_event
from tests.factories import Factories
from tests.proposal_scenario import call_input, load, open_call, proven, published
from tests.web.conftest import Client

EVIL = '=HYPERLINK("http://evil","x") <script>alert(1)</script> & co'


def organiser(client: Client, db: Database, make: Factories) -> Community:
    owner = make.user()
    community = make.community(owner=owner, slug="ours")
    client.login_as(db, owner)
    return community


def test_open_edit_and_list_a_call(client: Client, db: Database, make: Factories) -> None:
    organiser(client, db, make)
    values = vars(call_input(title="Ideas for spring"))
    form = {k: v for k, v in values.items() if k != "kinds"}
    refused = client.submit("/manage/ours/proposals", {**form, "title": ""})
    assert refused.status_code == 400 and "This field is required." in refused.text
    created = client.submit("/manage/ours/proposals", {**form, "kinds": ["talk", "topic"]})
    assert created.status_code == 303
    manage_url = created.headers["location"]
    assert manage_url == "/manage/ours/proposals/ideas-for-spring"
    assert client.get(manage_url).status_code == 200
    edited = client.submit(
        f"{manage_url}/edit", {**form, "title": "Ideas for summer", "kinds": ["talk"]}
    )
    assert edited.status_code == 303
    with db.session() as session:
        call = session.scalar(select(ProposalCall))
        assert call is not None and call.title == "Ideas for summer" and call.kinds == ["talk"]
        assert call.slug == "ideas-for-spring"  # the address stays
    page = client.get("/g/ours/proposals")
    assert "Ideas for summer" in page.text
    assert "Ideas for summer" in client.get("/g/ours").text  # on the community's page


def test_answer_now_or_together(client: Client, db: Database, make: Factories) -> None:
    community = organiser(client, db, make)
    call = open_call(db, make, community)
    one, two = published(db, call, 1), published(db, call, 2)
    base = f"/manage/ours/proposals/{call.slug}"
    wrong = client.submit(f"{base}/1/answer", {"status": "declined", "publish": "now"})
    assert wrong.status_code == 400 and load(db, one).status == "published"
    done = client.submit(
        f"{base}/1/answer", {"status": "declined", "reason": "no_room", "publish": "now"}
    )
    assert done.status_code == 303 and load(db, one).status == "declined"
    client.submit(f"{base}/2/answer", {"status": "accepted", "publish": "later"})
    assert load(db, two).status == "published" and "kept private" in client.get(base).text
    client.submit(f"{base}/publish-answers")
    assert load(db, two).status == "accepted"
    # Withdrawn is final: the page answers with the reason, nothing changes.
    with db.transaction() as session:
        session.get(Proposal, one.id).status = "withdrawn"
    refused = client.submit(f"{base}/1/answer", {"status": "accepted", "publish": "now"})
    assert refused.status_code == 409 and load(db, one).status == "withdrawn"


def test_merge_hide_and_the_moderation_queue(client: Client, db: Database, make: Factories) -> None:
    community = organiser(client, db, make)
    call = open_call(db, make, community)
    published(db, call, 1), published(db, call, 2)
    base = f"/manage/ours/proposals/{call.slug}"
    assert client.submit(f"{base}/1/merge", {"into": "1"}).status_code == 400
    assert client.submit(f"{base}/1/merge", {"into": "2", "note": "Same"}).status_code == 303
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ProposalMerge)) == 1
    assert client.submit(f"{base}/1/hide", {"reason": ""}).status_code == 400
    assert client.submit(f"{base}/1/hide", {"reason": "Advertising"}).status_code == 303
    assert client.get(f"{call_url(call)}/1").status_code == 404
    # Reports bring the other one to the queue; restoring it tells its proposer.
    second = load(db, published(db, call, 3))
    for n in range(3):
        reporter = proven(db, call.community_id, f"r{n}@example.org")
        with db.transaction() as session:
            ProposalService(session).report(session.get(Proposal, second.id), reporter, "spam")
    queue = client.get("/manage/ours/moderation")
    assert "Proposal number 3" in queue.text
    with db.session() as session:
        case = moderation.case_of(session, "proposal", second.id)
        assert case is not None
    decided = client.submit(
        f"/manage/ours/moderation/{case.id}", {"status": "restore", "reason": "Fine"}
    )
    assert decided.status_code == 303
    assert client.get(f"{call_url(call)}/3").status_code == 200


def call_url(call: ProposalCall) -> str:
    return f"/g/{call.community.slug}/proposals/{call.slug}"


def test_an_accepted_proposal_becomes_a_prefilled_session(
    client: Client, db: Database, make: Factories
) -> None:
    community = organiser(client, db, make)
    call = open_call(db, make, community)
    proposal = published(db, call, 1, title="Bike repair")
    with db.transaction() as session:
        ProposalService(session).answer(load(db, proposal), "accepted", publish=True)
    event = open_event(db, make)
    with db.transaction() as session:
        found = session.get(Event, event.id)
        found.community_id = community.id
        slug = found.slug
    base = f"/manage/ours/proposals/{call.slug}/1"
    form = client.get(f"{base}/session")
    assert 'value="Bike repair"' in form.text and 'value="Proposer 1"' in form.text
    done = client.submit(
        f"{base}/session", {"event": slug, "title": "Bike repair", "speakers": "Ada"}
    )
    assert done.status_code == 303
    with db.session() as session:
        item = session.scalar(select(ProgrammeItem).where(ProgrammeItem.event_id == event.id))
        assert item is not None and item.title == "Bike repair"
    page = client.get(f"{call_url(call)}/1")
    assert f"/e/{slug}" in page.text  # "Became: …" links to it


def test_an_accepted_proposal_becomes_a_draft_event(
    client: Client, db: Database, make: Factories
) -> None:
    community = organiser(client, db, make)
    call = open_call(db, make, community)
    proposal = published(db, call, 1, title="Choir night", kind="meetup")
    with db.transaction() as session:
        ProposalService(session).answer(load(db, proposal), "accepted", publish=True)
    base = f"/manage/ours/proposals/{call.slug}/1"
    assert 'value="Choir night"' in client.get(f"{base}/event").text
    done = client.submit(
        f"{base}/event",
        {
            "title": "Choir night",
            "description": "Sing",
            "starts_local": "2031-05-01T19:00",
            "ends_local": "2031-05-01T22:00",
            "timezone": "Europe/Paris",
        },
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/manage/ours/events/")
    assert load(db, proposal).became_event_id is not None


def test_the_csv_export_is_formula_safe_and_holds_no_address(
    client: Client, db: Database, make: Factories
) -> None:
    community = organiser(client, db, make)
    call = open_call(db, make, community)
    published(db, call, 1, title=EVIL, name="=cmd|' /C calc'!A0", email="secret@example.org")
    answer = client.get(f"/manage/ours/proposals/{call.slug}/proposals.csv")
    assert (
        answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    )  # personal: web/security.py
    text = answer.content.decode("utf-8-sig")
    assert "secret@example.org" not in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][1].startswith("'=HYPERLINK") and rows[1][9].startswith("'=cmd")
    excel = client.get(f"/manage/ours/proposals/{call.slug}/proposals.csv?variant=excel-fr")
    assert ";" in excel.content.decode("utf-8-sig").splitlines()[0]


def test_the_atom_feed_is_valid_and_escaped(client: Client, db: Database, make: Factories) -> None:
    call = open_call(db, make)
    published(db, call, 1, title=EVIL, body="<b>bold</b> **text** </summary>")
    answer = client.get(f"{call_url(call)}/feed.atom")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(
        "application/atom+xml"
    )
    assert "set-cookie" not in answer.headers
    feed = ElementTree.fromstring(answer.content)  # well-formed XML
    ns = {"a": "http://www.w3.org/2005/Atom"}
    title = feed.find("a:entry/a:title", ns)
    assert title is not None and title.text and title.text.startswith(EVIL)
    assert b"<script>" not in answer.content
    again = client.get(
        f"{call_url(call)}/feed.atom", headers={"if-none-match": answer.headers["etag"]}
    )
    assert again.status_code == 304


def test_organiser_pages_are_for_the_community_only(
    client: Client, db: Database, make: Factories
) -> None:
    call = open_call(db, make)  # another community's
    organiser(client, db, make)
    with db.session() as session:
        slug = session.get(Community, call.community_id).slug
    assert client.get(f"/manage/{slug}/proposals").status_code == 404


def test_the_demo_has_an_open_call_with_proposals_in_each_state(db: Database) -> None:
    with db.transaction() as session:
        assert seed_demo(session, today=today_in_paris(), password="demo-password").created
    with db.session() as session:
        statuses = set(session.scalars(select(Proposal.status)))
        assert statuses == {"published", "under_discussion", "accepted", "declined", "withdrawn"}
        accepted = session.scalar(select(Proposal).where(Proposal.status == "accepted"))
        assert accepted is not None and accepted.became_item_id is not None
        assert session.scalar(select(func.count()).select_from(ModerationCase)) == 0
        assert proposal_subject(accepted).path.startswith("/g/")
        # One call, on the demo series, open to proposals and supports now.
        [call] = session.scalars(select(ProposalCall))
        assert call.series_id is not None and call.event_id is None
        now = utcnow()
        assert proposing_open(call, now) and supporting_open(call, now)
