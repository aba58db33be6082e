"""The listings' items kept for every reader (web/listing_faces.py): each page puts in
its own reader's "new" marks, reasons, token and CSRF field, and nothing of another's."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from uuid import uuid4

from jinja2 import Environment
from litestar import Litestar
from markupsafe import Markup

from events.services.exchange_categories import FieldKind
from events.services.exchange_matching import ListingView, Reason, Scored
from web.listing_faces import listing_items

NOW = datetime(2030, 9, 1, tzinfo=UTC)


def environment(app: Litestar) -> Environment:
    engine = app.template_engine
    assert engine is not None
    env: Environment = engine.engine
    return env


def listing(text: str) -> ListingView:
    return ListingView(
        id=uuid4(),
        participant_id=uuid4(),
        category="nope",
        side="offer",
        text=text,
        details={},
        display_name="Ada",
        created_at=NOW,
        updated_at=NOW,
    )


def test_each_reader_gets_their_own_marks_reasons_token_and_csrf_field(app: Litestar) -> None:
    env = environment(app)
    one, two = listing("A room <b>sunny</b>"), listing("Another room")
    why = (Reason("area", FieldKind.AREA, "Area", ("belleville",)),)
    first = listing_items(
        env,
        [Scored(one, 1, why, new=True), Scored(two, 0, ())],
        {},
        "tok-first",
        Markup('<input name="_csrf_token" value="csrf-first">'),
    )
    second = listing_items(
        env,
        [Scored(one, 0, ()), Scored(two, 0, (), new=True)],
        {},
        "tok-second",
        Markup('<input name="_csrf_token" value="csrf-second">'),
    )
    for page, token, other in ((first, "tok-first", "second"), (second, "tok-second", "first")):
        assert "\x00" not in page and other not in page
        assert page.count(f"/r/{token}/offers/contact") == 2
        assert page.count("A room &lt;b&gt;sunny&lt;/b&gt;") == 1
        assert page.count('class="badge"') == 1
    first_items = first.split("</li>")
    assert 'class="badge"' in first_items[0] and "belleville" in first_items[0]
    second_items = second.split("</li>")
    assert 'class="badge"' in second_items[1] and "belleville" not in second
    # A visitor (no token): the listings, no actions.
    seen = listing_items(env, [Scored(one, 0, ())], {}, None, Markup(""))
    assert "A room" in seen and "/offers/contact" not in seen and "<form" not in seen


def test_kept_items_are_ascii_and_read_the_same_in_a_browser(app: Litestar) -> None:
    # A page that is all ASCII is encoded by a plain copy (the module docstring); the
    # characters written as references must read back as they were written.
    env = environment(app)
    text = "Chambre lumineuse – 600 € “charges comprises” 🙂 <b>"
    page = listing_items(env, [Scored(listing(text), 0, ())], {}, "tok", Markup(""))
    assert page.isascii()
    assert "&#8364;" in page and "&lt;b&gt;" in page
    assert html.unescape(page).count(text) == 1
