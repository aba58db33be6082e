"""The API's contract: the OpenAPI document is valid OpenAPI 3.1 and every operation shows
examples; Schemathesis (property-based requests built from the document) drives the live
server, public and token API alike, and finds no 5xx and no answer that breaks the schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from events.clock import utcnow
from events.database import Database
from events.demo_open_space import seed_open_space
from events.models import Community, Scope, User
from events.services.api_tokens import ApiTokenService
from events.services.proposal_calls import CallInput, CallService
from events.services.registrations import RegistrationInput, RegistrationService
from tests.api.conftest import make_event
from tests.browser.conftest import (  # noqa: F401 - the fixtures
    LiveServer,
    _browser_postgres,
    _servers,
    live_server,
    migrated_sqlite,
)
from tests.factories import Factories
from web.app import create_app
from web.settings import Settings

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def test_the_document_is_valid_openapi_31_with_examples_everywhere(settings: Settings) -> None:
    document = create_app(settings).openapi_schema.to_schema()
    validate(document)
    assert document["openapi"].startswith("3.1")
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]
    assert len(operations) >= 20
    for path, method, operation in operations:
        assert path.startswith("/api/v1/"), path
        success = [r for code, r in operation["responses"].items() if code.startswith("2")]
        assert success, (method, path)
        for response in success:
            content = response.get("content", {})
            assert any(media.get("examples") for media in content.values()), (method, path)
        if path.startswith("/api/v1/manage/"):
            assert operation.get("security") == [{"bearer": []}], (method, path)


def _seed(db: Database, make: Factories) -> dict[str, str]:
    owner = make.user()
    community = make.community(owner=owner, slug="coloc")
    make_event(db, "coloc", title="Draft", publish=False)
    with db.transaction() as session:
        # The event has an open-space board, and the community a call for proposals, so
        # the board's, the calls' and the statistics' operations answer too.
        here = session.get(Community, community.id)
        assert here is not None
        event = seed_open_space(session, here, day=date(2030, 5, 16), participants=6).event
        today = utcnow().date()
        call = CallService(session).create(
            here,
            CallInput(
                title="What next?",
                kinds=["topic", "talk"],
                opens_local=f"{today - timedelta(days=1)}T09:00",
                closes_local=f"{today + timedelta(days=30)}T23:59",
                support_budget="5",
            ),
        )
        result = RegistrationService(session).register(
            event, RegistrationInput(name="Bo", email="bo@example.org", consent="on")
        )
        stored = session.get(User, owner.id)
        assert stored is not None
        token = ApiTokenService(session).create(
            stored, "coloc", name="contract", scopes=list(Scope), expires_on="", now=utcnow()
        )
    return {
        "token": token.plain,
        "event": event.slug,
        "registration": str(result.registration.id),
        "call": call.slug,
    }


@pytest.mark.slow  # a long property-based run: it starts first
def test_schemathesis_finds_no_server_error_and_no_schema_breach(
    live_server: LiveServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    db = Database.from_url(live_server.database_url)
    seeded = _seed(db, Factories(db))
    db.dispose()
    # Known identifiers, so the generated requests reach the handlers rather than 404s.
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        "[parameters]\n"
        '"path.community" = "coloc"\n'
        f'"path.event" = "{seeded["event"]}"\n'
        f'"path.registration" = "{seeded["registration"]}"\n'
        f'"path.call" = "{seeded["call"]}"\n'
    )
    report = tmp_path / "report.json"
    with urllib.request.urlopen(f"{live_server.url}/schema/openapi.json") as answer:
        assert json.load(answer)["openapi"].startswith("3.1")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(config),
            "run",
            f"{live_server.url}/schema/openapi.json",
            "--header",
            f"Authorization: Bearer {seeded['token']}",
            "--checks",
            "not_a_server_error,response_schema_conformance,content_type_conformance,"
            "status_code_conformance",
            "--max-examples",
            os.environ.get("SCHEMATHESIS_EXAMPLES", "20"),
            "--seed",
            "19",
            "--generation-deterministic",
            "--report",
            "ndjson",
            "--report-ndjson-path",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,  # its cache (.schemathesis/) stays out of the repository
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "generated" in run.stdout
