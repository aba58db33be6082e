"""A community's statistics.

- ``/g/{group}/stats``: the public page, charts (SVG, drawn here) with their numbers in a
  table beside them, small numbers suppressed (events/services/statistics.py);
- ``/g/{group}/stats.csv`` and ``.json``: the same table as open data, under the licence
  the deployment states (``OPEN_DATA_LICENCE``, sent as a ``Link: rel="license"`` header
  too);
- ``/manage/{community}/stats``: the organisers' version, every number, with walk-ins.

Public answers are reused while the content version, the minute and the language hold
(web/page_cache.py), like the home page: a cache miss reads every past registration of
the community once.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.models import Membership
from events.services.communities import CommunityService
from events.services.statistics import (
    MonthFigures,
    PublishedMonth,
    community_months,
)
from web.auth import Access, access
from web.charts import Series, bar_chart
from web.i18n import format_date
from web.i18n import gettext as _
from web.open_data import published_months, statistics_document
from web.page_cache import cached_html, render_to_string
from web.path_objects import MEMBERSHIP
from web.rendering import page
from web.settings import Settings

OPEN_DATA_CACHE_CONTROL = "public, max-age=300"


def month_label(month: date) -> str:
    return month.strftime("%Y-%m")


def public_charts(months: list[PublishedMonth]) -> list[Any]:
    labels = [month_label(m.month) for m in months]
    return [
        bar_chart(
            "chart-events",
            _("Events per month"),
            _("One bar per month; the numbers are in the table below."),
            labels,
            [Series(_("Events"), [m.events for m in months])],
        ),
        bar_chart(
            "chart-people",
            _("People registered and people who came, per month"),
            _(
                "Two bars per month; a month whose small numbers are hidden has no bar. "
                "The numbers are in the table below."
            ),
            labels,
            [
                Series(_("Registered"), [m.registered.value for m in months]),
                Series(_("Came"), [m.came.value for m in months]),
            ],
        ),
    ]


def organiser_charts(months: list[MonthFigures]) -> list[Any]:
    labels = [month_label(m.month) for m in months]
    return [
        bar_chart(
            "chart-people",
            _("People registered and people who came, per month"),
            _("Two bars per month; the numbers are in the table below."),
            labels,
            [
                Series(_("Registered"), [m.registered for m in months]),
                Series(_("Came"), [m.came for m in months]),
            ],
        ),
        bar_chart(
            "chart-returning",
            _("New and returning people, per month"),
            _("Two bars per month; the numbers are in the table below."),
            labels,
            [
                Series(_("New"), [m.new for m in months]),
                Series(_("Returning"), [m.returning for m in months]),
            ],
        ),
    ]


def csv_columns() -> list[tuple[str, str]]:
    return [
        ("month", _("Month")),
        ("events", _("Events")),
        ("registered", _("Registered")),
        ("came", _("Came")),
        ("no_shows", _("No-shows")),
        ("no_show_rate_percent", _("No-show rate (%)")),
        ("new", _("New people")),
        ("returning", _("Returning people")),
        ("promotions", _("Places from the waiting list")),
        ("proposals", _("Proposals")),
        ("matches", _("Offers & needs matches")),
    ]


def open_data_csv(document: dict[str, Any]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = csv_columns()
    writer.writerow([key for key, _label in columns])
    for month in document["months"]:
        writer.writerow(["" if month[key] is None else month[key] for key, _label in columns])
    return buffer.getvalue().encode("utf-8")


class StatisticsController(Controller):
    include_in_schema = False

    @get("/g/{group:str}/stats", opt=access(Access.PUBLIC), sync_to_thread=True)
    def public(
        self, request: Request, group: FromPath[str], db_session: NamedDependency[Session]
    ) -> Template:
        community = CommunityService(db_session).by_slug(group)
        settings: Settings = request.app.state.settings

        def render() -> str:
            months = published_months(db_session, community)
            return render_to_string(
                request,
                "statistics/_public.html",
                community=community,
                months=months,
                charts=public_charts(months),
                licence=settings.open_data_licence,
                licence_url=settings.open_data_licence_url,
                first=format_date(months[0].month, style="medium") if months else "",
            )

        html = cached_html(request, ("stats", community.slug), render)
        return page(request, "statistics/public.html", community=community, main_html=html)

    def _open_data(self, request: Request, session: Session, slug: str, kind: str) -> Response:
        community = CommunityService(session).by_slug(slug)

        def build() -> bytes:
            document = statistics_document(request, community, published_months(session, community))
            if kind == "csv":
                return open_data_csv(document)
            return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")

        body = cached_html(request, ("stats", community.slug, kind), build)
        settings: Settings = request.app.state.settings
        return Response(
            body,
            media_type="text/csv" if kind == "csv" else MediaType.JSON,
            headers={
                "cache-control": OPEN_DATA_CACHE_CONTROL,
                "link": f'<{settings.open_data_licence_url}>; rel="license"',
                "content-disposition": f'inline; filename="{community.slug}-stats.{kind}"',
            },
        )

    @get("/g/{group:str}/stats.csv", opt=access(Access.PUBLIC), sync_to_thread=True)
    def public_csv(
        self, request: Request, group: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response:
        return self._open_data(request, db_session, group, "csv")

    @get("/g/{group:str}/stats.json", opt=access(Access.PUBLIC), sync_to_thread=True)
    def public_json(
        self, request: Request, group: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response:
        return self._open_data(request, db_session, group, "json")


class ManageStatisticsController(Controller):
    path = "/manage/{community:str}/stats"
    include_in_schema = False
    dependencies = MEMBERSHIP

    @get("/", opt=access(Access.ORGANISER), sync_to_thread=True)
    def index(
        self,
        request: Request,
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        months = community_months(db_session, membership.community, now=utcnow())
        return page(
            request,
            "statistics/manage.html",
            community=membership.community,
            months=months,
            charts=organiser_charts(months),
        )
