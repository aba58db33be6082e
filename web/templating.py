"""The Jinja environment: gettext, locale-aware date filters, a few globals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from web import i18n
from web.messages import role_label, status_label, topic_kind_label
from web.rendering import pop_flashes, session_of

TEMPLATE_DIR = Path(__file__).parent / "templates"
HTMX_FILE = "vendor/htmx-2.0.10.min.js"


def _configure(engine: JinjaTemplateEngine) -> None:
    env: Environment = engine.engine
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.trim_blocks = True
    env.lstrip_blocks = True
    env.filters.update(
        datetime=i18n.format_datetime,
        date=i18n.format_date,
        time=i18n.format_time,
    )
    globals_: dict[str, Any] = {
        "current_locale": i18n.current_locale.get,
        "locale_names": i18n.LOCALE_NAMES,
        "pop_flashes": pop_flashes,
        "session_of": session_of,
        "htmx_file": HTMX_FILE,
        "role_label": role_label,
        "status_label": status_label,
        "topic_kind_label": topic_kind_label,
    }
    env.globals.update(globals_)


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(
        directory=TEMPLATE_DIR, engine=JinjaTemplateEngine, engine_callback=_configure
    )
