"""(Being written.)"""

from __future__ import annotations

from litestar import Controller


class ManageSeriesController(Controller):
    include_in_schema = False
