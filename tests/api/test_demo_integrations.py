"""The demo's integrations: ``rencontres demo`` prints a read-only token that works
against the organiser API (and nothing more), and the webhooks page has an endpoint that
sends nothing (disabled: it points at example.org)."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from events.database import Database
from events.models import WebhookDelivery, WebhookEndpoint
from tests.api.conftest import bearer
from tests.web.conftest import Client
from tests.web.test_data_dir import SECRET
from web.cli import main


def test_the_demo_token_reads_events_and_nothing_more(
    tmp_path: Path, db: Database, database_url: str, client: Client
) -> None:
    env = {**SECRET, "DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url}
    result = CliRunner().invoke(main, ["demo"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    found = re.search(r"API token:\s+(rt_\S+)", result.output)
    assert found, result.output
    token = found.group(1)
    community = re.search(r"/api/v1/manage/([\w-]+)/events", result.output)
    assert community, result.output
    base = f"/api/v1/manage/{community.group(1)}"
    events = client.get(f"{base}/events", headers=bearer(token))
    assert events.status_code == 200, events.text
    assert events.json()["data"]
    slug = events.json()["data"][0]["slug"]
    refused = client.get(f"{base}/events/{slug}/registrations", headers=bearer(token))
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    with db.session() as session:
        endpoints = list(session.scalars(select(WebhookEndpoint)))
        queued = session.scalar(select(func.count()).select_from(WebhookDelivery))
    assert [(e.enabled, e.url.startswith("https://hooks.example.org/")) for e in endpoints] == [
        (False, True)
    ]
    assert queued == 0
