"""Mail bodies from Jinja templates: ``<kind>.txt`` (plain text) and ``<kind>.html``.

One environment per language, with that language's gettext installed (``_()`` as on the
web pages, new-style: ``_("Hello %(name)s", name=x)``). HTML templates are autoescaped,
including the values substituted into translated strings; text templates are not escaped
(a ``<`` in a name is just a character there).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_eval_context,
    select_autoescape,
)
from jinja2.nodes import EvalContext
from markupsafe import Markup

from events.mail.i18n import MAIL_LOCALES, translations

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=len(MAIL_LOCALES) + 1)  # one per language (and the fallback)
def environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates ship with the code: no stat() per mail
    )
    # Jinja's i18n extension installs "newstyle" callables that take the template's
    # context (and its ``_`` looks ``gettext`` up in it on every call): a fifth of a mail's
    # rendering. The mail templates only call them (no ``{% trans %}`` blocks), and these
    # need only to know whether the template escapes (HTML, not text).
    gettext, ngettext = _newstyle(translations(locale))
    env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext)
    return env


def _newstyle(catalogue: NullTranslations) -> tuple[Callable[..., str], Callable[..., str]]:
    """Jinja's new-style ``gettext`` and ``ngettext`` for ``catalogue``, taking the
    evaluation context only: the translation is markup in an escaping template, so the
    variables are escaped as they go in, and plain text elsewhere."""

    @pass_eval_context
    def gettext(eval_ctx: EvalContext, message: str, /, **variables: Any) -> str:
        text = catalogue.gettext(message)
        return (Markup(text) if eval_ctx.autoescape else text) % variables

    @pass_eval_context
    def ngettext(
        eval_ctx: EvalContext, singular: str, plural: str, num: int, /, **variables: Any
    ) -> str:
        variables.setdefault("num", num)
        text = catalogue.ngettext(singular, plural, num)
        return (Markup(text) if eval_ctx.autoescape else text) % variables

    return gettext, ngettext


def event_details(locale: str, event: dict[str, Any]) -> tuple[str, Markup]:
    """The event's details block (title, when, where, links) as text and HTML: the same
    in every mail about the event, so a batch renders it once per language."""
    env = environment(locale)
    text = env.get_template("_event.txt").render(event=event)
    html = env.get_template("_macros.html").module.details(event)  # type: ignore[attr-defined]
    return text, Markup(html)


def render(kind: str, locale: str, context: dict[str, Any]) -> tuple[str, str]:
    """The text and HTML bodies of a ``kind`` mail in ``locale``."""
    env = environment(locale)
    text = env.get_template(f"{kind}.txt").render(context)
    html = env.get_template(f"{kind}.html").render(context)
    return _tidy(text), html


def _tidy(text: str) -> str:
    """No trailing spaces, at most one blank line in a row, one final newline."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy) + "\n"
