"""Page weights: the bytes each kind of response takes on the wire, as it is, gzipped and
in brotli, on the demo data (``rencontres demo``), in process. Prints a Markdown table for
docs/performance.md.

    .venv/bin/python bench/page_weights.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from litestar.testing import TestClient
from sqlalchemy import select

from events.database import Database
from events.demo import seed_demo, today_in_paris
from events.models import Base, Community, Event, EventStatus
from web.app import create_app
from web.settings import Settings

CODINGS = ("identity", "gzip", "br")


def wire_bytes(client: TestClient, path: str, coding: str) -> tuple[int, str]:
    """Bytes of the body as sent for ``Accept-Encoding: coding``, and the coding sent."""
    with client.stream("GET", path, headers={"accept-encoding": coding}) as response:
        assert response.status_code == 200, (path, response.status_code)
        sent = b"".join(response.iter_raw())
        return len(sent), response.headers.get("content-encoding", "identity")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = Settings(
            data_dir=folder,
            database_url=f"sqlite:///{folder / 'weights.db'}",
            secret_key="page-weights-" + "x" * 40,
            base_url="https://meetups.example.org",
        )
        db = Database.from_url(settings.database_url)
        Base.metadata.create_all(db.engine)
        with db.transaction() as session:
            seed_demo(session, today=today_in_paris(), password="page-weights")
        with db.session() as session:
            community = session.scalars(select(Community)).first()
            event = session.scalars(
                select(Event).where(Event.status == EventStatus.PUBLISHED)
            ).first()
            assert community is not None and event is not None
            group, slug = community.slug, event.slug
        paths = [
            "/",
            f"/e/{slug}",
            f"/g/{group}",
            "/static/css/app.css",
            "/static/js/door.js",
            "/static/vendor/htmx-2.0.10.min.js",
            "/static/vendor/jsQR-1.4.0.js",
            "/api/v1/communities",
            "/feeds/all.ics",
            "/feeds/all.atom",
            f"/e/{slug}.ics",
        ]
        with TestClient(create_app(settings, db), base_url=settings.base_url) as client:
            print("| path | bytes raw | gzip | br |")
            print("|---|---:|---:|---:|")
            for path in paths:
                sizes = []
                for coding in CODINGS:
                    size, sent = wire_bytes(client, path, coding)
                    sizes.append(f"{size:,}" if sent == coding else f"{size:,} (not compressed)")
                shown = path.replace(slug, "{event}").replace(group, "{group}")
                print(f"| `{shown}` | {' | '.join(sizes)} |")
        db.dispose()


if __name__ == "__main__":
    main()
