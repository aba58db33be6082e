"""Run ical.js, the iCalendar parser of Thunderbird-family clients, from the Python tests.

The Node side lives in ``tests/js`` (``expand.mjs`` and a ``package.json`` pinning ical.js).
Install it once with ``npm ci --prefix tests/js``; without it the ical.js tests skip locally
and fail when the ``CI`` environment variable is set (see :func:`require_ical_js`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

JS_DIR = Path(__file__).resolve().parent / "js"
EXPAND_SCRIPT = JS_DIR / "expand.mjs"
ICAL_JS_PACKAGE = JS_DIR / "node_modules" / "ical.js" / "package.json"
INSTALL_HINT = "run `npm ci --prefix tests/js` (needs node and npm)"
TIMEOUT_SECONDS = 60


def _node() -> str | None:
    """Path of the ``node`` executable, if any."""
    return shutil.which("node")


def ical_js_available() -> bool:
    """Whether node is on the PATH and ical.js is installed under ``tests/js/node_modules``."""
    return _node() is not None and ICAL_JS_PACKAGE.is_file() and EXPAND_SCRIPT.is_file()


def require_ical_js() -> None:
    """Skip the calling test when ical.js is missing, or fail it if the ``CI`` env var is set."""
    if ical_js_available():
        return
    message = f"ical.js harness unavailable: {INSTALL_HINT}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def expand_with_ical_js(ics: bytes, until: str) -> list[dict[str, Any]]:
    """Expand the VEVENTs of ``ics`` with ical.js up to ``until`` and return its JSON records.

    ``until`` is a UTC instant (``2028-12-31T23:59:59Z``) or a date (``2028-12-31``, through
    the end of that day in UTC). Each record has ``uid``, ``recurrence_id``, ``summary``,
    ``status``, ``sequence``, ``start``, ``end`` (UTC, ``YYYY-MM-DDTHH:MM:SSZ``), ``all_day``
    and ``start_tzid`` (``"floating"`` when ical.js found no VTIMEZONE for the TZID).
    Raises ``RuntimeError`` with node's stderr if the script fails.
    """
    node = _node()
    if node is None or not ical_js_available():
        raise RuntimeError(f"ical.js harness unavailable: {INSTALL_HINT}")
    completed = subprocess.run(
        [node, str(EXPAND_SCRIPT), until],
        input=ics,
        capture_output=True,
        timeout=TIMEOUT_SECONDS,
        env={**os.environ, "TZ": "UTC"},
        check=False,
    )
    if completed.returncode != 0:
        stderr = completed.stderr.decode("utf-8", "replace")
        raise RuntimeError(f"expand.mjs exited with {completed.returncode}: {stderr}")
    records: list[dict[str, Any]] = json.loads(completed.stdout)
    return records
