"""Fixtures shared by the domain tests."""

from __future__ import annotations

import pytest

from events.services import door as door_module

#: A door admission goes the direct way (events/services/door_admission.py: one statement
#: on PostgreSQL, two on SQLite) unless switched off; tests that use ``admission_path``
#: run both ways, so the general path stays covered on both databases.
ADMISSION_PATHS = ["direct", "general"]


@pytest.fixture(params=ADMISSION_PATHS)
def admission_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(door_module, "DIRECT_ADMISSION", request.param == "direct")
    return str(request.param)
