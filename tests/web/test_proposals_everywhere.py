"""Where calls for proposals show outside their own pages: the community's page (every
call, and "propose a topic for the next one" on its recurring meetups), an occurrence of
a series (its series' call and the community's, with the "next one" link), a one-off
event (its own call and the community's, no "next one"); and what an accepted proposal
becomes when it takes over a date of a recurring meetup (prefilled, linked, followers
told), with an escaped title in the event's JSON-LD; public answers in the visitor's
language; supporter counts public only when the call says so."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select

from events.clock import utcnow
from events.database import Database
from events.models import Community, Event, OutboxMessage, Proposal, ProposalCall, Series
from events.services import follows
from events.services.proposal_calls import CallService
from events.services.proposal_records import proposal_subject
from events.services.proposals import ProposalService
from events.services.series import SeriesInput, SeriesService
from events.services.supports import SupportService
from tests.domain.test_registrations import open_event
from tests.factories import Factories
from tests.proposal_scenario import call_input, link_in_outbox, load, proven, published
from tests.web.conftest import Client

NEXT_ONE = "Propose a topic for the next one"
EVIL = "Choirs </script><script>alert(1)</script> & co"


def series_of(db: Database, community: Community) -> tuple[Series, list[Event]]:
    today = utcnow().date()
    data = SeriesInput(
        title="Open Thursdays",
        frequency="weekly",
        weekday=str((today + timedelta(days=3)).weekday()),
        start_time="19:00",
        duration_minutes="180",
        timezone="Europe/Paris",
        starts_on=today.isoformat(),
        publish="on",
    )
    with db.transaction() as session:
        series = SeriesService(session).create(
            session.get(Community, community.id), data, today=today
        )
    with db.session() as session:
        found = session.get(Series, series.id)
        occurrences = SeriesService(session).occurrences(found)
    assert occurrences
    return series, occurrences


def call_of(db: Database, community: Community, title: str, **scope: str) -> ProposalCall:
    with db.transaction() as session:
        return CallService(session).create(
            session.get(Community, community.id), call_input(title=title, **scope)
        )


def a_link(html: str, href: str) -> bool:
    return re.search(rf'href="{re.escape(href)}"', html) is not None


def test_calls_show_on_the_community_series_and_event_pages(
    client: Client, db: Database, make: Factories
) -> None:
    community = make.community(slug="ours")
    series, occurrences = series_of(db, community)
    one_off = open_event(db, make)
    other_event = open_event(db, make)
    with db.transaction() as session:
        for event in (one_off, other_event):
            session.get(Event, event.id).community_id = community.id
        one_off_slug = session.get(Event, one_off.id).slug
        series_slug = session.get(Series, series.id).slug
        other_slug = session.get(Event, other_event.id).slug
    everyone = call_of(db, community, "Ideas for the community")
    of_series = call_of(db, community, "Topics for Thursdays", series=series_slug)
    of_event = call_of(db, community, "Talks for the one-off", event=one_off_slug)
    of_other = call_of(db, community, "Talks for another evening", event=other_slug)
    path = {c.id: f"/g/ours/proposals/{c.slug}" for c in (everyone, of_series, of_event, of_other)}

    home = client.get("/g/ours").text
    assert "Shape the programme" in home
    for call in (everyone, of_series, of_event, of_other):
        assert a_link(home, path[call.id]), call.title
    # The recurring meetup's line offers its own call's form.
    assert NEXT_ONE in home and a_link(home, path[of_series.id] + "/new")

    with db.session() as session:
        occurrence_slug = session.get(Event, occurrences[0].id).slug
    occurrence = client.get(f"/e/{occurrence_slug}").text
    assert a_link(occurrence, path[of_series.id]) and a_link(occurrence, path[everyone.id])
    assert not a_link(occurrence, path[of_event.id])
    assert not a_link(occurrence, path[of_other.id])
    assert NEXT_ONE in occurrence and a_link(occurrence, path[of_series.id] + "/new")

    single = client.get(f"/e/{one_off_slug}").text
    assert a_link(single, path[of_event.id]) and a_link(single, path[everyone.id])
    assert not a_link(single, path[of_series.id]) and not a_link(single, path[of_other.id])
    assert NEXT_ONE not in single  # not a recurring meetup: there is no "next one"


def json_ld(html: str) -> dict:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_an_accepted_proposal_takes_over_a_date_of_a_recurring_meetup(
    client: Client, db: Database, make: Factories
) -> None:
    owner = make.user()
    community = make.community(owner=owner, slug="ours")
    client.login_as(db, owner)
    series, occurrences = series_of(db, community)
    with db.session() as session:
        series_slug = session.get(Series, series.id).slug
        chosen = session.get(Event, occurrences[1].id)
        chosen_slug, starts_at, ends_at = chosen.slug, chosen.starts_at, chosen.ends_at
    call = call_of(db, community, "Topics for Thursdays", series=series_slug)
    proposal = published(db, call, 1, title=EVIL, kind="meetup", body="Sing **together**.")
    fan = proven(db, community.id, "fan@example.org")
    with db.transaction() as session:
        follows.follow(
            session, proposal_subject(session.get(Proposal, proposal.id)), fan, locale="en"
        )
    base = f"/manage/ours/proposals/{call.slug}/1"
    refused = client.submit(
        f"{base}/event", {"occurrence": chosen_slug, "title": EVIL, "description": "x"}
    )
    assert refused.status_code == 400  # not accepted yet
    assert load(db, proposal).became_event_id is None
    with db.transaction() as session:
        ProposalService(session).answer(load(db, proposal), "accepted", publish=True)

    # The form is prefilled from the proposal, with the date's own time kept.
    form = client.get(f"{base}/event", params={"occurrence": chosen_slug})
    assert form.status_code == 200
    assert 'value="Choirs &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"' in (
        form.text
    )
    assert "<script>alert(1)" not in form.text
    done = client.submit(
        f"{base}/event",
        {"occurrence": chosen_slug, "title": EVIL, "description": "Sing **together**."},
    )
    assert done.status_code == 303, done.text

    with db.session() as session:
        event = session.get(Event, occurrences[1].id)
        assert (event.title, event.series_id) == (EVIL, series.id)
        assert (event.starts_at, event.ends_at) == (starts_at, ends_at)  # the date stays
        new_slug = event.slug
        told = set(
            session.scalars(
                select(OutboxMessage.to_address).where(OutboxMessage.kind == "proposal_became")
            )
        )
    assert told == {"proposer1@example.org", "fan@example.org"}
    assert load(db, proposal).became_event_id == occurrences[1].id
    # The other dates of the series are untouched.
    with db.session() as session:
        assert session.get(Event, occurrences[0].id).title == "Open Thursdays"

    # The public proposal links to it; the event's JSON-LD carries the title, escaped.
    public = client.get(f"/g/ours/proposals/{call.slug}/1").text
    assert a_link(public, f"/e/{new_slug}")
    assert "<script>alert(1)" not in public
    client.cookies.clear()
    page = client.get(f"/e/{new_slug}", follow_redirects=True)
    assert page.status_code == 200
    assert "</script><script>alert(1)" not in page.text
    assert json_ld(page.text)["name"] == EVIL

    # It became something once: a second time is refused.
    client.login_as(db, owner)
    again = client.submit(
        f"{base}/event",
        {"occurrence": occurrences[2].slug if len(occurrences) > 2 else chosen_slug,
         "title": "x", "description": "x"},
    )  # fmt: skip
    assert again.status_code == 400


def test_a_public_answer_reads_in_the_visitors_language_and_a_private_one_not_at_all(
    client: Client, db: Database, make: Factories
) -> None:
    community = make.community(slug="ours")
    call = call_of(db, community, "Topics")
    declined, kept = published(db, call, 1), published(db, call, 2)
    with db.transaction() as session:
        service = ProposalService(session)
        service.answer(load(db, declined), "declined", "no_room", "Next season!", publish=True)
        service.answer(load(db, kept), "accepted", "", "Kept for now.", publish=False)
    url = f"/g/ours/proposals/{call.slug}"
    english = client.get(f"{url}/1", headers={"accept-language": "en-GB,en;q=0.9"}).text
    french = client.get(f"{url}/1", headers={"accept-language": "fr-FR,fr;q=0.9"}).text
    assert "No room in the programme" in english and "Declined" in english
    assert "Plus de place au programme" in french and "Refusé" in french
    assert "No room in the programme" not in french
    for page in (english, french):
        assert "Next season!" in page
    # The answer kept private is nowhere public yet: not its words, not its status.
    private = client.get(f"{url}/2", headers={"accept-language": "en-GB"}).text
    assert "Kept for now." not in private and "Accepted" not in private
    with db.transaction() as session:
        ProposalService(session).publish_answers(session.get(ProposalCall, call.id))
    published_now = client.get(f"{url}/2", headers={"accept-language": "en-GB"}).text
    assert "Kept for now." in published_now and "Accepted" in published_now


def test_supporter_counts_show_publicly_only_when_the_call_says_so(
    client: Client, db: Database, make: Factories
) -> None:
    owner = make.user()
    community = make.community(owner=owner, slug="ours")
    hidden = call_of(db, community, "Counts kept", public_counts="")
    shown = call_of(db, community, "Counts shown")
    for call in (hidden, shown):
        proposal = published(db, call, f"{call.slug}", email=f"author-{call.slug}@example.org")
        for n in range(2):
            fan = proven(db, community.id, f"fan{n}@example.org")
            with db.transaction() as session:
                SupportService(session).support(session.get(Proposal, proposal.id), fan)
    en = {"accept-language": "en-GB"}
    for call, public in ((hidden, False), (shown, True)):
        url = f"/g/ours/proposals/{call.slug}"
        for page in (client.get(url, headers=en).text, client.get(f"{url}/1", headers=en).text):
            assert ("2 supports" in page) is public, (call.title, public)
        # The proposer always sees them, on the private page.
        private = link_in_outbox(db, f"author-{call.slug}@example.org", "/p/")
        assert "2 supports" in client.get(private, headers=en).text
    # And the organisers, in their list.
    client.login_as(db, owner)
    listed = client.get(f"/manage/ours/proposals/{hidden.slug}", headers=en).text
    assert re.search(r"<td>2\b", listed)
