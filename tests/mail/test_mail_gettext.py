"""The mail templates' ``_``, ``gettext`` and ``ngettext`` (events/mail/render.py): Jinja's
new-style callables without the template's context, translating as before, escaping what
goes into a translated string in HTML and leaving text as written."""

from __future__ import annotations

from typing import Any

import pytest

from events.mail.render import environment


def _render(locale: str, source: str, **context: object) -> str:
    return environment(locale).from_string(source).render(context)


def _escaping(source: str) -> str:
    """``source`` as in an ``.html`` mail template: autoescaped."""
    return "{% autoescape true %}" + source + "{% endautoescape %}"


def _plain(source: str) -> str:
    """``source`` as in a ``.txt`` mail template: not escaped."""
    return "{% autoescape false %}" + source + "{% endautoescape %}"


@pytest.mark.parametrize("name", ["_", "gettext"])
def test_html_escapes_the_variables_of_a_translation_and_text_keeps_them(name: str) -> None:
    source = name + '("Hello %(name)s,", name=who)'
    source = "{{ " + source + " }}"
    assert _render("en", _escaping(source), who="<b>A&B</b>") == "Hello &lt;b&gt;A&amp;B&lt;/b&gt;,"
    assert _render("en", _plain(source), who="<b>A&B</b>") == "Hello <b>A&B</b>,"


def test_plurals_take_the_count_as_num_translate_and_escape() -> None:
    source = (
        '{{ ngettext("You are bringing %(num)s guest.", "You are bringing %(num)s guests.", n) }}'
    )
    assert _render("en", _plain(source), n=1) == "You are bringing 1 guest."
    assert _render("en", _plain(source), n=3) == "You are bringing 3 guests."
    assert _render("fr", _plain(source), n=3) == "Vous venez avec 3 accompagnants."
    named = '{{ ngettext("%(num)s seat for %(who)s", "%(num)s seats for %(who)s", 2, who=w) }}'
    assert _render("en", _escaping(named), w="<i>") == "2 seats for &lt;i&gt;"
    assert _render("en", _plain(named), w="<i>") == "2 seats for <i>"


def test_a_translation_is_always_a_format_string() -> None:
    # As Jinja's new-style gettext: "%%" is a literal percent sign, variables or not.
    assert _render("en", _plain('{{ _("100%% sure") }}')) == "100% sure"
    assert _render("en", _escaping('{{ _("100%% sure") }}')) == "100% sure"


def test_the_mail_templates_get_the_callables_without_context() -> None:
    env = environment("fr")
    for name in ("_", "gettext", "ngettext"):
        # Jinja's own pass the whole context ("context"); these its evaluation's only.
        callable_: Any = env.globals[name]
        assert callable_.jinja_pass_arg.name == "eval_context"
        assert callable_.__name__ in {"gettext", "ngettext"}
    assert env.globals["_"] is env.globals["gettext"]
