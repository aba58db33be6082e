"""Route handlers, split by audience: public, accounts, organiser, invitations, API."""

from web.controllers.accounts import AccountController
from web.controllers.api import ApiController
from web.controllers.health import healthz, readyz
from web.controllers.invitations import InvitationController
from web.controllers.manage import ManageController
from web.controllers.public import home, switch_language

ROUTE_HANDLERS = [
    healthz,
    readyz,
    home,
    switch_language,
    AccountController,
    ManageController,
    InvitationController,
    ApiController,
]
