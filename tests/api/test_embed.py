"""Embeddable calendars: upcoming events of a community, tag or venue, themable by query
parameters; only they may be framed (frame-ancestors from the setting); the community page
offers the snippet."""

from __future__ import annotations

from dataclasses import replace

from litestar.testing import TestClient

from events.database import Database
from tests.api.conftest import make_event
from tests.conftest import BASE_URL
from tests.factories import Factories
from tests.web.conftest import Client
from web.app import create_app
from web.settings import Settings


def test_embed_lists_upcoming_events_with_links_to_the_site(
    client: Client, make: Factories, db: Database
) -> None:
    make.community(slug="coloc", name="La Coloc")
    make_event(db, "coloc", title="Pitch night", tags="pitch")
    make_event(db, "coloc", title="Hidden draft", publish=False)
    page = client.get("/embed/g/coloc")
    assert page.status_code == 200
    assert "Pitch night" in page.text and "Hidden draft" not in page.text
    assert f'href="{BASE_URL}/e/pitch-night-2030-03-07"' in page.text
    assert 'target="_blank"' in page.text
    assert "frame-ancestors *" in page.headers["content-security-policy"]
    assert "x-frame-options" not in page.headers
    assert "set-cookie" not in page.headers
    assert client.get("/embed/tags/pitch").status_code == 200
    assert client.get("/embed/g/nobody").status_code == 404


def test_theme_language_accent_and_limit(client: Client, make: Factories, db: Database) -> None:
    make.community(slug="coloc")
    for day in (1, 2, 3):
        make_event(
            db,
            "coloc",
            title=f"Day {day}",
            starts_local=f"2030-03-0{day}T19:00",
            ends_local=f"2030-03-0{day}T21:00",
        )
    page = client.get("/embed/g/coloc?theme=dark&lang=fr&accent=1a7f5a&limit=2")
    assert 'class="embed theme-dark"' in page.text
    assert 'lang="fr"' in page.text and "Tous les événements" in page.text
    assert "/embed/theme.css?accent=1a7f5a" in page.text
    assert page.text.count('<li class="embed-event') == 2
    odd = client.get("/embed/g/coloc?theme=neon&accent=red;x&limit=abc")
    assert odd.status_code == 200 and "theme-light" in odd.text and "theme.css" not in odd.text
    css = client.get("/embed/theme.css?accent=1a7f5a")
    assert css.headers["content-type"].startswith("text/css")
    assert "--accent: #1a7f5a" in css.text


def test_other_pages_still_refuse_framing(client: Client, make: Factories) -> None:
    make.community(slug="coloc")
    page = client.get("/g/coloc")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert "/embed/g/coloc" in page.text  # the snippet to copy


def test_frame_ancestors_come_from_the_setting(
    settings: Settings, db: Database, make: Factories
) -> None:
    make.community(slug="coloc")
    app = create_app(replace(settings, embed_frame_ancestors="https://partner.example"), db)
    with TestClient(app=app, base_url=BASE_URL) as client:
        policy = client.get("/embed/g/coloc").headers["content-security-policy"]
    assert "frame-ancestors https://partner.example" in policy
