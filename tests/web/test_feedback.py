"""Feedback through HTTP: the registrant's form from the private link, refusals on the page,
the organisers' figures and questions, the hosts' links."""

from __future__ import annotations

import re

from sqlalchemy import select

from events.database import Database
from events.models import Event, Feedback, ProgrammeItem
from events.services.programme import ProgrammeInput, ProgrammeService
from events.services.registrations import RegistrationService
from tests.domain.test_feedback import came, end
from tests.domain.test_registrations import person, register
from tests.web.conftest import Client
from tests.web.test_manage_attendees import open_event

BASE = "/manage/coloc/events"


def private_token(db: Database, event: Event) -> str:
    """A registrant let in at the door, and a private link of theirs."""
    registration = came(db, event)
    with db.transaction() as session:
        return RegistrationService(session).add_private_link(registration)


def with_talk(db: Database, event: Event) -> ProgrammeItem:
    with db.transaction() as session:
        return ProgrammeService(session).add(
            session.get(Event, event.id), ProgrammeInput(title="Talk")
        )


def test_the_form_after_the_event(
    coloc_organiser: Client, db: Database, other_client: Client
) -> None:
    event = open_event(db)
    talk = with_talk(db, event)
    token = private_token(db, event)
    early = other_client.get(f"/r/{token}/feedback")
    assert early.status_code == 200 and "opens once the event is over" in early.text
    assert early.headers["cache-control"] == "no-store"
    end(db, event)
    page = other_client.get(f"/r/{token}/feedback")
    assert "The evening overall" in page.text and "Talk" in page.text
    refused = other_client.submit(f"/r/{token}/feedback", {"rating": "9"})
    assert refused.status_code == 400 and "out of the allowed range" in refused.text
    done = other_client.submit(
        f"/r/{token}/feedback",
        {"rating": "5", "keep": "The soup", f"s_{talk.id}": "4"},
    )
    assert done.status_code == 303
    again = other_client.get(f"/r/{token}/feedback")
    assert "You already answered" in again.text and "The soup" in again.text
    with db.session() as session:
        [stored] = session.scalars(select(Feedback)).all()
        assert stored.session_ratings == {str(talk.id): 4}
    # The organisers see it, without a name.
    summary = coloc_organiser.get(f"{BASE}/{event.slug}/feedback")
    assert summary.status_code == 200 and "The soup" in summary.text
    assert "mean 5.0 out of 5" in summary.text and "Person 1" not in summary.text


def test_someone_who_did_not_come_is_told_so(
    coloc_organiser: Client, db: Database, other_client: Client
) -> None:
    event = open_event(db)
    registration = register(db, event, person(9)).registration
    with db.transaction() as session:
        token = RegistrationService(session).add_private_link(registration)
    end(db, event)
    page = other_client.get(f"/r/{token}/feedback")
    assert "this ticket was not checked in" in page.text
    refused = other_client.submit(f"/r/{token}/feedback", {"rating": "3"})
    assert refused.status_code == 409
    with db.session() as session:
        assert session.scalars(select(Feedback)).all() == []


def test_questions_and_host_links(
    coloc_organiser: Client, db: Database, other_client: Client
) -> None:
    event = open_event(db)
    talk = with_talk(db, event)
    here = f"{BASE}/{event.slug}/feedback"
    saved = coloc_organiser.submit(f"{here}/questions", {"questions": "Next topic?\nVenue?"})
    assert saved.status_code == 303
    token = private_token(db, event)
    end(db, event)
    form = other_client.get(f"/r/{token}/feedback")
    assert "Next topic?" in form.text and "Venue?" in form.text
    question = re.search(r'name="(q_\w+)"', form.text).group(1)  # type: ignore[union-attr]
    other_client.submit(
        f"/r/{token}/feedback", {"rating": "4", question: "Housing", f"s_{talk.id}": "2"}
    )
    locked = coloc_organiser.submit(f"{here}/questions", {"questions": "Other?"})
    assert locked.status_code == 409 and "can no longer change" in locked.text
    created = coloc_organiser.submit(f"{here}/host-links", {"item": str(talk.id)})
    assert created.status_code == 200  # shown once, in this very answer
    url = re.search(r'value="(http[^"]+/feedback/session/[^"]+)"', created.text).group(1)  # type: ignore[union-attr]
    host = other_client.get(url.removeprefix("http://testserver.local"))
    assert host.status_code == 200 and "Talk" in host.text and "mean 2.0 out of 5" in host.text
    assert other_client.get("/feedback/session/nope").status_code == 404
