from __future__ import annotations

from datetime import UTC, datetime

from litestar import Litestar

from tests.web.conftest import Client
from web.i18n import current_locale, format_datetime, negotiate_locale


def test_pages_follow_accept_language(client: Client) -> None:
    french = client.get("/login", headers={"accept-language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert french.headers["content-language"] == "fr"
    assert '<html lang="fr">' in french.text
    assert "Se connecter" in french.text
    english = client.get("/login", headers={"accept-language": "en-GB,en;q=0.9"})
    assert "Log in" in english.text and "Se connecter" not in english.text


def test_the_switcher_remembers_the_choice(client: Client) -> None:
    response = client.get("/lang/fr?next=/login", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    page = client.get("/login", headers={"accept-language": "en"})
    assert page.headers["content-language"] == "fr"


def test_the_switcher_ignores_unknown_languages_and_foreign_targets(client: Client) -> None:
    response = client.get("/lang/xx?next=https://evil.example/", follow_redirects=False)
    assert response.headers["location"] == "/"
    assert "lang=" not in response.headers.get("set-cookie", "")


def test_negotiation_prefers_quality_then_order() -> None:
    assert negotiate_locale(None, "de-DE, fr;q=0.8, en;q=0.9") == "en"
    assert negotiate_locale(None, "de-DE, fr;q=0.9, en;q=0.8") == "fr"
    assert negotiate_locale("fr", "en") == "fr"
    assert negotiate_locale("zz", "garbage;q=oops") == "en"


def test_dates_read_naturally_in_both_languages() -> None:
    moment = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    token = current_locale.set("fr")
    try:
        assert format_datetime(moment, "Europe/Paris") == "jeudi 3 décembre 2026, 19:00"
    finally:
        current_locale.reset(token)
    token = current_locale.set("en")
    try:
        assert format_datetime(moment, "Europe/Paris") == "Thursday 3 December 2026, 19:00"
    finally:
        current_locale.reset(token)


def test_templates_translate_and_escape_what_goes_into_a_message(app: Litestar) -> None:
    """The templates' ``_`` and ``ngettext`` (web/templating.py, without Jinja's context
    argument) behave as Jinja's "newstyle" ones: the message translated, each variable
    escaped, the result markup; also inside a loop, where a context-taking one is costly."""
    engine = app.template_engine
    assert engine is not None
    template = engine.engine.from_string(
        '{% for low in lows %}{% set shown = low %}{{ _("from %(low)s", low=shown) }}|'
        "{{ ngettext('%(num)d listing found', '%(num)d listings found', loop.index) }}|"
        "{% endfor %}"
    )
    token = current_locale.set("fr")
    try:
        rendered = template.render(lows=["<b>", "10 & 20"])
    finally:
        current_locale.reset(token)
    assert rendered == (
        "à partir de &lt;b&gt;|1 annonce trouvée|à partir de 10 &amp; 20|2 annonces trouvées|"
    )
