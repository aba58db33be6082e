"""Fixtures shared by the domain tests."""

from __future__ import annotations

import pytest

from events.services import door as door_module
from tests.conftest import TEST_DATABASE_URL

#: On PostgreSQL a door admission is one statement (events/services/door_admission.py)
#: unless switched off; tests that use ``admission_path`` run both ways there. SQLite has
#: the general path only.
ADMISSION_PATHS = ["one_statement", "general"] if TEST_DATABASE_URL else ["general"]


@pytest.fixture(params=ADMISSION_PATHS)
def admission_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    one_statement = request.param == "one_statement"
    monkeypatch.setattr(door_module, "ONE_STATEMENT_ADMISSION", one_statement)
    return str(request.param)
