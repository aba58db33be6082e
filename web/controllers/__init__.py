"""Route handlers, split by audience: public, accounts, organiser, invitations, API."""

from web.controllers.accounts import AccountController
from web.controllers.api import ApiController
from web.controllers.confirmations import ConfirmationController
from web.controllers.door import DoorController
from web.controllers.feeds import FeedsController
from web.controllers.follows import ROUTE_HANDLERS as FOLLOW_HANDLERS
from web.controllers.health import healthz, readyz
from web.controllers.invitations import InvitationController
from web.controllers.manage import ManageController
from web.controllers.manage_attendees import ManageAttendeesController
from web.controllers.manage_door import ManageDoorController
from web.controllers.manage_events import ManageEventsController
from web.controllers.manage_imports import ManageImportsController
from web.controllers.manage_outbox import ManageOutboxController
from web.controllers.manage_proposals import ManageModerationController, ManageProposalsController
from web.controllers.manage_questions import ManageQuestionsController
from web.controllers.manage_series import ManageSeriesController
from web.controllers.manage_venues import ManageVenuesController
from web.controllers.proposal_calls import ProposalCallsController
from web.controllers.proposals import ProposalsController, take_part_with_ticket
from web.controllers.proposers import ProposerController
from web.controllers.public import switch_language
from web.controllers.public_events import PublicEventsController
from web.controllers.registrations import RegistrationController

ROUTE_HANDLERS = [
    healthz,
    readyz,
    switch_language,
    PublicEventsController,
    RegistrationController,
    FeedsController,
    ProposalCallsController,
    ProposalsController,
    take_part_with_ticket,
    ConfirmationController,
    ProposerController,
    *FOLLOW_HANDLERS,
    ManageEventsController,
    ManageImportsController,
    ManageAttendeesController,
    ManageDoorController,
    DoorController,
    ManageQuestionsController,
    ManageOutboxController,
    ManageProposalsController,
    ManageModerationController,
    ManageSeriesController,
    ManageVenuesController,
    AccountController,
    ManageController,
    InvitationController,
    ApiController,
]
