"""The Jinja environment: gettext, locale-aware date filters, a few globals."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from jinja2 import Environment
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from markupsafe import Markup

from events.private_links import mask_private_links
from web import i18n, messages
from web.listing_faces import (
    edit_form,
    filter_fields,
    listing_details,
    listing_items,
    post_form,
)
from web.messages import role_label, status_label, topic_kind_label, volunteer_role_name
from web.rendering import pop_flashes, session_of

TEMPLATE_DIR = Path(__file__).parent / "templates"
HTMX_FILE = "vendor/htmx-2.0.10.min.js"


def _template_gettext(message: str, /, **variables: Any) -> Markup:
    """Jinja's "newstyle" ``gettext`` without its context argument (see :func:`_configure`):
    the translation is markup, and each variable is escaped as it goes in."""
    text = i18n.gettext(message)
    if not variables and "%" not in text:  # most calls: nothing to put in, nothing to undo
        return Markup(text)
    return Markup(text) % variables


def _template_ngettext(singular: str, plural: str, num: int, /, **variables: Any) -> Markup:
    """Jinja's "newstyle" ``ngettext`` without its context argument; ``num`` is a variable."""
    variables.setdefault("num", num)
    text = i18n.translations(i18n.current_locale.get()).ngettext(singular, plural, num)
    return Markup(text) % variables


def _configure(engine: JinjaTemplateEngine, *, reload: bool) -> None:
    env: Environment = engine.engine
    # Jinja checks every template file's mtime each time a page renders one (a page with
    # its base, imports and includes: half a dozen stat calls per request). Only a
    # developer editing templates wants that.
    env.auto_reload = reload
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    # The same callables, without the context argument Jinja's own take (``pass_context``)
    # only to read whether autoescaping is on, which it always is here (Litestar's
    # environment, and no template turns it off). A context-taking callable called inside a
    # loop costs a copy of the whole context per call (Jinja's ``Context.derived``), and
    # ``_`` was two such calls: a page of 30 listings spent a fifth of its rendering there.
    env.globals.update(_=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext)
    env.trim_blocks = True
    env.lstrip_blocks = True
    env.filters.update(
        datetime=i18n.format_datetime,
        date=i18n.format_date,
        time=i18n.format_time,
        # Organiser pages showing what was mailed to attendees (the outbox) pass it through
        # this: organisers never see the tokens that act for an attendee.
        mask_private_links=mask_private_links,
    )
    globals_: dict[str, Any] = {
        "current_locale": i18n.current_locale.get,
        "locale_names": i18n.LOCALE_NAMES,
        "pop_flashes": pop_flashes,
        "session_of": session_of,
        "htmx_file": HTMX_FILE,
        "role_label": role_label,
        "status_label": status_label,
        "volunteer_role_name": volunteer_role_name,
        "kind_label": messages.kind_label,
        "proposal_status_label": messages.proposal_status_label,
        "decline_reason_label": messages.decline_reason_label,
        "report_reason_label": messages.report_reason_label,
        "need_label": messages.need_label,
        "language_label": messages.language_label,
        "supporters_label": messages.supporters_label,
        "order_label": messages.order_label,
        "trail_label": messages.trail_label,
        "error_message": messages.error_message,
        "topic_kind_label": topic_kind_label,
        "listing_items": listing_items,
        "post_form": post_form,
        "edit_form": edit_form,
        "filter_fields": filter_fields,
        "listing_details": listing_details,
    }
    env.globals.update(globals_)


def template_config(*, reload: bool = False) -> TemplateConfig[JinjaTemplateEngine]:
    """``reload``: pick up edited templates without a restart (debug mode)."""
    return TemplateConfig(
        directory=TEMPLATE_DIR,
        engine=JinjaTemplateEngine,
        engine_callback=partial(_configure, reload=reload),
    )
