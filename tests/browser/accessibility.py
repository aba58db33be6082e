"""axe-core (the accessibility engine of browser dev tools) run in Chromium on a page.

axe-core is pinned in ``tests/js/package.json`` (``npm ci --prefix tests/js``); without it
the check skips locally and fails when the ``CI`` environment variable is set, like the
ical.js checks (tests/ical_js.py). The page's context must be opened with
``bypass_csp=True``: the app's Content-Security-Policy forbids the injected script.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

AXE = Path(__file__).resolve().parents[1] / "js" / "node_modules" / "axe-core" / "axe.min.js"


def violations(page: Any) -> list[dict[str, Any]]:
    """The WCAG 2 A and AA violations axe-core finds on ``page`` as it is now."""
    if not AXE.is_file():
        message = "axe-core unavailable: run `npm ci --prefix tests/js`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    return list(found)
