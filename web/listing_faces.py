"""The part of an offers & needs listing that is the same for every reader, rendered once.

A board page shows 30 listings to each of 500 attendees; what a listing says (its side,
its author's shown name, its text and fields) depends only on the listing's version, the
category's definition and the language. :func:`listing_face` renders it once per
(listing, ``updated_at``, shown name, category, language) with the macros of
offers/_macros.html, and the page adds what is the reader's own around it (the "new" mark,
the forms with their token and CSRF field). The reasons line is the reader's, but it
depends only on the reasons (and language): :func:`listing_reasons` renders each once.

The forms are the reader's only through their private token and CSRF field: a listing's
actions (interested, report, block), the post form of each category and the edit form of
each of one's own listings are rendered once with stand-ins for those two
(:func:`listing_actions`, :func:`post_form`, :func:`edit_form`), which each page then
replaces with its reader's own. A form showing a reader's input or errors (the one just
sent back with a mistake) is rendered in full by the page instead.

Safety: the parts are Jinja's own autoescaped output (``Markup`` from a macro of the
autoescaping environment), never built from strings here. The stand-ins contain NUL,
which no input can bring into a page (web/forms.py refuses it in every form, and
events/validation.py any control character), so no text inside a part can pose as one.
Bounded: each kind is cleared when full.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, pass_context, pass_environment
from jinja2.runtime import Context
from markupsafe import Markup, escape

from events.services.exchange_categories import Category, FieldKind, field_name, form_values
from events.services.exchange_matching import ListingView, Scored
from web.i18n import current_locale, gettext


@dataclass(frozen=True)
class Face:
    #: Inside the listing's head line: its side and its author.
    head: Markup
    #: After the head line: the text and the fields.
    body: Markup


_FACES: dict[tuple[Any, ...], Face] = {}
FACES_KEPT = 4096


def _macros(env: Environment) -> Any:
    return env.get_template("offers/_macros.html").make_module(
        {"kinds": FieldKind, "field_name": field_name, "csrf_input": Markup(CSRF_MARK)}
    )


@pass_environment
def listing_face(env: Environment, listing: ListingView, category: Category | None) -> Face:
    """``listing``'s face as ``category`` shows it in the current language (see the module
    docstring)."""
    key = (listing.id, listing.updated_at, listing.display_name, category, current_locale.get())
    face = _FACES.get(key)
    if face is None:
        macros = _macros(env)
        face = Face(
            head=macros.listing_head(category, listing), body=macros.listing_body(category, listing)
        )
        if len(_FACES) >= FACES_KEPT:
            _FACES.clear()
        _FACES[key] = face
    return face


#: The reasons lines rendered lately, by reasons, score and language: a line depends on the
#: reader only through the reasons their listings give (events/services/exchange_matching.py
#: keeps those per pair of listing versions), and many readers share them.
_REASONS: dict[tuple[Any, ...], Markup] = {}


@pass_environment
def listing_reasons(env: Environment, scored: Scored) -> Markup:
    """The line saying why ``scored`` matches, in the current language ("" when none)."""
    if not scored.reasons:
        return Markup("")
    key = (scored.reasons, scored.score, current_locale.get())
    line = _REASONS.get(key)
    if line is None:
        line = _macros(env).reasons_line(scored)
        if len(_REASONS) >= FACES_KEPT:
            _REASONS.clear()
        _REASONS[key] = line
    return line


# -- the forms, with the reader's token and CSRF field put in ---------------------------------
#: Stand-ins for the reader's private token and CSRF field (see the module docstring).
TOKEN_MARK = "\x00token\x00"
CSRF_MARK = "\x00csrf\x00"
_FORMS: dict[tuple[Any, ...], str] = {}


def _for_reader(context: Context, key: tuple[Any, ...], render: Callable[[Any], Markup]) -> Markup:
    """The part kept under ``key`` (rendered by ``render(macros)`` the first time), with the
    token and CSRF field of the page's reader."""
    key = (*key, current_locale.get())
    part = _FORMS.get(key)
    if part is None:
        part = str(render(_macros(context.environment)))
        if len(_FORMS) >= FACES_KEPT:
            _FORMS.clear()
        _FORMS[key] = part
    token = str(escape(context["token"]))
    return Markup(part.replace(TOKEN_MARK, token).replace(CSRF_MARK, str(context["csrf_input"])))


@pass_context
def listing_actions(context: Context, listing: ListingView) -> Markup:
    """ "I'm interested", report and block for ``listing``, its message box empty."""
    return _for_reader(
        context,
        ("actions", listing.id, listing.participant_id),
        lambda macros: macros.actions_of(listing, TOKEN_MARK),
    )


@pass_context
def post_form(context: Context, category: Category) -> Markup:
    """The empty form posting a listing in ``category``."""
    return _for_reader(
        context,
        ("post", category),
        lambda macros: macros.listing_form(
            category,
            {},
            {},
            f"/r/{TOKEN_MARK}/offers/listings",
            f"post-{category.id}",
            gettext("Post"),
        ),
    )


@pass_context
def edit_form(context: Context, category: Category, listing: ListingView) -> Markup:
    """The form editing the reader's own ``listing``, filled with what it says now."""
    return _for_reader(
        context,
        ("edit", listing.id, listing.updated_at, category),
        lambda macros: macros.listing_form(
            category,
            dict(form_values(category, listing.details), side=listing.side, text=listing.text),
            {},
            f"/r/{TOKEN_MARK}/offers/listings/edit",
            f"edit-{listing.id}",
            gettext("Save"),
            listing.id,
        ),
    )
