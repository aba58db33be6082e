"""The organisers' side of an event's offers & needs
(``/manage/{community}/events/{event}/offers``), or a series' (``/manage/{community}/series/
{series}/offers``, one board for every occurrence): switch it on with a preset's categories,
make it public or not, choose how long listings outlive the event, switch it off; see the
counts, and print them; add, edit and remove the board's categories and their structured
fields (``/categories/...``: plain forms, errors next to each field, a page that asks
before a category is removed).

Organisers see counts only (listings per category and side, people taking part,
requests, matches): never a message, never who wrote to or matched with whom
(events/services/exchange_boards.py). The page says so. Their moderation queue shows the
reported listings and the reported people (a pseudonym, how many people reported their
messages, whether suspended: never the messages), with plain forms to hide, suspend or
restore (events/services/exchange_reports.py).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, SkipValidation, URLEncodedBody
from litestar.response import Redirect, Response, Template
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import Conflict, NotFound, ValidationFailed
from events.models import Community, Event, Membership, Series
from events.services.exchange_boards import MAX_EXPIRE_DAYS, BoardSettings, ExchangeBoardService
from events.services.exchange_categories import (
    MAX_FIELDS,
    PRESETS,
    Category,
    CategoryInput,
    FieldInput,
    FieldKind,
)
from events.services.exchange_reports import (
    moderate,
    moderate_person,
    reported_listings,
    reported_people,
)
from web.auth import Access, access
from web.forms import Form, form_list
from web.i18n import current_locale
from web.i18n import gettext as _
from web.messages import error_message, field_errors
from web.path_objects import MANAGED_EVENT, MANAGED_SERIES, MEMBERSHIP
from web.rendering import flash, page

PAGE = "manage/offers.html"


class SwitchOnForm(Form):
    preset: str = ""


class ModerationForm(Form):
    listing: str = ""
    #: "hide" or "restore".
    action: str = ""


class PersonModerationForm(Form):
    participant: str = ""
    #: "suspend" or "restore".
    action: str = ""


class SettingsForm(Form):
    public: str = ""
    expire_days: str = ""


class CategoryForm(Form):
    """A category's names; its field rows come as the repeated ``field_kind``,
    ``field_label`` and ``field_options`` (one of each per row, in order)."""

    label: str = ""
    offer: str = ""
    need: str = ""

    def __post_init__(self) -> None:
        return None  # clean_text reports a NUL next to the field


CATEGORY_PAGE = "manage/offers_category.html"
#: The field rows a category form offers (empty ones are skipped).
FIELD_ROWS = MAX_FIELDS


def category_values(category: Category | None) -> dict[str, Any]:
    """The category form's values for ``category`` (None: a new one), with its rows."""
    rows: list[dict[str, str]] = []
    if category is not None:
        rows = [
            {"kind": f.kind.value, "label": f.label, "options": ", ".join(f.options)}
            for f in category.fields
        ]
    rows += [{"kind": "", "label": "", "options": ""}] * (FIELD_ROWS - len(rows))
    return {
        "label": category.label if category else "",
        "offer": category.offer if category else "",
        "need": category.need if category else "",
        "rows": rows[:FIELD_ROWS],
    }


def category_input(
    data: CategoryForm, kinds: list[str], labels: list[str], options: list[str]
) -> CategoryInput:
    """What the form sent, as the domain takes it (rows beyond the form's are dropped)."""
    rows = [
        FieldInput(kind, label, option)
        for kind, label, option in zip(kinds, labels, options, strict=False)
    ]
    return CategoryInput(data.label, data.offer, data.need, rows[:FIELD_ROWS])


CATEGORY_ROWS = {
    "field_kinds": Provide(form_list("field_kind")),
    "field_labels": Provide(form_list("field_label")),
    "field_options": Provide(form_list("field_options")),
}


def owner_url(community: Community, owner: Event | Series) -> str:
    """The organisers' page of the event or series the board belongs to."""
    kind = "events" if isinstance(owner, Event) else "series"
    return f"/manage/{community.slug}/{kind}/{owner.slug}"


def page_url(community: Community, owner: Event | Series) -> str:
    return f"{owner_url(community, owner)}/offers"


