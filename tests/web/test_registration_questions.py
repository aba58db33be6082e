"""The organiser's registration questions over HTTP: the editor (add, edit, remove,
reorder, with and without htmx, who may use it), the questions on the public form (every
kind, errors next to the field, typed values kept, nothing stored on error), and the answers
in the attendee list, the CSV export and the registrant's data download."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from events.database import Database
from events.models import Event, Registration, Role
from events.services.communities import CommunityService
from events.services.events import EventInput, EventService
from events.services.questions import Question, QuestionInput, QuestionService, form_questions
from tests.factories import Factories
from tests.web.conftest import Client, Organiser

HTMX = {"HX-Request": "true"}
EVENT = {
    "title": "Pitch night",
    "starts_local": "2030-03-07T19:00",
    "ends_local": "2030-03-07T22:00",
    "timezone": "Europe/Paris",
    "capacity": "30",
}


def open_event(db: Database, community_slug: str = "coloc") -> Event:
    with db.transaction() as session:
        community = CommunityService(session).by_slug(community_slug)
        service = EventService(session)
        event = service.create(community, EventInput(**EVENT))
        service.publish(event)
    return event


def editor(event: Event, community: str = "coloc") -> str:
    return f"/manage/{community}/events/{event.slug}/questions"


def questions(db: Database, event: Event) -> list[Question]:
    with db.session() as session:
        found = session.get(Event, event.id)
        assert found is not None
        return form_questions(found)


def add(db: Database, event: Event, **values: Any) -> Question:
    with db.transaction() as session:
        found = session.get(Event, event.id)
        return QuestionService(session).add(found, QuestionInput(**values))


def row_count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Registration)) or 0


def field_error(text: str, name: str) -> str:
    found = re.search(rf'<p class="error" id="f-{name}-error">([^<]*)</p>', text)
    assert found is not None, f"no error slot for {name}"
    return found.group(1)


def form_key(client: Client, slug: str) -> str:
    page = client.get(f"/e/{slug}")
    assert page.status_code == 200, page.text
    found = re.search(r'name="request_key" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def register(client: Client, event: Event, n: int = 1, **fields: Any):
    data = {
        "name": f"Person {n}",
        "email": f"person{n}@example.org",
        "consent": "on",
        "request_key": form_key(client, event.slug),
        **fields,
    }
    return client.submit(f"/e/{event.slug}/register", data)


def four_questions(db: Database, event: Event) -> tuple[Question, Question, Question, Question]:
    diet = add(db, event, kind="single_choice", label="Diet", options="Veg\nAny", required="on")
    topics = add(db, event, kind="multiple_choice", label="Topics", options="Arts\nHousing")
    about = add(db, event, kind="long_text", label="About you", help="A few words")
    rules = add(db, event, kind="checkbox", label="I accept the house rules", required="on")
    return diet, topics, about, rules


# -- the editor ---------------------------------------------------------------------------
def test_the_event_page_of_the_organiser_links_to_the_editor(
    organiser: Organiser, db: Database
) -> None:
    event = open_event(db)
    page = organiser.client.get(f"/manage/coloc/events/{event.slug}")
    assert f'href="/manage/coloc/events/{event.slug}/questions"' in page.text


def test_add_edit_move_and_remove_without_javascript(organiser: Organiser, db: Database) -> None:
    client, event = organiser.client, open_event(db)
    page = client.get(editor(event))
    assert page.status_code == 200
    assert "No questions yet" in page.text

    response = client.submit(
        editor(event),
        {"kind": "single_choice", "label": "Diet", "options": "Veg\r\nAny", "required": "on"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == editor(event)
    client.submit(editor(event), {"kind": "short_text", "label": "Job"})
    diet, job = questions(db, event)
    assert (diet.label, diet.options, diet.required) == ("Diet", ("Veg", "Any"), True)
    page = client.get(editor(event))
    assert "Question “Job” added." in page.text
    assert "Diet" in page.text and "Veg" in page.text

    response = client.submit(
        f"{editor(event)}/edit",
        {"question": diet.id, "kind": "multiple_choice", "label": "Food", "options": "A\nB"},
    )
    assert response.status_code == 303
    response = client.submit(f"{editor(event)}/move", {"question": job.id, "direction": "up"})
    assert response.status_code == 303
    assert [(q.label, q.kind.value) for q in questions(db, event)] == [
        ("Job", "short_text"),
        ("Food", "multiple_choice"),
    ]

    response = client.submit(f"{editor(event)}/delete", {"question": job.id})
    assert response.status_code == 303
    assert [q.label for q in questions(db, event)] == ["Food"]


def test_the_editor_swaps_itself_with_htmx(organiser: Organiser, db: Database) -> None:
    client, event = organiser.client, open_event(db)
    response = client.submit(
        editor(event), {"kind": "short_text", "label": "Company"}, headers=HTMX
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="questions"')
    assert "<html" not in response.text
    assert "Question “Company” added." in response.text
    company = questions(db, event)[0]
    response = client.submit(f"{editor(event)}/delete", {"question": company.id}, headers=HTMX)
    assert response.status_code == 200
    assert 'hx-confirm="Remove the question' not in response.text  # nothing left to remove
    assert questions(db, event) == []


def test_errors_show_next_to_the_fields_and_keep_what_was_typed(
    organiser: Organiser, db: Database
) -> None:
    client, event = organiser.client, open_event(db)
    response = client.submit(
        editor(event), {"kind": "single_choice", "label": "Lunch <b>", "options": "Fish\nfish"}
    )
    assert response.status_code == 400
    errors = re.search(r'id="q-new-options-error">([^<]*)<', response.text)
    assert errors is not None and errors.group(1)
    assert 'value="Lunch &lt;b&gt;"' in response.text  # kept, and escaped
    assert "Fish\nfish</textarea>" in response.text
    assert questions(db, event) == []

    response = client.submit(editor(event), {"kind": "", "label": ""}, headers=HTMX)
    assert response.status_code == 400
    assert re.search(r'id="q-new-kind-error">This field is required\.<', response.text)
    assert re.search(r'id="q-new-label-error">This field is required\.<', response.text)

    job = add(db, event, kind="short_text", label="Job")
    response = client.submit(
        f"{editor(event)}/edit", {"question": job.id, "kind": "short_text", "label": "x\x00y"}
    )
    assert response.status_code == 400
    found = re.search(rf'id="q-{job.id}-label-error">([^<]*)<', response.text)
    assert found is not None
    assert found.group(1) == "This contains characters that are not allowed."
    assert questions(db, event)[0].label == "Job"


def test_an_unknown_question_is_a_message_not_an_error_page(
    organiser: Organiser, db: Database
) -> None:
    client, event = organiser.client, open_event(db)
    for action in ("edit", "delete", "move"):
        response = client.submit(f"{editor(event)}/{action}", {"question": "gone1"})
        assert response.status_code == 303
    page = client.get(editor(event))
    assert "This question no longer exists" in page.text


@pytest.mark.parametrize("path", ["", "/edit", "/delete", "/move"])
def test_another_communitys_organiser_gets_404(
    client: Client, make: Factories, db: Database, path: str
) -> None:
    make.community(owner=make.user(), slug="coloc")
    event = open_event(db)
    job = add(db, event, kind="short_text", label="Job")
    stranger = make.user()
    make.community(owner=stranger, slug="theirs")
    client.login_as(db, stranger)
    assert client.get(editor(event)).status_code == 404
    # Not even through their own community's address.
    assert client.get(editor(event, "theirs")).status_code == 404
    data = {"question": job.id, "kind": "short_text", "label": "Hacked", "direction": "up"}
    assert client.submit(editor(event) + path, data).status_code == 404
    assert client.submit(editor(event, "theirs") + path, data).status_code == 404
    assert [q.label for q in questions(db, event)] == ["Job"]


def test_door_volunteers_may_not_edit_questions(
    client: Client, make: Factories, db: Database
) -> None:
    community = make.community(owner=make.user(), slug="coloc")
    event = open_event(db)
    client.login_as(db, make.member(community, role=Role.DOOR))
    assert client.get(editor(event)).status_code == 403
    data = {"kind": "short_text", "label": "Sneaky"}
    assert client.submit(editor(event), data).status_code == 403
    assert questions(db, event) == []


def test_anonymous_visitors_are_sent_to_log_in(
    client: Client, make: Factories, db: Database
) -> None:
    make.community(owner=make.user(), slug="coloc")
    event = open_event(db)
    response = client.get(editor(event), follow_redirects=False)
    assert response.status_code in {303, 401}


# -- the public form ------------------------------------------------------------------------
def test_the_event_page_asks_every_kind_of_question(
    client: Client, make: Factories, db: Database
) -> None:
    make.community(owner=make.user(), slug="coloc")
    event = open_event(db)
    page = client.get(f"/e/{event.slug}")  # cached before the questions exist
    assert "Diet" not in page.text
    diet, topics, about, rules = four_questions(db, event)
    job = add(db, event, kind="short_text", label="Job")

    page = client.get(f"/e/{event.slug}").text
    # The cached form was renewed by the change, with every kind drawn properly.
    assert re.search(r'<legend>Diet <span aria-hidden="true">\*</span>', page)
    assert len(re.findall(rf'name="{diet.field_name}" type="radio"', page)) == 2
    assert len(re.findall(rf'name="{topics.field_name}" type="checkbox"', page)) == 2
    assert f'<textarea id="f-{about.field_name}" name="{about.field_name}"' in page
    assert "A few words" in page
    assert f'id="f-{rules.field_name}" name="{rules.field_name}" type="checkbox"' in page
    assert f'id="f-{job.field_name}" name="{job.field_name}" type="text"' in page
    # In the editor's order.
    assert page.index("Diet") < page.index("Topics") < page.index("About you")


def test_a_missing_required_answer_is_shown_next_to_the_field_and_nothing_is_stored(
    client: Client, make: Factories, db: Database
) -> None:
    make.community(owner=make.user(), slug="coloc")
    event = open_event(db)
    diet, topics, about, rules = four_questions(db, event)
    response = register(
        client,
        event,
        **{topics.field_name: ["Housing", "Arts"], about.field_name: "Hello\nthere"},
    )
    assert response.status_code == 400
    # Each says what to do (issue 14, item 11), and the summary at the top links to it.
    assert field_error(response.text, diet.field_name) == "Choose one answer to register."
    assert field_error(response.text, rules.field_name) == "Tick this box to register."
    assert field_error(response.text, about.field_name) == ""
    assert (
        f'<li><a href="#f-{rules.field_name}">I accept the house rules</a>: '
        "Tick this box to register.</li>"
    ) in response.text
    # What was typed is still there.
    assert re.search(
        rf'name="{topics.field_name}" type="checkbox" value="Arts" checked', response.text
    )
    assert re.search(
        rf'name="{topics.field_name}" type="checkbox" value="Housing" checked', response.text
    )
    assert "Hello\nthere</textarea>" in response.text
    assert 'value="Person 1"' in response.text
    assert row_count(db) == 0

    # The same with htmx: the section comes back with the messages, status 400.
    response = client.submit(
        f"/e/{event.slug}/register",
        {"name": "Ada", "email": "ada@example.org", "consent": "on", diet.field_name: "Beef"},
        headers=HTMX,
    )
    assert response.status_code == 400
    assert response.text.lstrip().startswith('<section id="registration"')
    assert field_error(response.text, diet.field_name) == "Choose one of the options offered."
    assert row_count(db) == 0


def test_answers_are_stored(client: Client, make: Factories, db: Database) -> None:
    make.community(owner=make.user(), slug="coloc")
    event = open_event(db)
    diet, topics, about, rules = four_questions(db, event)
    response = register(
        client,
        event,
        **{
            diet.field_name: "Veg",
            topics.field_name: ["Housing", "Arts"],
            about.field_name: "  Painter  ",
            rules.field_name: "on",
            "q_forged": "ignored",
        },
    )
    assert response.status_code == 303, response.text
    with db.session() as session:
        registration = session.scalars(select(Registration)).one()
        assert registration.answers == {
            diet.id: "Veg",
            topics.id: ["Arts", "Housing"],
            about.id: "Painter",
            rules.id: True,
        }
    private = client.get(response.headers["location"])
    assert "Your answers" in private.text and "Painter" in private.text


# -- the organiser sees the answers ------------------------------------------------------------
def registered_with_answers(client: Client, db: Database, event: Event) -> tuple[Question, ...]:
    diet, topics, about, rules = four_questions(db, event)
    response = register(
        client,
        event,
        **{
            diet.field_name: "Veg",
            topics.field_name: ["Arts", "Housing"],
            about.field_name: '=HYPERLINK("http://evil")',
            rules.field_name: "on",
        },
    )
    assert response.status_code == 303, response.text
    return diet, topics, about, rules


def test_the_attendee_list_shows_the_answers(organiser: Organiser, db: Database) -> None:
    event = open_event(db)
    anonymous = Client(app=organiser.client.app, base_url=str(organiser.client.base_url))
    with anonymous:
        registered_with_answers(anonymous, db, event)
    page = organiser.client.get(f"/manage/coloc/events/{event.slug}/attendees").text
    details = page[page.index('class="answers-row"') :]
    assert "<dt>Diet</dt>" in details and "Veg" in details
    assert "Arts, Housing" in details
    assert "<dt>I accept the house rules</dt>" in details and "Yes" in details
    assert "=HYPERLINK(&#34;http://evil&#34;)" in details or "=HYPERLINK(&quot;" in details


def test_the_csv_has_one_column_per_question(organiser: Organiser, db: Database) -> None:
    event = open_event(db)
    anonymous = Client(app=organiser.client.app, base_url=str(organiser.client.base_url))
    with anonymous:
        _diet, topics, _about, _rules = registered_with_answers(anonymous, db, event)
        # A question removed after people answered: still a column, marked.
        with db.transaction() as session:
            QuestionService(session).remove(session.get(Event, event.id), topics.id)
        late = add(db, event, kind="short_text", label="Added later")
    response = organiser.client.get(f"/manage/coloc/events/{event.slug}/attendees.csv")
    assert response.status_code == 200
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, row = table[0], table[1]
    assert header[7:] == [
        "Diet",
        "About you",
        "I accept the house rules",
        late.label,
        "Topics (question removed)",
    ]
    answers = dict(zip(header, row, strict=True))
    assert answers["Diet"] == "Veg"
    assert answers["Topics (question removed)"] == "Arts, Housing"
    assert answers["About you"] == '\'=HYPERLINK("http://evil")'  # neutralised
    assert answers["I accept the house rules"] == "yes"
    assert answers["Added later"] == ""
    # The French spreadsheet variant has them too.
    response = organiser.client.get(f"/manage/coloc/events/{event.slug}/attendees-fr.csv")
    header = response.content.decode("utf-8-sig").splitlines()[0].split(";")
    assert header[-1] == "Topics (question removed)"


def test_the_data_download_has_the_answers_with_their_questions(
    client: Client, make: Factories, db: Database
) -> None:
    make.community(owner=make.user(), slug="coloc")
    event = open_event(db)
    diet, _topics, about, rules = four_questions(db, event)
    response = register(
        client, event, **{diet.field_name: "Any", rules.field_name: "on", about.field_name: "Hi"}
    )
    private = response.headers["location"]
    with db.transaction() as session:
        QuestionService(session).remove(session.get(Event, event.id), about.id)
    data = client.get(f"{private}/data.json").json()
    assert data["answers"] == [
        {"question": "Diet", "answer": "Any", "still_asked": True},
        {"question": "I accept the house rules", "answer": True, "still_asked": True},
        {"question": "About you", "answer": "Hi", "still_asked": False},
    ]
    # Deleting one's data deletes the answers.
    client.submit(f"{private}/delete", {"confirm": "yes"})
    with db.session() as session:
        assert session.scalars(select(Registration)).one().answers == {}


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("short_text", "", "Answer this question to register."),
        ("long_text", "", "Answer this question to register."),
        ("single_choice", "A\nB", "Choose one answer to register."),
        ("multiple_choice", "A\nB", "Choose at least one answer to register."),
        ("checkbox", "", "Tick this box to register."),
    ],
)
def test_each_kind_of_required_question_says_what_to_do(
    client: Client, make: Factories, db: Database, kind: str, options: str, message: str
) -> None:
    make.community(owner=make.user(), slug="coloc")
    event = open_event(db)
    question = add(db, event, kind=kind, label="Asked", options=options, required="on")
    response = register(client, event)
    assert response.status_code == 400
    assert field_error(response.text, question.field_name) == message
