"""(Being written.)"""

from __future__ import annotations

from litestar import Controller


class ManageEventsController(Controller):
    include_in_schema = False