class ManageOffersController(Controller):
    """An event's own board. :class:`ManageSeriesOffersController` is the same for a
    series (its board is shared by every occurrence): the handlers name the event or
    series ``board_owner`` (``SkipValidation``: msgspec cannot check a union of two
    models, and the provider already returned the right one)."""

    path = "/manage/{community:str}/events/{event:str}/offers"
    include_in_schema = False
    dependencies = {**MEMBERSHIP, "board_owner": MANAGED_EVENT["managed_event"]}

    def _render(
        self,
        request: Request,
        session: Session,
        community: Community,
        owner: Event | Series,
        *,
        template: str = PAGE,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        locale = current_locale.get()
        overview = ExchangeBoardService(session).overview(owner, utcnow())
        board = overview.board
        return page(
            request,
            template,
            status_code=status_code,
            community=community,
            owner=owner,
            owner_url=owner_url(community, owner),
            is_series=not isinstance(owner, Event),
            overview=overview,
            reported=reported_listings(session, board) if board is not None else [],
            reported_people=reported_people(session, board) if board is not None else [],
            presets={preset.id: preset.name(locale) for preset in PRESETS.values()},
            max_days=MAX_EXPIRE_DAYS,
            values=values or {},
            errors=errors or {},
        )

    def _done(
        self,
        request: Request,
        community: Community,
        owner: Event | Series,
        message: str,
        level: str = "success",
    ) -> Redirect:
        flash(request, message, level)
        return Redirect(page_url(community, owner), status_code=303)

    @get("/", opt=access(Access.ORGANISER), sync_to_thread=True)
    def index(
        self,
        request: Request,
        board_owner: NamedDependency[SkipValidation[Event | Series]],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        return self._render(request, db_session, membership.community, board_owner)

    @get("/summary", opt=access(Access.ORGANISER), sync_to_thread=True)
    def summary(
        self,
        request: Request,
        board_owner: NamedDependency[SkipValidation[Event | Series]],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        return self._render(
            request,
            db_session,
            membership.community,
            board_owner,
            template="manage/offers_summary.html",
        )

    @post("/on", opt=access(Access.ORGANISER), sync_to_thread=True)
    def switch_on(
        self,
        request: Request,
        board_owner: NamedDependency[SkipValidation[Event | Series]],
        data: URLEncodedBody[SwitchOnForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any] | Template:
        community = membership.community
        try:
            ExchangeBoardService(db_session).switch_on_for(
                community, board_owner, data.preset, current_locale.get()
            )
        except ValidationFailed as failed:
            return self._render(
                request,
                db_session,
                community,
                board_owner,
                values={"preset": data.preset},
                errors=field_errors(failed.errors),
                status_code=400,
            )
        return self._done(request, community, board_owner, _("Offers & needs are on."))

    @post("/off", opt=access(Access.ORGANISER), sync_to_thread=True)
    def switch_off(
        self,
        request: Request,
        board_owner: NamedDependency[SkipValidation[Event | Series]],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        service = ExchangeBoardService(db_session)
        service.switch_off(service.board_of(board_owner))
        message = _("Offers & needs are off: nobody sees the board until you switch it on again.")
        return self._done(request, membership.community, board_owner, message)

    @post("/settings", opt=access(Access.ORGANISER), sync_to_thread=True)
    def settings(
        self,
        request: Request,
        board_owner: NamedDependency[SkipValidation[Event | Series]],
        data: URLEncodedBody[SettingsForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any] | Template:
        community = membership.community
        service = ExchangeBoardService(db_session)
        try:
            service.configure(
                service.board_of(board_owner), BoardSettings(data.public, data.expire_days)
            )
        except ValidationFailed as failed:
            return self._render(
                request,
                db_session,
                community,
                board_owner,
                values={"public": data.public, "expire_days": data.expire_days},
                errors=field_errors(failed.errors),
                status_code=400,
            )
        return self._done(request, community, board_owner, _("Settings saved."))

    @post("/moderate", opt=access(Access.ORGANISER), sync_to_thread=True)
    def moderate(
        self,
        request: Request,
        board_owner: NamedDependency[SkipValidation[Event | Series]],
        data: URLEncodedBody[ModerationForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        community = membership.community
        board = ExchangeBoardService(db_session).board_of(board_owner)
        hide = data.action == "hide"
        try:
            moderate(db_session, board, data.listing, hide=hide)
        except NotFound:
            gone = _("This listing no longer exists.")
            return self._done(request, community, board_owner, gone, "error")
        done = _("The listing is hidden.") if hide else _("The listing is back on the board.")
        return self._done(request, community, board_owner, done)

    @post("/people", opt=access(Access.ORGANISER), sync_to_thread=True)
    def moderate_person(
        self,
        request: Request,
        board_owner: NamedDependency[SkipValidation[Event | Series]],
        data: URLEncodedBody[PersonModerationForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        """Suspend someone whose messages were reported, or restore them (their reports
        are forgotten): events/services/exchange_reports.py."""
        community = membership.community
        board = ExchangeBoardService(db_session).board_of(board_owner)
        suspend = data.action == "suspend"
        try:
            moderate_person(db_session, board, data.participant, suspend=suspend)
        except NotFound:
            gone = _("This person is no longer on the board.")
            return self._done(request, community, board_owner, gone, "error")
        done = (
            _(
                "Suspended: the others no longer see their listings, and they cannot "
                "write to anyone."
            )
            if suspend
            else _("Restored: the reports against them are forgotten.")
        )
        return self._done(request, community, board_owner, done)

    # -- categories ---------------------------------------------------------------------
    def _category_page(
        self,
        request: Request,
        community: Community,
        owner: Event | Series,
        *,
        category: Category | None,
        values: dict[str, Any],
        errors: dict[str, str] | None = None,
        removing: bool = False,
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            CATEGORY_PAGE,
            status_code=status_code,
            community=community,
            owner=owner,
            owner_url=owner_url(community, owner),
            category=category,
            values=values,
            errors=errors or {},
            removing=removing,
            kinds=[kind.value for kind in FieldKind],
        )

    def _refused_category(
        self,
        request: Request,
        community: Community,
        owner: Event | Series,
        category: Category | None,
        data: CategoryForm,
        rows: tuple[list[str], list[str], list[str]],
        failed: ValidationFailed | Conflict,
    ) -> Template:
        sent = category_input(data, *rows)
        values = {
            "label": data.label,
            "offer": data.offer,
            "need": data.need,
            "rows": [{"kind": r.kind, "label": r.label, "options": r.options} for r in sent.fields]
            + [{"kind": "", "label": "", "options": ""}] * (FIELD_ROWS - len(sent.fields)),
        }
        if isinstance(failed, Conflict):
            errors = {"form": error_message(failed.code)}
        else:
            errors = field_errors(failed.errors)
        return self._category_page(
            request,
            community,
            owner,
            category=category,
            values=values,
            errors=errors,
            status_code=400,
        )

    @get("/categories/new", opt=access(Access.ORGANISER), sync_to_thread=True)
    def new_category(
        self,
        request: Request,
        board_owner: NamedDependency[SkipValidation[Event | Series]],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        ExchangeBoardService(db_session).board_of(board_owner)
        return self._category_page(
            request,
            membership.community,
            board_owner,
            category=None,
            values=category_values(None),
        )

    @post(
        "/categories/new",
        opt=access(Access.ORGANISER),
        sync_to_thread=True,
        dependencies=CATEGORY_ROWS,
    )
    def add_category(
        self,
        request: Request,
        board_owner: NamedDependency[SkipValidation[Event | Series]],
        data: URLEncodedBody[CategoryForm],
        field_kinds: NamedDependency[list[str]],
        field_labels: NamedDependency[list[str]],
        field_options: NamedDependency[list[str]],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any] | Template:
        community = membership.community
        service = ExchangeBoardService(db_session)
        rows = (field_kinds, field_labels, field_options)
        try:
            service.add_category(service.board_of(board_owner), category_input(data, *rows))
        except (ValidationFailed, Conflict) as failed:
            return self._refused_category(request, community, board_owner, None, data, rows, failed)
        return self._done(request, community, board_owner, _("Category added."))

    @get("/categories/{category:str}", opt=access(Access.ORGANISER), sync_to_thread=True)
    def edit_category_form(
        self,
        request: Request,
        board_owner: NamedDependency[SkipValidation[Event | Series]],
        category: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        service = ExchangeBoardService(db_session)
        found = service.category(service.board_of(board_owner), category)
        return self._category_page(
            request,
            membership.community,
            board_owner,
            category=found,
            values=category_values(found),
        )

    @post(
        "/categories/{category:str}",
        opt=access(Access.ORGANISER),
        sync_to_thread=True,
        dependencies=CATEGORY_ROWS,
    )
    def edit_category(
        self,
        request: Request,
        board_owner: NamedDependency[SkipValidation[Event | Series]],
        category: FromPath[str],
        data: URLEncodedBody[CategoryForm],
        field_kinds: NamedDependency[list[str]],
        field_labels: NamedDependency[list[str]],
        field_options: NamedDependency[list[str]],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any] | Template:
        community = membership.community
        service = ExchangeBoardService(db_session)
        board = service.board_of(board_owner)
        found = service.category(board, category)
        rows = (field_kinds, field_labels, field_options)
        try:
            service.edit_category(board, category, category_input(data, *rows))
        except ValidationFailed as failed:
            return self._refused_category(
                request, community, board_owner, found, data, rows, failed
            )
        return self._done(request, community, board_owner, _("Category saved."))

    @get("/categories/{category:str}/remove", opt=access(Access.ORGANISER), sync_to_thread=True)
    def confirm_remove_category(
        self,
        request: Request,
        board_owner: NamedDependency[SkipValidation[Event | Series]],
        category: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        service = ExchangeBoardService(db_session)
        found = service.category(service.board_of(board_owner), category)
        return self._category_page(
            request,
            membership.community,
            board_owner,
            category=found,
            values=category_values(found),
            removing=True,
        )

    @post("/categories/{category:str}/remove", opt=access(Access.ORGANISER), sync_to_thread=True)
    def remove_category(
        self,
        request: Request,
        board_owner: NamedDependency[SkipValidation[Event | Series]],
        category: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        service = ExchangeBoardService(db_session)
        service.remove_category(service.board_of(board_owner), category)
        message = _("Category removed. Listings already posted in it stay until they expire.")
        return self._done(request, membership.community, board_owner, message)


class ManageSeriesOffersController(ManageOffersController):
    path = "/manage/{community:str}/series/{series:str}/offers"
    dependencies = {**MEMBERSHIP, "board_owner": MANAGED_SERIES["managed_series"]}
