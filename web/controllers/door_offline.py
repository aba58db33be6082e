"""What keeps the door working offline (``/door/{event}/snapshot.json`` and ``/sw.js``):
the door snapshot (salted ticket hashes, first names, what a scan would answer) and the
service worker that keeps the scanner page (docs/door.md, "Offline")."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.orm import Session

from events.services.door import DoorService
from web.auth import Access, access
from web.door.access import DOOR_DEPENDENCIES, DoorAccess, door_opt
from web.door.answers import json_answer

SERVICE_WORKER = Path(__file__).resolve().parents[2] / "static" / "js" / "door-sw.js"
_SLUG = re.compile(r"[\w-]{1,120}")


class DoorOfflineController(Controller):
    path = "/door/{event:str}"
    include_in_schema = False
    dependencies = DOOR_DEPENDENCIES

    @get("/snapshot.json", opt=door_opt(json_only=True), sync_to_thread=True)
    def snapshot(
        self, door: NamedDependency[DoorAccess], db_session: NamedDependency[Session]
    ) -> Response[Any]:
        return json_answer(DoorService(db_session).snapshot(door.event))

    @get("/sw.js", opt=access(Access.PUBLIC), sync_to_thread=True)
    def service_worker(self, event: FromPath[str]) -> Response[bytes]:
        """The offline worker, served from the door's own path so that its scope can cover
        ``/door/{event}`` (a worker under /static/ could only control /static/)."""
        slug = event if _SLUG.fullmatch(event) else "_"
        return Response(
            SERVICE_WORKER.read_bytes(),
            media_type="text/javascript; charset=utf-8",
            headers={
                "service-worker-allowed": f"/door/{slug}",
                "cache-control": "no-cache",
            },
        )
